#include "kernel-model/system_info.hpp"

#include <fmt/format.h>

#include <bit>
#include <charconv>
#include <cstring>

#include "kernel-model/cpu_mask.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/printk_log.hpp"

namespace kdive {
namespace {

constexpr size_t kUtsLen = 65;  // __NEW_UTS_LEN + 1, part of the syscall ABI
constexpr uint32_t kE820Ram = 1;
constexpr uint32_t kMaxE820Entries = 3 * 128;  // E820_MAX_ENTRIES with EFI extras

template <typename T>
std::optional<T> read_var(const Kernel& k, std::string_view symbol) {
  auto addr = k.symbols().address(symbol);
  if (!addr) return std::nullopt;
  try {
    return k.memory().read<T>(*addr);
  } catch (const Fault&) {
    return std::nullopt;
  }
}

// struct new_utsname is six 65-byte strings; its place inside init_uts_ns moved
// (kref first before 5.11, name first since), so find it by the release string
// VMCOREINFO gave, which sits in the third field.
void read_utsname(const Kernel& k, SystemInfo& s) {
  auto ns = k.symbols().address("init_uts_ns");
  auto release = k.vmcoreinfo().get("OSRELEASE");
  // Without VMCOREINFO the vmlinux's release stands in: its banner was found in
  // the dump's memory, so it is the running kernel's.
  if (!release) release = k.vmlinux().release();
  if (!ns || !release || release->empty()) {
    if (release) s.release = *release;
    return;
  }
  std::vector<std::byte> raw(kUtsLen * 6 + 64);
  try {
    k.memory().read(*ns, raw);
  } catch (const Fault&) {
    s.release = *release;
    return;
  }
  std::string_view bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
  for (size_t name = 0; name + kUtsLen * 6 <= bytes.size(); name += 4) {
    std::string_view rel = bytes.substr(name + 2 * kUtsLen, kUtsLen);
    if (rel.substr(0, release->size()) != *release || rel[release->size()] != '\0') continue;
    auto field = [&](int i) {
      std::string_view f = bytes.substr(name + i * kUtsLen, kUtsLen);
      return std::string(f.substr(0, f.find('\0')));
    };
    s.sysname = field(0);
    s.nodename = field(1);
    s.release = field(2);
    s.version = field(3);
    s.machine = field(4);
    s.domainname = field(5);
    return;
  }
  s.release = *release;
}

// The firmware memory map: struct e820_table *e820_table (4.12+), whose
// entries[] are packed {addr, size, type} records.
std::optional<uint64_t> e820_ram(const Kernel& k) {
  if (k.symbols().find("e820_table") == nullptr) return std::nullopt;
  try {
    Object table = k.object("e820_table").deref();
    uint64_t n = table["nr_entries"].as_u64();
    if (n == 0 || n > kMaxE820Entries) return std::nullopt;
    Object entries = table["entries"];
    uint64_t total = 0;
    for (uint64_t i = 0; i < n; ++i) {
      Object e = entries.at(i);
      if (e["type"].as_u64() == kE820Ram) total += e["size"].as_u64();
    }
    return total;
  } catch (const ModelError&) {
    return std::nullopt;
  }
}

std::optional<int> online_cpus(const Kernel& k, int possible) {
  auto online = read_online_cpus(k, possible);
  if (!online) return std::nullopt;
  return static_cast<int>(online->size());
}

// The wall clock at the crash: the timekeeper's xtime_sec (3.17+, where
// timekeeping moved into tk_core), else the older xtime.tv_sec.
std::optional<int64_t> wall_clock(const Kernel& k) {
  try {
    if (k.symbols().find("tk_core") != nullptr) {
      return k.object("tk_core")["timekeeper"]["xtime_sec"].as_i64();
    }
    if (k.symbols().find("xtime") != nullptr) return k.object("xtime")["tv_sec"].as_i64();
  } catch (const ModelError&) {
    // no type information or an unreadable page: other sources follow
  }
  return std::nullopt;
}

// HZ is not in VMCOREINFO; tick_nsec (kernel/time/ntp.c) is NSEC_PER_SEC / HZ
// rounded, so HZ comes back exactly by rounding the quotient.
std::optional<int> tick_rate(const Kernel& k) {
  auto tick_nsec = read_var<uint64_t>(k, "tick_nsec");
  if (!tick_nsec || *tick_nsec == 0 || *tick_nsec > 1000000000) return std::nullopt;
  return static_cast<int>((1000000000ull + *tick_nsec / 2) / *tick_nsec);
}

// Uptime the way crash computes it: jiffies since INITIAL_JIFFIES, which
// include/linux/jiffies.h sets to (unsigned long)(unsigned int)(-300 * HZ) so
// that a 32-bit wrap happens five minutes after boot.
std::optional<int64_t> uptime(const Kernel& k, int hz) {
  auto jiffies = read_var<uint64_t>(k, "jiffies_64");
  if (!jiffies) jiffies = read_var<uint64_t>(k, "jiffies");
  if (!jiffies) return std::nullopt;
  const uint64_t initial = static_cast<uint32_t>(-300 * hz);
  return static_cast<int64_t>((*jiffies - initial) / static_cast<uint64_t>(hz));
}

// unsigned long avenrun[3]: the 1, 5 and 15 minute averages.
std::optional<std::array<uint64_t, 3>> load_average(const Kernel& k) {
  if (k.symbols().find("avenrun") == nullptr) return std::nullopt;
  try {
    Object avenrun = k.object("avenrun");
    std::array<uint64_t, 3> v{};
    for (uint64_t i = 0; i < v.size(); ++i) v[i] = avenrun.at(i).as_u64();
    return v;
  } catch (const ModelError&) {
    return std::nullopt;
  }
}

}  // namespace

std::string format_load(uint64_t avenrun) {
  constexpr int kFshift = 11;
  constexpr uint64_t kFixed1 = 1ull << kFshift;
  // /proc/loadavg (fs/proc/loadavg.c) adds FIXED_1/200 — half a hundredth —
  // before LOAD_INT and LOAD_FRAC truncate, so the value is rounded; crash too.
  avenrun += kFixed1 / 200;
  uint64_t whole = avenrun >> kFshift;
  uint64_t frac = ((avenrun & (kFixed1 - 1)) * 100) >> kFshift;
  return fmt::format("{}.{:02}", whole, frac);
}

SystemInfo read_system_info(const Kernel& k) {
  SystemInfo s;
  read_utsname(k, s);
  if (auto n = read_var<uint32_t>(k, "nr_cpu_ids"); n && *n > 0 && *n <= 65536) {
    s.cpus = static_cast<int>(*n);
    s.online_cpus = online_cpus(k, *s.cpus);
  }
  s.memory_bytes = e820_ram(k);
  if (!s.memory_bytes) {
    uint64_t total = 0;
    for (const auto& r : k.dump().ranges()) total += r.size;
    s.memory_bytes = total;
  }
  s.crash_time = wall_clock(k);
  if (auto t = k.vmcoreinfo().get("CRASHTIME"); t && !s.crash_time) {
    int64_t v = 0;
    if (std::from_chars(t->data(), t->data() + t->size(), v).ec == std::errc()) s.crash_time = v;
  }
  if (!s.crash_time) s.crash_time = k.dump().notes().crash_time_sec;
  s.cpu_khz = read_var<uint32_t>(k, "tsc_khz");
  s.hz = tick_rate(k);
  if (s.hz) s.uptime_sec = uptime(k, *s.hz);
  s.avenrun = load_average(k);
  try {
    s.tasks = k.tasks().all.size();
  } catch (const ModelError&) {
    // no task list: sys leaves TASKS out
  }
  s.panic_cpu = k.panic_cpu();
  try {
    s.panic_message = find_panic_message(read_printk_log(k));
  } catch (const ModelError&) {
    // No readable log: sys shows an empty PANIC, as crash does.
  }
  return s;
}

}  // namespace kdive
