// crash's CPU lists, as `runq -c`, `timer -C` and `irq -c` take them:
// "1", "1,3,5", "1-3", "1,3,5-7,10", "all" or "a".
//
//   std::vector<int> cpus = parse_cpu_list("0,2-3", 4);  // {0, 2, 3}
#pragma once

#include <string_view>
#include <vector>

namespace kdive {

// The CPUs named, in increasing order without repeats. Throws CommandError
// naming the list when it does not parse or names a CPU at or past
// `cpu_count`.
std::vector<int> parse_cpu_list(std::string_view spec, int cpu_count);

}  // namespace kdive
