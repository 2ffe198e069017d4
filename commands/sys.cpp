// sys: the system summary crash prints at start-up — kernel, dump, CPUs, date,
// uptime, load, tasks, identity, memory and the panic message — and its
// subcommands: the firmware's DMI strings (-i), the built-in kernel config
// (`sys config`) and the system call table (-c).
#include "commands/sys.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/crash_date.hpp"
#include "commands/taint_letters.hpp"
#include "kernel-model/dmi.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_config.hpp"
#include "kernel-model/syscall_table.hpp"
#include "kernel-model/system_info.hpp"
#include "kernel-model/tasks.hpp"

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

template <typename T>
Json or_null(const std::optional<T>& v) {
  return v ? Json(*v) : Json(nullptr);
}

Json or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

// What the kernel lacks (the symbol a subcommand reads is not in it) is an
// answer, not a failure; anything else that stops the subcommand is an error.
[[noreturn]] void rethrow(const Kernel& k, std::string_view symbol, const Error& e) {
  if (k.symbols().find(symbol) == nullptr) throw NotInKernel(e.what());
  throw CommandError(e.what());
}

void print_dmi(const Kernel& k, Output& out) {
  std::vector<DmiString> strings;
  try {
    strings = read_dmi_strings(k);
  } catch (const Error& e) {
    rethrow(k, "dmi_ident", e);
  }
  Json result = Json::object();
  for (const DmiString& d : strings) {
    out.print("{:>25}: {}\n", d.field, d.value);
    result[d.field] = d.value;
  }
  out.result(std::move(result));
}

void print_config(const Kernel& k, Output& out) {
  std::string config;
  try {
    config = read_kernel_config(k);
  } catch (const Error& e) {
    rethrow(k, "kernel_config_data", e);
  }
  out.write(config);
  if (!config.empty() && config.back() != '\n') out.write("\n");
  out.result(kernel_config_json(config));
}

// sys -c NAME|NUM: a number selects that system call; a word, those whose
// handler's name contains it (crash's "sys -c read" lists read, pread64,
// readv, ...). No words: the whole table.
bool syscall_selected(const SyscallEntry& e, const std::vector<std::string>& words) {
  if (words.empty()) return true;
  for (const std::string& w : words) {
    if (!w.empty() && w.find_first_not_of("0123456789") == std::string::npos) {
      if (w.size() < 10 && std::stoull(w) == static_cast<uint64_t>(e.number)) return true;
    } else if (!e.symbol.empty() && e.symbol.find(w) != std::string::npos) {
      return true;
    }
  }
  return false;
}

void print_syscalls(const Kernel& k, const std::vector<std::string>& words, Output& out) {
  std::vector<SyscallEntry> table;
  try {
    table = read_syscall_table(k, true);
  } catch (const Error& e) {
    rethrow(k, "sys_call_table", e);
  }
  out.print("NUM  SYSTEM CALL                FILE AND LINE NUMBER\n");
  Json rows = Json::array();
  for (const SyscallEntry& e : table) {
    if (!syscall_selected(e, words)) continue;
    std::string name = e.symbol.empty() ? fmt::format("{:x}", e.handler) : e.symbol;
    std::string where = e.file.empty() ? "" : fmt::format("{}: {}", e.file, e.line);
    std::string row = fmt::format("{:>3}  {:<26} {}", e.number, name, where);
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out.print("{}\n", row);
    rows.push_back({{"number", e.number},
                    {"handler", json_hex(e.handler)},
                    {"symbol", or_null(e.symbol)},
                    {"file", or_null(e.file)},
                    {"line", e.file.empty() ? Json(nullptr) : Json(e.line)}});
  }
  out.result(std::move(rows));
}

// TASKS counts every task found, damaged ones included: when the task
// sources were damaged, the count may be short or hold a task that is not
// one, and the user is told where to look.
void note_task_damage(const Kernel& k, Output& out) {
  const TaskTable& tasks = k.tasks();
  const auto damaged =
      std::count_if(tasks.all.begin(), tasks.all.end(), [](const Task& t) { return !t.damage.empty(); });
  if (damaged == 0 && tasks.problems.empty()) return;
  const std::string what =
      fmt::format("{} damaged task(s), {} broken task source(s) (ps shows them)", damaged, tasks.problems.size());
  out.warning("sys: TASKS: " + what);
  out.data_lost("TASKS: " + what);
}

