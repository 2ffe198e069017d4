// log: the kernel message buffer, with crash's flags: timestamps as seconds
// since boot (default), as wall-clock dates (-T) or none (-t), the log level
// (-m), the device dictionary (-d); and the buffers beside it: the audit
// backlog (-a) and the per-CPU printk safe buffers (-s).
#include "commands/log.hpp"

#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/crash_date.hpp"
#include "kernel-model/audit_backlog.hpp"
#include "kernel-model/printk_log.hpp"
#include "kernel-model/printk_safe.hpp"
#include "kernel-model/system_info.hpp"

namespace kdive {
namespace {

enum class Stamp { Uptime, Date, None };

struct Style {
  Stamp stamp = Stamp::Uptime;
  bool level = false;
  bool dict = false;
  int64_t boot_time = 0;  // wall-clock seconds at boot, for -T
};

// -T: when a record was logged, in seconds since the epoch.
int64_t record_time(const LogRecord& r, const Style& style) {
  return style.boot_time + static_cast<int64_t>(r.ts_nsec / 1000000000);
}

// "[    1.234567] ", "[Mon Nov 23 11:37:15 UTC 2026] ", or nothing; then "<6>" with -m.
std::string prefix(const LogRecord& r, const Style& style) {
  std::string p;
  switch (style.stamp) {
    case Stamp::Uptime:
      p = fmt::format("[{:>5}.{:06}] ", r.ts_nsec / 1000000000, r.ts_nsec % 1000000000 / 1000);
      break;
    case Stamp::Date:
      p = fmt::format("[{}] ", crash_date(record_time(r, style)));
      break;
    case Stamp::None:
      break;
  }
  if (style.level) p += fmt::format("<{}>", r.level.value_or(0));
  return p;
}

// A record's later lines, and its dictionary, line up under its text as crash
// prints them: indented by the width of the prefix.
void print_record(const LogRecord& r, const Style& style, Output& out) {
  const std::string p = prefix(r, style);
  const std::string indent(p.size(), ' ');
  std::string_view text = r.text;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  bool first = true;
  do {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    out.print("{}{}\n", first ? p : indent, line);
    first = false;
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  } while (!text.empty());
  if (style.dict) {
    for (const std::string& d : r.dict) out.print("{}{}\n", indent, d);
  }
}

void print_audit(const Kernel& k, Output& out) {
  auto records = read_audit_backlog(k);
  if (!records) throw NotInKernel("this kernel has no audit queue (CONFIG_AUDIT is off)");
  Json rows = Json::array();
  if (records->empty()) out.print("log: kernel audit log is empty\n");
  for (const AuditRecord& r : *records) {
    out.print("type={} {}\n", r.type, r.text);
    rows.push_back({{"type", r.type}, {"text", r.text}});
  }
  out.result(std::move(rows));
}

void print_safe_buffers(const Kernel& k, Output& out) {
  auto buffers = read_printk_safe_buffers(k);
  if (!buffers) {
    throw NotInKernel(
        "this kernel has no printk safe buffers (nmi_print_seq, safe_print_seq): they exist from 4.11 to 5.14, "
        "later kernels log those messages directly");
  }
  std::string_view current;
  Json rows = Json::array();
  for (const PrintkSafeBuffer& b : *buffers) {
    if (b.name != current) {
      out.print("PRINTK_SAFE_SEQ_BUF: {}\n", b.name);
      current = b.name;
    }
    Json row = {{"buffer", b.name}, {"cpu", b.cpu}};
    if (!b.error.empty()) {
      out.print("CPU: {}  (cannot read: {})\n\n", b.cpu, b.error);
      out.data_lost(fmt::format("{} of CPU {}: {}", b.name, b.cpu, b.error));
      row["error"] = b.error;
      rows.push_back(std::move(row));
      continue;
    }
    row["address"] = json_hex(b.address.value());
    row["len"] = b.len;
    row["message_lost"] = b.message_lost;
    row["text"] = b.text;
    rows.push_back(std::move(row));
    out.print("CPU: {}  ADDR: {:x} LEN: {}  MESSAGE_LOST: {}\n", b.cpu, b.address.value(), b.len, b.message_lost);
    if (b.text.empty()) {
      out.print("  (empty)\n\n");
      continue;
    }
    std::string_view text = b.text;
    while (!text.empty()) {
      size_t nl = text.find('\n');
      out.print("  {}\n", text.substr(0, nl));
      text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    out.print("\n");
  }
  out.result(std::move(rows));
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (!args.positional().empty()) throw CommandError(fmt::format("unknown argument '{}'", args.positional()[0]));
  if (args.has('t') && args.has('T')) throw CommandError("-t and -T cannot be combined");
  const Kernel& k = session.kernel();
  if (args.has('a')) return print_audit(k, out);
  if (args.has('s')) return print_safe_buffers(k, out);

  Style style;
  style.level = args.has('m');
  style.dict = args.has('d');
  if (args.has('t')) style.stamp = Stamp::None;
  if (args.has('T')) {
    SystemInfo s = read_system_info(k);
    if (!s.crash_time || !s.uptime_sec)
      throw CommandError("-T needs the crash time and the uptime, and one is unknown");
    style.stamp = Stamp::Date;
    // Like crash: the boot moment is the crash time less the uptime, and each
    // record is placed from there by its local_clock() stamp, so the dates can
    // be off by the drift between the two clocks.
    style.boot_time = *s.crash_time - *s.uptime_sec;
  }
  Json rows = Json::array();
  size_t damaged = 0;
  for (const LogRecord& r : read_printk_log(k)) {
    if (!r.damage.empty()) {
      ++damaged;
      out.print("(damaged: {})\n", r.damage);
      out.data_lost(fmt::format("log record: {}", r.damage));
      rows.push_back({{"error", r.damage}});
      continue;
    }
    print_record(r, style, out);
    if (!out.json()) continue;
    Json row = log_record_json(r);
    if (style.stamp == Stamp::Date) row["date"] = crash_date(record_time(r, style));
    rows.push_back(std::move(row));
  }
  if (damaged > 0) out.warning(fmt::format("log: {} record(s) could not be read (marked above)", damaged));
  out.result(std::move(rows));
}

const CommandRegistrar registrar{
    {.name = "log",
     .summary = "dump system message buffer",
     .usage = "log [-T | -t] [-d] [-m] | -a | -s",
     .description = "Prints the kernel's message buffer (what dmesg would have shown), oldest\n"
                    "record first, each with its timestamp in seconds since boot. A record that\n"
                    "spans several lines has its later lines indented under the first.\n"
                    "Both the lockless ring buffer of 5.10+ and the older printk_log buffer are\n"
                    "read; member offsets come from VMCOREINFO, else from the vmlinux's DWARF.",
     .examples = "  kdive> log | tail -2\n"
                 "  [   18.007074] Kernel panic - not syncing: sysrq triggered crash\n"
                 "  [   18.009319] ---[ end Kernel panic - not syncing: sysrq triggered crash ]---\n\n"
                 "Wall-clock dates and log levels:\n\n"
                 "  kdive> log -T -m | grep panic\n"
                 "  [Mon Nov 23 11:37:33 UTC 2026] <0>Kernel panic - not syncing: sysrq triggered crash\n\n"
                 "Which device logged a message:\n\n"
                 "  kdive> log -d | grep -A2 PNP0A03\n"
                 "  [    1.177928] acpi PNP0A03:00: _OSC: OS supports [ASPM ClockPM Segments MSI HPX-Type3]\n"
                 "                 SUBSYSTEM=acpi\n"
                 "                 DEVICE=+acpi:PNP0A03:00\n\n"
                 "Audit records kauditd had not delivered:\n\n"
                 "  kdive> log -a\n"
                 "  log: kernel audit log is empty",
     .options = {{'T', "", "human-readable dates (crash time less uptime, plus the record's stamp)"},
                 {'t', "", "no timestamps"},
                 {'d', "", "show each record's dictionary (SUBSYSTEM=, DEVICE=)"},
                 {'m', "", "show each record's log level, as <N>"},
                 {'a', "", "dump the audit backlog (audit_queue) instead"},
                 {'s', "", "dump the per-CPU printk safe buffers (4.11 - 5.14) instead"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"seq", "timestamp_ns", "level", "caller", "text", "dict"},
              .notes = "One object per record, oldest first: timestamp_ns is the record's stamp since\n"
                       "boot, level 0-7, caller \"T<pid>\" or \"C<cpu>\" as the kernel prints it (null\n"
                       "when the log does not keep it), text without its final newline (a multi-line\n"
                       "record keeps its inner newlines), dict {SUBSYSTEM, DEVICE, ...} (may be empty).\n"
                       "Every record has all of these whatever the flags: -t, -m and -d change the\n"
                       "text only; -T adds \"date\", the record's wall-clock date as printed.\n"
                       "`log -a` gives a list of {type, text}; `log -s` a list of {buffer, cpu,\n"
                       "address, len, message_lost, text}, or {buffer, cpu, error} for a CPU whose\n"
                       "buffer could not be read. A record that could not be read is {\"error\": why}\n"
                       "in its place (the text shows \"(damaged: why)\" there).",
              .example = "log"}},
    run};

}  // namespace

std::optional<std::string> caller_name(std::optional<uint32_t> caller_id) {
  if (!caller_id) return std::nullopt;
  // kernel/printk/printk.c (printk_caller_id): the task's pid, or, in
  // interrupt context, 0x80000000 | the CPU number.
  constexpr uint32_t kCpuBit = 0x80000000u;
  if (*caller_id & kCpuBit) return fmt::format("C{}", *caller_id & ~kCpuBit);
  return fmt::format("T{}", *caller_id);
}

Json log_record_json(const LogRecord& r) {
  std::string_view text = r.text;
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  Json dict = Json::object();
  for (const std::string& d : r.dict) {
    size_t eq = d.find('=');
    if (eq == std::string::npos) {
      dict[d] = "";
    } else {
      dict[d.substr(0, eq)] = d.substr(eq + 1);
    }
  }
  auto caller = caller_name(r.caller_id);
  return {{"seq", r.seq},
          {"timestamp_ns", r.ts_nsec},
          {"level", r.level ? Json(*r.level) : Json(nullptr)},
          {"caller", caller ? Json(*caller) : Json(nullptr)},
          {"text", text},
          {"dict", std::move(dict)}};
}

}  // namespace kdive
