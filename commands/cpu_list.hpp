// crash's CPU lists, as `runq -c`, `timer -C` and `irq -c` take them:
// "1", "1,3,5", "1-3", "1,3,5-7,10", "all" or "a".
//
//   std::vector<int> cpus = parse_cpu_list("0,2-3", 4);  // {0, 2, 3}
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kdive {

// The CPUs named, in increasing order without repeats. Throws CommandError
// naming the list when it does not parse or names a CPU at or past
// `cpu_count`.
std::vector<int> parse_cpu_list(std::string_view spec, int cpu_count);

// crash's ":cpuspec" suffix on a per-CPU symbol or offset, as struct, p and
// ptov take it: "runqueues:1", "runqueues:a", and "runqueues:" for the CPU of
// the current context.
struct CpuSuffix {
  std::string base;                 // the word before the colon (all of it without one)
  std::optional<std::string> cpus;  // after the colon; "" when nothing follows it
};
CpuSuffix split_cpu_suffix(std::string_view word);
// The CPUs of a suffix: an empty one names `current_cpu`, else as parse_cpu_list.
std::vector<int> parse_cpu_spec(std::string_view spec, int cpu_count, int current_cpu);

}  // namespace kdive
