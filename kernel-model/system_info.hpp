// SystemInfo: the facts `sys` reports about a crashed kernel — identity (utsname),
// CPUs, memory size, crash time, the panic message — each taken from the dump,
// with the source noted where several exist. Fields that cannot be read are empty.
//
//   SystemInfo s = read_system_info(kernel);
//   s.release;        // "6.1.0-56-cloud-amd64"
//   s.panic_message;  // "Kernel panic - not syncing: sysrq triggered crash"
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kdive {

class Kernel;

struct SystemInfo {
  std::string sysname, nodename, release, version, machine, domainname;  // init_uts_ns
  std::optional<int> cpus;          // nr_cpu_ids
  std::optional<int> online_cpus;   // weight of cpu_online_mask at the crash
  std::optional<uint64_t> memory_bytes;  // usable RAM (the e820 map), else the dump's ranges
  std::optional<int64_t> crash_time;     // seconds since the epoch
  std::optional<uint32_t> cpu_khz;       // tsc_khz
  std::optional<std::string> panic_message;
  std::optional<int> panic_cpu;
};

SystemInfo read_system_info(const Kernel& kernel);

}  // namespace kdive
