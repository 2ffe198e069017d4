#include "commands/offline_cpus.hpp"

#include <algorithm>

#include "commands/api/session.hpp"
#include "kernel-model/cpu_mask.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {

OfflineCpus::OfflineCpus(const Session& session) {
  if (!session.settings().hide_offline) return;
  const Kernel& k = session.kernel();
  online_ = read_online_cpus(k, possible_cpus(k));
}

bool OfflineCpus::hidden(int cpu) const {
  return online_ && !std::binary_search(online_->begin(), online_->end(), cpu);
}

}  // namespace kdive