void print_summary(const Kernel& k, Output& out) {
  SystemInfo s = read_system_info(k);
  const bool live = k.dump().notes().live;
  std::vector<std::string> dumps = k.dump().files();
  std::optional<std::string> date = s.crash_time ? std::optional(crash_date(*s.crash_time)) : std::nullopt;
  std::optional<std::array<std::string, 3>> load;
  if (s.avenrun) load = {{format_load((*s.avenrun)[0]), format_load((*s.avenrun)[1]), format_load((*s.avenrun)[2])}};

  line(out, "KERNEL", k.vmlinux().path().string());
  for (const auto& f : dumps) line(out, "DUMPFILE", fmt::format("{}  [{}]", f, k.dump().format()));
  if (s.cpus) {
    std::string cpus = std::to_string(*s.cpus);
    if (s.online_cpus && *s.online_cpus < *s.cpus) cpus += fmt::format(" [OFFLINE: {}]", *s.cpus - *s.online_cpus);
    line(out, "CPUS", cpus);
  }
  if (date) line(out, "DATE", *date);
  if (s.uptime_sec) line(out, "UPTIME", uptime(*s.uptime_sec));
  if (load) line(out, "LOAD AVERAGE", fmt::format("{}, {}, {}", (*load)[0], (*load)[1], (*load)[2]));
  if (s.tasks) line(out, "TASKS", std::to_string(*s.tasks));
  note_task_damage(k, out);
  if (!s.nodename.empty()) line(out, "NODENAME", s.nodename);
  line(out, "RELEASE", s.release);
  if (!s.version.empty()) line(out, "VERSION", s.version);
  if (!s.machine.empty()) {
    line(out, "MACHINE", s.cpu_khz ? fmt::format("{}  ({} Mhz)", s.machine, *s.cpu_khz / 1000) : s.machine);
  }
  if (s.memory_bytes) line(out, "MEMORY", memory_size(*s.memory_bytes));
  // A running kernel has not panicked: crash prints no PANIC line for it either.
  if (!live) line(out, "PANIC", fmt::format("\"{}\"", s.panic_message.value_or("")));

  Json load_json = nullptr;
  // As printed ("0.44"), so that text and JSON agree.
  if (load) load_json = {std::stod((*load)[0]), std::stod((*load)[1]), std::stod((*load)[2])};
  out.result({{"kernel", k.vmlinux().path().string()},
              {"dumpfile", dumps},
              {"dump_format", k.dump().format()},
              {"live", live},
              {"cpus", or_null(s.cpus)},
              {"online_cpus", or_null(s.online_cpus)},
              {"date", or_null(date)},
              {"crash_time", or_null(s.crash_time)},
              {"uptime", or_null(s.uptime_sec)},
              {"load_average", std::move(load_json)},
              {"tasks", or_null(s.tasks)},
              {"nodename", or_null(s.nodename)},
              {"release", s.release},
              {"version", or_null(s.version)},
              {"machine", or_null(s.machine)},
              {"cpu_mhz", s.cpu_khz ? Json(*s.cpu_khz / 1000) : Json(nullptr)},
              {"memory", or_null(s.memory_bytes)},
              {"panic", live ? Json(nullptr) : or_null(s.panic_message)},
              {"panic_cpu", or_null(s.panic_cpu)}});
}

// sys -t: the kernel's taint mask and its letters, as crash prints them.
void print_taint(const Kernel& k, Output& out) {
  // tainted_mask (unsigned long) since 2.6.28; `tainted` (int) before, shown in hex only.
  if (auto mask = k.symbols().address("tainted_mask")) {
    const uint64_t value = k.memory().read<uint64_t>(*mask);
    // crash's line, then (kdive's addition) each set bit by its kernel name.
    out.print("TAINTED_MASK: {:x}  {}\n", value, taint_letters(value));
    Json flags = Json::array();
    for (const TaintFlag& f : taint_flags(value)) {
      out.print("  {:>2}  {}  {}\n", f.bit, f.letter, f.name);
      flags.push_back({{"bit", f.bit}, {"letter", std::string(1, f.letter)}, {"name", f.name}});
    }
    return out.result({{"tainted_mask", json_hex(value)}, {"letters", taint_letters(value)}, {"flags", flags}});
  }
  if (auto tainted = k.symbols().address("tainted")) {
    const uint32_t value = k.memory().read<uint32_t>(*tainted);
    out.print("TAINTED: {:x}\n", value);
    return out.result({{"tainted_mask", json_hex(value)}, {"letters", nullptr}, {"flags", nullptr}});
  }
  throw NotInKernel("this kernel has neither tainted_mask nor tainted");
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  const auto& words = args.positional();
  // "-panic" arrives as -p with the value "anic", as crash's getopt takes it.
  if (auto p = args.value('p')) {
    if (*p != "anic") throw CommandError(fmt::format("invalid option -p{} (sys -panic is the only -p)", *p));
    throw CommandError("-panic: kdive never panics or writes to the kernel it examines");
  }
  if (args.has('c')) return print_syscalls(k, words, out);
  const bool config = words.size() == 1 && words[0] == "config";
  if (!words.empty() && (!config || args.has('t') || args.has('i'))) {
    throw CommandError(fmt::format("unknown argument '{}'", words[config ? 0 : words.size() - 1]));
  }
  if (args.has('t')) return print_taint(k, out);
  if (args.has('i')) return print_dmi(k, out);
  if (config) return print_config(k, out);
  print_summary(k, out);
}

