// sys: the system summary crash prints at start-up — kernel, dump, CPUs, date,
// identity, memory and the panic message.
#include <fmt/format.h>

#include <ctime>

#include "analyzer/output.hpp"
#include "analyzer/session.hpp"
#include "commands/command.hpp"
#include "kernel-model/system_info.hpp"

namespace kdive {
namespace {

std::string memory_size(uint64_t bytes) {
  // crash's style: "511.5 MB", "2 GB", "15.6 GB".
  const double gb = static_cast<double>(bytes) / (1ull << 30);
  const double mb = static_cast<double>(bytes) / (1ull << 20);
  auto fmt_unit = [](double v, const char* unit) {
    std::string s = fmt::format("{:.1f}", v);
    if (s.size() > 2 && s.substr(s.size() - 2) == ".0") s.resize(s.size() - 2);
    return fmt::format("{} {}", s, unit);
  };
  return gb >= 1.0 ? fmt_unit(gb, "GB") : fmt_unit(mb, "MB");
}

std::string date(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Z %Y", &tm);
  return buf;
}

void line(Output& out, std::string_view label, std::string_view value) {
  out.print("{:>12}: {}\n", label, value);
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (!args.positional().empty()) throw CommandError(fmt::format("unknown argument '{}'", args.positional()[0]));
  Kernel& k = session.kernel();
  SystemInfo s = read_system_info(k);

  line(out, "KERNEL", k.vmlinux().path().string());
  for (const auto& f : k.dump().files()) line(out, "DUMPFILE", fmt::format("{}  [{}]", f, k.dump().format()));
  if (s.cpus) {
    std::string cpus = std::to_string(*s.cpus);
    if (s.online_cpus && *s.online_cpus < *s.cpus) cpus += fmt::format(" [OFFLINE: {}]", *s.cpus - *s.online_cpus);
    line(out, "CPUS", cpus);
  }
  if (s.crash_time) line(out, "DATE", date(*s.crash_time));
  if (!s.nodename.empty()) line(out, "NODENAME", s.nodename);
  line(out, "RELEASE", s.release);
  if (!s.version.empty()) line(out, "VERSION", s.version);
  if (!s.machine.empty()) {
    line(out, "MACHINE", s.cpu_khz ? fmt::format("{}  ({} Mhz)", s.machine, *s.cpu_khz / 1000) : s.machine);
  }
  if (s.memory_bytes) line(out, "MEMORY", memory_size(*s.memory_bytes));
  // A running kernel has not panicked: crash prints no PANIC line for it either.
  if (!k.dump().notes().live) line(out, "PANIC", fmt::format("\"{}\"", s.panic_message.value_or("")));
}

const CommandRegistrar registrar{
    {.name = "sys",
     .summary = "system data",
     .usage = "sys",
     .description = "Shows the kernel and dump files, the dump's format, the number of CPUs\n"
                    "(and how many were offline at the crash), the crash date, the kernel's\n"
                    "identity from its utsname, the size of usable memory, and the panic\n"
                    "message found in the kernel log.",
     .examples = "  kdive> sys\n"
                 "        KERNEL: vmlinux-5.10.0-32-cloud-amd64\n"
                 "      DUMPFILE: vmcore  [elf (qemu)]\n"
                 "          CPUS: 2 [OFFLINE: 1]\n"
                 "          DATE: Mon Nov 23 10:50:03 UTC 2026\n"
                 "      NODENAME: kdive\n"
                 "       RELEASE: 5.10.0-32-cloud-amd64\n"
                 "       VERSION: #1 SMP Debian 5.10.223-1 (2024-08-10)\n"
                 "       MACHINE: x86_64  (2096 Mhz)\n"
                 "        MEMORY: 511.5 MB\n"
                 "         PANIC: \"Kernel panic - not syncing: sysrq triggered crash\"",
     .options = {},
     .aliases = {}},
    run};

}  // namespace
}  // namespace kdive
