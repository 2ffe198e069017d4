// `set offline hide`: the CPUs that per-CPU commands (runq, timer, irq -s,
// kmem -o, mach, ptov and struct/p with :cpuspec, set -c, bt -c) show as
// crash does, "[OFFLINE]" in place of their data. An offline CPU is one not in
// cpu_online_mask at the crash; panic's stop of the other CPUs takes them out
// of it on some kernels, so a CPU busy until the crash can be one.
//
//   OfflineCpus offline(session);
//   if (offline.hidden(cpu)) out.print("CPU {} [OFFLINE]\n", cpu);
#pragma once

#include <optional>
#include <vector>

namespace kdive {

class Session;

class OfflineCpus {
 public:
  // Reads the mask only when `set offline hide` is on. A mask that cannot be
  // read hides nothing: kdive cannot tell which CPUs were offline.
  explicit OfflineCpus(const Session& session);

  bool hidden(int cpu) const;

 private:
  std::optional<std::vector<int>> online_;
};

}  // namespace kdive
