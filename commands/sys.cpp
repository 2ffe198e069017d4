// sys: the system summary crash prints at start-up — kernel, dump, CPUs, date,
// uptime, load, tasks, identity, memory and the panic message — and its
// subcommands: the firmware's DMI strings (-i), the built-in kernel config
// (`sys config`) and the system call table (-c).
#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/crash_date.hpp"
#include "kernel-model/dmi.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_config.hpp"
#include "kernel-model/syscall_table.hpp"
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

// crash's UPTIME: "hh:mm:ss", with "N days, " in front past a day.
std::string uptime(int64_t seconds) {
  int64_t days = seconds / 86400;
  std::string hms = fmt::format("{:02}:{:02}:{:02}", seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
  if (days == 0) return hms;
  return fmt::format("{} day{}, {}", days, days == 1 ? "" : "s", hms);
}

void line(Output& out, std::string_view label, std::string_view value) { out.print("{:>12}: {}\n", label, value); }

void print_dmi(const Kernel& k, Output& out) {
  std::vector<DmiString> strings;
  try {
    strings = read_dmi_strings(k);
  } catch (const Error& e) {
    throw CommandError(e.what());
  }
  for (const DmiString& d : strings) out.print("{:>25}: {}\n", d.field, d.value);
}

void print_config(const Kernel& k, Output& out) {
  std::string config;
  try {
    config = read_kernel_config(k);
  } catch (const Error& e) {
    throw CommandError(e.what());
  }
  out.write(config);
  if (!config.empty() && config.back() != '\n') out.write("\n");
}

void print_syscalls(const Kernel& k, Output& out) {
  std::vector<SyscallEntry> table;
  try {
    table = read_syscall_table(k, true);
  } catch (const Error& e) {
    throw CommandError(e.what());
  }
  out.print("NUM  SYSTEM CALL                FILE AND LINE NUMBER\n");
  for (const SyscallEntry& e : table) {
    std::string name = e.symbol.empty() ? fmt::format("{:x}", e.handler) : e.symbol;
    std::string where = e.file.empty() ? "" : fmt::format("{}: {}", e.file, e.line);
    std::string row = fmt::format("{:>3}  {:<26} {}", e.number, name, where);
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out.print("{}\n", row);
  }
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.has('i')) return print_dmi(k, out);
  if (args.has('c')) return print_syscalls(k, out);
  if (args.positional().size() == 1 && args.positional()[0] == "config") return print_config(k, out);
  if (!args.positional().empty()) throw CommandError(fmt::format("unknown argument '{}'", args.positional()[0]));
  SystemInfo s = read_system_info(k);

  line(out, "KERNEL", k.vmlinux().path().string());
  for (const auto& f : k.dump().files()) line(out, "DUMPFILE", fmt::format("{}  [{}]", f, k.dump().format()));
  if (s.cpus) {
    std::string cpus = std::to_string(*s.cpus);
    if (s.online_cpus && *s.online_cpus < *s.cpus) cpus += fmt::format(" [OFFLINE: {}]", *s.cpus - *s.online_cpus);
    line(out, "CPUS", cpus);
  }
  if (s.crash_time) line(out, "DATE", crash_date(*s.crash_time));
  if (s.uptime_sec) line(out, "UPTIME", uptime(*s.uptime_sec));
  if (s.avenrun) {
    line(out, "LOAD AVERAGE",
         fmt::format("{}, {}, {}", format_load((*s.avenrun)[0]), format_load((*s.avenrun)[1]),
                     format_load((*s.avenrun)[2])));
  }
  if (s.tasks) line(out, "TASKS", std::to_string(*s.tasks));
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
     .usage = "sys [-i | -c | config]",
     .description = "Shows the kernel and dump files, the dump's format, the number of CPUs\n"
                    "(and how many were offline at the crash), the crash date (the timekeeper's\n"
                    "wall clock), the uptime (jiffies since boot), the 1/5/15-minute load\n"
                    "average, the number of tasks (threads and per-CPU idle tasks included),\n"
                    "the kernel's identity from its utsname, the size of usable memory, and\n"
                    "the panic message found in the kernel log.\n\n"
                    "  sys -i      the firmware's DMI identity strings (dmi_ident[])\n"
                    "  sys -c      the system call table: number, handler, source file and line\n"
                    "  sys config  the kernel's .config, when it was built in (CONFIG_IKCONFIG=y);\n"
                    "              Debian builds it as a module, so its kernels say so instead",
     .examples = "  kdive> sys\n"
                 "        KERNEL: vmlinux-5.10.0-32-cloud-amd64\n"
                 "      DUMPFILE: vmcore  [elf (qemu)]\n"
                 "          CPUS: 2 [OFFLINE: 1]\n"
                 "          DATE: Mon Nov 23 10:50:03 UTC 2026\n"
                 "        UPTIME: 00:00:18\n"
                 "  LOAD AVERAGE: 0.44, 0.10, 0.03\n"
                 "         TASKS: 55\n"
                 "      NODENAME: kdive\n"
                 "       RELEASE: 5.10.0-32-cloud-amd64\n"
                 "       VERSION: #1 SMP Debian 5.10.223-1 (2024-08-10)\n"
                 "       MACHINE: x86_64  (2096 Mhz)\n"
                 "        MEMORY: 511.5 MB\n"
                 "         PANIC: \"Kernel panic - not syncing: sysrq triggered crash\"\n\n"
                 "The firmware's identity:\n\n"
                 "  kdive> sys -i\n"
                 "            DMI_BIOS_VENDOR: SeaBIOS\n"
                 "             DMI_SYS_VENDOR: QEMU\n\n"
                 "Who handles system call 0:\n\n"
                 "  kdive> sys -c | head -2\n"
                 "  NUM  SYSTEM CALL                FILE AND LINE NUMBER\n"
                 "    0  __x64_sys_read             ../fs/read_write.c: 642",
     .options = {{'i', "", "show the DMI strings the firmware provided"}, {'c', "", "show the system call table"}},
     .aliases = {}},
    run};

}  // namespace
}  // namespace kdive