const CommandRegistrar registrar{
    {.name = "sys",
     .summary = "system data",
     .usage = "sys [-i | -c [name | number] ... | -t | -panic | config]",
     .description = "Shows the kernel and dump files, the dump's format, the number of CPUs\n"
                    "(and how many were offline at the crash), the crash date (the timekeeper's\n"
                    "wall clock), the uptime (jiffies since boot), the 1/5/15-minute load\n"
                    "average, the number of tasks (threads and per-CPU idle tasks included),\n"
                    "the kernel's identity from its utsname, the size of usable memory, and\n"
                    "the panic message found in the kernel log.\n\n"
                    "  sys -i      the firmware's DMI identity strings (dmi_ident[])\n"
                    "  sys -c      the system call table: number, handler, source file and line;\n"
                    "              words after it keep the calls with that number or whose\n"
                    "              handler's name contains the word (sys -c read: read, pread64, ...)\n"
                    "  sys -t      the kernel's taint mask and its letters (P proprietary module,\n"
                    "              O out-of-tree module, E unsigned module, D died in an oops, ...),\n"
                    "              then each set bit with its letter and TAINT_ name\n"
                    "  sys config  the kernel's .config, when it was built in (CONFIG_IKCONFIG=y);\n"
                    "              Debian builds it as a module, so its kernels say so instead\n"
                    "  sys -panic  refused: crash panics a live kernel with it; kdive never writes\n"
                    "              to or panics the kernel it examines",
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
                 "    0  __x64_sys_read             debian/build/build_amd64_none_cloud-amd64/fs/read_write.c: 642",
     .options = {{'i', "", "show the DMI strings the firmware provided"},
                 {'c', "", "show the system call table"},
                 {'t', "", "show the kernel's taint mask and letters"},
                 {'p', "anic", "-panic: refused, kdive never panics the kernel"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"kernel", "dumpfile", "dump_format", "live", "cpus", "online_cpus", "date", "crash_time",
                       "uptime", "load_average", "tasks", "nodename", "release", "version", "machine", "cpu_mhz",
                       "memory", "panic", "panic_cpu"},
              .notes = "dumpfile is a list (a split dump has several files); date is the crash date as\n"
                       "printed, crash_time the same moment in seconds since the epoch; uptime is in\n"
                       "seconds; load_average the 1/5/15-minute figures as printed; memory in bytes;\n"
                       "panic the panic message (null on a live kernel). A value the dump does not\n"
                       "give is null.\n"
                       "`sys -i` gives {DMI_FIELD: value, ...}; `sys -c` a list of {number, handler,\n"
                       "symbol, file, line} (file and line as sym shows them, null when unknown);\n"
                       "`sys config` {CONFIG_NAME: value, ...} with \"n\" for an option that is not set;\n"
                       "`sys -t` {tainted_mask, letters, flags: [{bit, letter, name}]}.",
              .example = "sys"}},
    run};

}  // namespace

// .config lines: "CONFIG_X=value" and "# CONFIG_X is not set"; the rest are
// comments. String values keep their text without the quotes and the
// backslash escapes Kconfig writes (\" and \\).
Json kernel_config_json(std::string_view config) {
  Json result = Json::object();
  while (!config.empty()) {
    size_t nl = config.find('\n');
    std::string_view l = config.substr(0, nl);
    config.remove_prefix(nl == std::string_view::npos ? config.size() : nl + 1);
    constexpr std::string_view kUnset = " is not set";
    if (l.starts_with("# CONFIG_") && l.ends_with(kUnset)) {
      result[std::string(l.substr(2, l.size() - 2 - kUnset.size()))] = "n";
      continue;
    }
    size_t eq = l.find('=');
    if (!l.starts_with("CONFIG_") || eq == std::string_view::npos) continue;
    std::string_view value = l.substr(eq + 1);
    std::string text;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
      for (size_t i = 0; i < value.size(); ++i) {
        if (value[i] == '\\' && i + 1 < value.size()) ++i;
        text += value[i];
      }
    } else {
      text = value;
    }
    result[std::string(l.substr(0, eq))] = std::move(text);
  }
  return result;
}

}  // namespace kdive
