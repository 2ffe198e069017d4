// SystemInfo: the facts `sys` reports about a crashed kernel — identity (utsname),
// CPUs, memory size, crash time, the panic message — each taken from the dump,
// with the source noted where several exist. Fields that cannot be read are empty.
//
//   SystemInfo s = read_system_info(kernel);
//   s.release;        // "6.1.0-56-cloud-amd64"
//   s.panic_message;  // "Kernel panic - not syncing: sysrq triggered crash"
//   s.uptime_sec;     // 18
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace kdive {

class Kernel;

struct SystemInfo {
  std::string sysname, nodename, release, version, machine, domainname;  // init_uts_ns
  std::optional<int> cpus;                                               // nr_cpu_ids
  std::optional<int> online_cpus;                                        // weight of cpu_online_mask at the crash
  std::optional<uint64_t> memory_bytes;            // usable RAM (the e820 map), else the dump's ranges
  std::optional<int64_t> crash_time;               // seconds since the epoch (the wall clock at the crash)
  std::optional<int64_t> uptime_sec;               // seconds since boot, from jiffies as crash counts them
  std::optional<int> hz;                           // the kernel's tick rate (CONFIG_HZ)
  std::optional<std::array<uint64_t, 3>> avenrun;  // 1/5/15-minute load, fixed point (FSHIFT 11)
  std::optional<size_t> tasks;                     // every task and thread, the idle tasks included
  std::optional<uint32_t> cpu_khz;                 // tsc_khz
  std::optional<std::string> panic_message;
  std::optional<int> panic_cpu;
};

SystemInfo read_system_info(const Kernel& kernel);

// The load average fixed point of include/linux/sched/loadavg.h (FSHIFT 11),
// printed as "0.44" the way /proc/loadavg and crash print it.
std::string format_load(uint64_t avenrun);

}  // namespace kdive
