#include "kernel-model/task_details.hpp"

#include <fmt/format.h>

#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// include/uapi/asm-generic/resource.h: the order of signal->rlim[].
const char* const kRlimitNames[] = {"CPU",     "FSIZE", "DATA",  "STACK",      "CORE",     "RSS",  "NPROC",  "NOFILE",
                                    "MEMLOCK", "AS",    "LOCKS", "SIGPENDING", "MSGQUEUE", "NICE", "RTPRIO", "RTTIME"};

constexpr size_t kMaxArgBytes = 1 << 20;

std::vector<std::string> split_nul(const std::string& block) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < block.size()) {
    size_t end = block.find('\0', start);
    if (end == std::string::npos) end = block.size();
    if (end > start) out.push_back(block.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

uint64_t uptime_ns(const Kernel& k) {
  uint64_t latest = 0;
  int cpus = 1;
  if (auto a = k.symbols().address("nr_cpu_ids")) cpus = static_cast<int>(k.memory().read<uint32_t>(*a));
  for (int cpu = 0; cpu < cpus; ++cpu) {
    try {
      latest = std::max(latest, k.object(k.per_cpu("runqueues", cpu), "struct rq")["clock"].as_u64());
    } catch (const ModelError&) {
      // A CPU whose runqueue cannot be read does not move "now".
    }
  }
  return latest;
}

TaskTimes task_times(const Kernel& k, const Task& t) {
  uint64_t now = uptime_ns(k);
  return TaskTimes{now > t.start_time ? now - t.start_time : 0, t.start_time, t.utime, t.stime};
}

TaskArguments task_arguments(const Kernel& k, const Task& t) {
  AddressSpace space = AddressSpace::of_task(k, t);
  Object mm = k.object(t.mm, "struct mm_struct");
  auto block = [&](const char* start, const char* end) {
    VirtAddr s{mm[start].as_u64()}, e{mm[end].as_u64()};
    if (e <= s) return std::string();
    std::string bytes(std::min<uint64_t>(e - s, kMaxArgBytes), '\0');
    space.read(s, {reinterpret_cast<std::byte*>(bytes.data()), bytes.size()});
    return bytes;
  };
  return TaskArguments{split_nul(block("arg_start", "arg_end")), split_nul(block("env_start", "env_end"))};
}

std::vector<Rlimit> task_rlimits(const Kernel& k, const Task& t) {
  Object rlim = k.object(t.address, "struct task_struct")["signal"]["rlim"];
  std::vector<Rlimit> out;
  uint64_t n = rlim.type().strip().count().value_or(0);
  for (uint64_t i = 0; i < n && i < std::size(kRlimitNames); ++i) {
    Object r = rlim.at(i);
    out.push_back({kRlimitNames[i], r["rlim_cur"].as_u64(), r["rlim_max"].as_u64()});
  }
  return out;
}

}  // namespace kdive
