// bt: kernel backtraces, with crash's flags and layout, from the ORC
// unwinder in kernel-model/backtrace.hpp.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/register_block.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/backtrace.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/exception_frames.hpp"
#include "kernel-model/inline_frames.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/modules.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {
namespace {

// How a frame's function is named: crash's default "name", -s "name+dec",
// -x "name+0xhex", -d "name+dec".
enum class Offsets { None, Decimal, Hex };

struct Style {
  Offsets offsets = Offsets::None;
  bool frame_data = false;                // -f
  bool symbolic = false;                  // -F: frame data with symbol addresses named
  bool lines = false;                     // -l
  const InlineFrames* inlines = nullptr;  // --inline
};

// --inline has no short form: crash has no such flag, and none of its letters
// should be taken from a later crash.
constexpr char kInlineFlag = long_only(1);

// bt --inline: the calls inlined at a frame's address, innermost first, each
// on a line of its own before the frame that holds their code, with the
// frame's stack slot and no number (the numbers stay crash's):
//     [ffffb858401c3eb8] pde_write (inlined)
//     fs/proc/inode.c: 345                         (-l: where the address is in pde_write)
//  #5 [ffffb858401c3eb8] proc_reg_write at ffffffff97b5bd01
//     fs/proc/inode.c: 357                         (-l: where proc_reg_write calls pde_write)
// Returns the JSON list [{function, file, line}] and sets `frame_line` to the
// frame's own line under -l: the call site of the outermost inlined call.
Json print_inlined_calls(const InlineChain& chain, const Frame& f, bool lines, Output& out,
                         std::optional<SourceLine>& frame_line) {
  Json calls = Json::array();
  for (const InlinedCall& call : chain.inlined) {
    out.print("    [{:x}] {} (inlined)\n", f.sp.value(), call.function);
    if (lines && !call.where.file.empty()) out.print("    {}: {}\n", call.where.file, call.where.line);
    calls.push_back({{"function", call.function},
                     {"file", call.where.file.empty() ? Json(nullptr) : Json(call.where.file)},
                     {"line", call.where.file.empty() ? Json(nullptr) : Json(call.where.line)}});
  }
  if (lines && chain.call_site) frame_line = chain.call_site->file.empty() ? std::nullopt : chain.call_site;
  return calls;
}

// A return address is named by the call before it (ip - 1), as the kernel's
// own traces and gdb do: a call that never returns (panic() calling vpanic()
// last) leaves a return address that is already the next function's start.
std::string symbol_text(const Kernel& k, VirtAddr ip, Offsets offsets, bool return_address, bool* in_module = nullptr,
                        std::string* module = nullptr) {
  auto hit = k.symbol_at(return_address ? ip - 1 : ip);
  if (hit && return_address) ++hit->offset;
  if (!hit) return "(unknown)";
  if (module != nullptr) *module = std::string(hit->symbol->module);
  if (in_module != nullptr) *in_module = !hit->symbol->module.empty();
  std::string name(hit->symbol->name);
  switch (offsets) {
    case Offsets::None:
      return name;
    case Offsets::Decimal:
      return fmt::format("{}+{}", name, hit->offset);
    case Offsets::Hex:
      return fmt::format("{}+{:#x}", name, hit->offset);
  }
  return name;
}

// crash's names for the stacks a backtrace leaves: "--- <IRQ stack> ---".
std::string stack_title(const std::string& stack) {
  static const std::map<std::string, std::string, std::less<>> kTitles = {{"irq", "IRQ stack"},
                                                                          {"nmi", "NMI exception stack"},
                                                                          {"#DF", "DOUBLEFAULT exception stack"},
                                                                          {"#MC", "MCE exception stack"},
                                                                          {"#DB", "DEBUG exception stack"},
                                                                          {"#VC", "VC exception stack"},
                                                                          {"#VC2", "VC2 exception stack"},
                                                                          {"entry", "ENTRY TRAMPOLINE stack"}};
  auto it = kTitles.find(stack);
  return it == kTitles.end() ? stack + " stack" : it->second;
}

// bt -F: a stack word that is the address of something in the kernel image
// or a module (a return address, a static variable, an ops table), named as
// crash's -F names it: "name" at the symbol's start, else "name+off" in
// decimal. Other words (heap, stack and user pointers, numbers) have no name.
std::optional<std::string> symbolic_word(const Kernel& k, uint64_t word) {
  const VirtAddr a{word};
  bool in_module = false;
  for (const Module& m : k.modules().all()) in_module = in_module || m.contains(a);
  if (!k.layout().in_image(a) && !in_module) return std::nullopt;
  auto hit = k.symbol_at(a);
  if (!hit) return std::nullopt;
  std::string name(hit->symbol->name);
  return hit->offset ? fmt::format("{}+{}", name, hit->offset) : name;
}

// The words of a frame's data (-f): from the slot after its return address
// up to and including the next frame's return-address slot, two a line.
// -F: each word that is a symbol's address as "name" or "name+off" (decimal),
// else the number. -FF in crash also names slab objects by their cache:
// not done (kdive does not read the slab allocator yet).
void print_frame_data(const Kernel& k, const Frame& f, const Frame* next, bool symbolic, Output& out, Json& row) {
  if (next == nullptr || next->stack != f.stack || next->sp <= f.sp) return;
  const uint64_t from = f.sp.value() + 8, to = next->sp.value() + 8;
  if (to - from > 64 * 1024) return;  // not one frame: a stack switch the unwinder did not name
  Json words = Json::array();
  std::string line;
  for (uint64_t at = from; at < to; at += 8) {
    std::string word;
    std::optional<uint64_t> value;
    try {
      value = k.memory().read<uint64_t>(VirtAddr{at});
      word = fmt::format("{:016x}", *value);
    } catch (const ModelError&) {
      word = "????????????????";  // one unreadable word: the line still shows the rest
    }
    if ((at - from) % 16 == 0) line = fmt::format("    {:x}: ", at);
    if (symbolic) {
      std::optional<std::string> name = value ? symbolic_word(k, *value) : std::nullopt;
      line += fmt::format("{:<16} ", name.value_or(word));  // a name takes a word's width at least, as in crash
      words.push_back(
          {{"value", value ? Json(json_hex(*value)) : Json(nullptr)}, {"symbol", name ? Json(*name) : Json(nullptr)}});
    } else {
      line += word + " ";
      words.push_back(word);
    }
    if ((at - from) % 16 == 8 || at + 8 >= to) out.print("{}\n", line);
  }
  row["data"] = std::move(words);
}

Json print_backtrace(const Kernel& k, const Task& t, const Backtrace& bt, const Style& style, Output& out) {
  out.print("{}\n", task_header(t));
  Json frames = Json::array();
  bool marked = false;
  // The trace ended before its natural end: say where and why, in place; any
  // frames after the marker were guessed from the rest of the stack.
  auto mark_stop = [&] {
    if (marked || bt.stop.empty()) return;
    marked = true;
    out.print("    (damaged: {})\n", bt.stop);
  };
  for (size_t i = 0; i < bt.frames.size(); ++i) {
    const Frame& f = bt.frames[i];
    if (f.guessed) mark_stop();
    if (i > 0 && bt.frames[i - 1].stack != f.stack && bt.frames[i - 1].stack != "task") {
      out.print("--- <{}> ---\n", stack_title(bt.frames[i - 1].stack));
    }
    bool in_module = false;
    std::string module;
    const bool return_address = f.return_address;
    std::string name = symbol_text(k, f.ip, style.offsets, return_address, &in_module, &module);
    // -l names the line-table row of the address (as crash, sym and dis -l);
    // --inline moves that row to the innermost inlined call.
    std::optional<SourceLine> frame_line;
    if (style.lines) frame_line = k.source_line(f.lookup_ip().value());
    Json inlined;
    if (style.inlines != nullptr) {
      inlined = print_inlined_calls(style.inlines->at(f.lookup_ip()), f, style.lines, out, frame_line);
    }
    out.print("{}#{:<1} [{:x}] {} at {:x}{}{}\n", i < 10 ? " " : "", i, f.sp.value(), name, f.ip.value(),
              in_module ? fmt::format(" [{}]", module) : "",
              f.guessed             ? "  (guessed: found by stack scan)"
              : f.recovered.empty() ? ""
                                    : fmt::format("  ({})", f.recovered));
    Json row = {{"level", i},
                {"sp", json_hex(f.sp.value())},
                {"ip", json_hex(f.ip.value())},
                {"symbol", name},
                {"module", in_module ? Json(module) : Json(nullptr)},
                {"stack", f.stack},
                {"guessed", f.guessed},
                {"recovered", f.recovered.empty() ? Json(nullptr) : Json(f.recovered)}};
    if (frame_line) {
      out.print("    {}: {}\n", frame_line->file, frame_line->line);
      row["source"] = fmt::format("{}:{}", frame_line->file, frame_line->line);
    }
    if (style.inlines != nullptr) row["inlined"] = std::move(inlined);
    if (style.frame_data && !f.regs)
      print_frame_data(k, f, i + 1 < bt.frames.size() ? &bt.frames[i + 1] : nullptr, style.symbolic, out, row);
    if (f.regs) {
      if (!f.user_regs) {
        out.print("    [exception RIP: {}]\n", symbol_text(k, VirtAddr{f.regs->rip}, Offsets::Decimal, false));
      }
      out.print("{}", register_block(*f.regs));
      row["registers"] = register_block_json(*f.regs);
      row["user_mode"] = f.user_regs;
    }
    frames.push_back(std::move(row));
  }
  Json result = task_header_json(t);
  result["start"] = bt.start;
  result["frames"] = std::move(frames);
  mark_stop();
  if (!bt.stop.empty()) {
    out.data_lost(fmt::format("bt of pid {} ({:x}): {}", t.pid, t.address.value(), bt.stop));
    result["error"] = bt.stop;
  }
  return result;
}

// bt -t / -T: every text address on the stack, from the starting stack
// pointer (-t) or the bottom of the stack (-T) to its top.
Json print_text_symbols(const Kernel& k, const Unwinder& unwinder, const Task& t, const Backtrace& bt, bool whole,
                        Output& out) {
  out.print("{}\n", task_header(t));
  Json found = Json::array();
  if (bt.frames.empty()) {
    out.print("    (damaged: {})\n", bt.stop.empty() ? "no starting stack pointer" : bt.stop);
    return found;
  }
  const Frame& first = bt.frames.front();
  out.print("              START: {} at {:x}\n", symbol_text(k, first.ip, Offsets::None, false), first.ip.value());
  for (const Unwinder::StackRange& s : unwinder.stacks_of(t)) {
    if (!whole && !s.contains(first.sp)) continue;
    const uint64_t begin = whole ? s.begin.value() : first.sp.value();
    for (uint64_t at = begin; at + 8 <= s.end.value(); at += 8) {
      uint64_t word = 0;
      try {
        word = k.memory().read<uint64_t>(VirtAddr{at});
      } catch (const ModelError& e) {
        out.print("    (damaged: stack at {:x}: {})\n", at, e.what());
        out.data_lost(fmt::format("bt -t of pid {}: stack at {:x}: {}", t.pid, at, e.what()));
        break;
      }
      auto hit = k.symbol_at(VirtAddr{word});
      if (!hit || (hit->symbol->type != 'T' && hit->symbol->type != 't')) continue;
      out.print("  [{:x}] {} at {:x}\n", at, hit->symbol->name, word);
      found.push_back({{"sp", json_hex(at)}, {"symbol", std::string(hit->symbol->name)}, {"ip", json_hex(word)}});
    }
  }
  return found;
}

// bt -r: the task's whole stack, two words a line, kernel text addresses
// shown as symbol+offset, as crash prints it. An unreadable page is a marker
// line; the pages after it still print.
Json print_raw_stack(const Kernel& k, const Unwinder& unwinder, const Task& t, Output& out) {
  out.print("{}\n", task_header(t));
  Json words = Json::array();
  for (const Unwinder::StackRange& s : unwinder.stacks_of(t)) {
    if (s.name != "task") continue;
    std::string line;
    for (uint64_t at = s.begin.value(); at + 8 <= s.end.value(); at += 8) {
      uint64_t word = 0;
      try {
        word = k.memory().read<uint64_t>(VirtAddr{at});
      } catch (const ModelError& e) {
        const uint64_t next_page = (at | 0xfff) + 1;
        out.print("    (damaged: stack at {:x}: {})\n", at, e.what());
        out.data_lost(fmt::format("bt -r of pid {}: stack at {:x}: {}", t.pid, at, e.what()));
        words.push_back({{"address", json_hex(at)}, {"error", e.what()}});
        at = next_page - 8;
        continue;
      }
      std::string shown = fmt::format("{:016x}", word);
      Json entry = {{"address", json_hex(at)}, {"value", json_hex(word)}, {"symbol", nullptr}};
      // Text addresses as symbol+offset; any other symbol only at its exact address.
      auto hit = k.symbol_at(VirtAddr{word});
      const bool text = hit && (hit->symbol->type == 'T' || hit->symbol->type == 't');
      if (hit && (text || hit->offset == 0)) {
        shown = hit->offset ? fmt::format("{}+{}", hit->symbol->name, hit->offset) : std::string(hit->symbol->name);
        entry["symbol"] = shown;
      }
      if ((at - s.begin.value()) % 16 == 0) line = fmt::format("{:x}:  ", at);
      line += fmt::format("{:<16} ", shown);  // a symbol takes a word's width at least, as in crash
      if ((at - s.begin.value()) % 16 == 8) out.print("{}\n", line);
      words.push_back(std::move(entry));
    }
  }
  return words;
}

// bt -e / -E: the possible exception frames found on the searched stacks,
// each as "KERNEL-MODE EXCEPTION FRAME AT: <address>" (with its exception
// RIP) or "USER-MODE ...", then its register block, as crash prints them. A
// page the dump lacks is a marker in place; the search went on past it.
// Returns the frames, and the breaks as {address, stack, error}, in stack order.
Json print_exception_frames(const Kernel& k, const StackSearch& s, const std::string& who, Output& out) {
  Json found = Json::array();
  const auto& entries = s.found.entries;
  for (size_t i = 0; i <= entries.size(); ++i) {
    for (const WalkBreak* b : s.found.breaks_at(i)) {
      out.print("  (damaged: {} stack at {})\n", s.range.name, b->describe());
      out.data_lost(fmt::format("{}: {} stack at {}", who, s.range.name, b->describe()));
      found.push_back({{"address", json_hex(b->at.value())}, {"stack", s.range.name}, {"error", b->reason}});
    }
    if (i == entries.size()) break;
    const ExceptionFrame& f = entries[i];
    out.print("\n  {}-MODE EXCEPTION FRAME AT: {:x}\n", f.user_mode ? "USER" : "KERNEL", f.address.value());
    Json entry = {{"address", json_hex(f.address.value())}, {"stack", f.stack}, {"user_mode", f.user_mode}};
    if (!f.user_mode) {
      std::string rip = symbol_text(k, VirtAddr{f.regs.rip}, Offsets::Decimal, false);
      out.print("    [exception RIP: {}]\n", rip);
      entry["exception_rip"] = rip;
    }
    out.print("{}", register_block(f.regs));
    entry["registers"] = register_block_json(f.regs);
    found.push_back(std::move(entry));
  }
  return found;
}

// bt -e: the task's whole kernel stack.
Json search_task_exception_frames(const Kernel& k, const Unwinder& unwinder, const Task& t, Output& out) {
  out.print("{}\n", task_header(t));
  Json found = Json::array();
  bool any = false;
  for (const StackSearch& s : search_task_stack(k, unwinder, t)) {
    Json part = print_exception_frames(k, s, fmt::format("bt -e of pid {}", t.pid), out);
    any = any || !s.found.entries.empty();
    for (Json& e : part) found.push_back(std::move(e));
  }
  if (!any) out.print("  (no exception frames found)\n");
  return found;
}

// bt -E: every CPU's IRQ, exception and entry stacks, and the stack of the
// task running on it (-c: one CPU). Not tied to a context task, so the other
// task arguments do not apply. One result per CPU: its running task and the
// frames found, each naming its stack.
void search_cpu_exception_frames(const Kernel& k, const ParsedArgs& args, Output& out) {
  const TaskTable& table = k.tasks();
  std::vector<int> cpus;
  if (auto c = args.value('c')) {
    cpus.push_back(static_cast<int>(parse_count(*c)));
    if (table.active_on(cpus.back()) == nullptr) throw CommandError(fmt::format("no active task on cpu {}", *c));
  } else {
    for (size_t cpu = 0; cpu < table.active.size(); ++cpu) cpus.push_back(static_cast<int>(cpu));
  }
  Unwinder unwinder(k);
  Json results = Json::array();
  bool first = true;
  for (int cpu : cpus) {
    const Task* t = table.active_on(cpu);
    if (t == nullptr) continue;
    Json entry = task_header_json(*t);
    entry["cpu"] = cpu;
    Json found = Json::array();
    Json searched = Json::array();
    for (const StackSearch& s : search_cpu_stacks(k, unwinder, cpu)) {
      std::string title;
      if (s.range.name == "task") {
        title = fmt::format("TASK STACK (PID: {} COMMAND: \"{}\")", t->pid, t->comm);
      } else {
        title = stack_title(s.range.name);  // "IRQ STACK", "NMI EXCEPTION STACK": crash's titles here
        std::transform(title.begin(), title.end(), title.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      }
      out.print("{}CPU {} {}:\n", first ? "" : "\n", cpu, title);
      first = false;
      searched.push_back(s.range.name);
      if (s.unmapped) {
        out.print("(not mapped: only SEV-ES guests use this stack)\n");
        continue;
      }
      Json part = print_exception_frames(k, s, fmt::format("bt -E of cpu {}", cpu), out);
      if (s.found.entries.empty() && s.found.breaks.empty()) out.print("(none found)\n");
      for (Json& e : part) found.push_back(std::move(e));
    }
    entry["searched"] = std::move(searched);
    entry["exception_frames"] = std::move(found);
    results.push_back(std::move(entry));
  }
  out.result(std::move(results));
}

// bt -v: every task's stack end still holds STACK_END_MAGIC, which the
// kernel writes at the lowest word of each task stack (end_of_stack()); a
// stack that grew over it overwrote it. (thread_info lives in task_struct
// on x86_64 since 4.9, so there is no thread_info at the stack end to check.)
void check_stack_ends(const Kernel& k, Output& out) {
  constexpr uint64_t kStackEndMagic = 0x57ac6e9d;  // include/uapi/linux/magic.h
  Json overflows = Json::array();
  for (const Task& t : k.tasks().all) {
    if (report_if_damaged(t, out) || t.stack.is_null()) continue;
    uint64_t value = 0;
    try {
      value = k.memory().read<uint64_t>(t.stack);
    } catch (const ModelError& e) {
      out.print("{}\n  (damaged: stack end at {:x}: {})\n", task_header(t), t.stack.value(), e.what());
      out.data_lost(fmt::format("bt -v: pid {}: stack end at {:x}: {}", t.pid, t.stack.value(), e.what()));
      continue;
    }
    if (value == kStackEndMagic) continue;
    out.print("{}\n  possible stack overflow: {:x}: {:x} != {:x}\n", task_header(t), t.stack.value(), value,
              kStackEndMagic);
    Json entry = task_header_json(t);
    entry["stack_end"] = json_hex(t.stack.value());
    entry["value"] = json_hex(value);
    overflows.push_back(std::move(entry));
  }
  if (overflows.empty()) out.print("No stack overflows detected\n");
  out.result(std::move(overflows));
}

// Whether any frame of the trace names `target` (bt -R): a symbol or an address.
bool references(const Kernel& k, const Backtrace& bt, const std::string& target) {
  std::optional<uint64_t> address = parse_number(target, 16);
  for (const Frame& f : bt.frames) {
    if (address && (f.ip.value() == *address || f.sp.value() == *address)) return true;
    if (auto hit = k.symbol_at(f.lookup_ip()); hit && hit->symbol->name == target) return true;
  }
  return false;
}

std::vector<const Task*> tasks_for(Session& session, const ParsedArgs& args) {
  Kernel& k = session.kernel();
  const TaskTable& table = k.tasks();
  std::vector<const Task*> tasks;
  if (args.has('a')) {
    for (size_t cpu = 0; cpu < table.active.size(); ++cpu) {
      if (const Task* t = table.active_on(static_cast<int>(cpu))) tasks.push_back(t);
    }
    return tasks;
  }
  if (auto cpus = args.value('c')) {
    int n = static_cast<int>(parse_count(*cpus));
    if (OfflineCpus(session).hidden(n)) throw CommandError(fmt::format("CPU {} is OFFLINE", n));
    const Task* t = table.active_on(n);
    if (t == nullptr) throw CommandError(fmt::format("no active task on cpu {}", *cpus));
    return {t};
  }
  if (args.has('p')) return {&k.default_task()};
  if (!args.positional().empty()) {
    tasks = select_tasks(k, table, args.positional());
  } else {
    tasks.push_back(&session.context());
  }
  if (args.has('g')) {
    std::vector<const Task*> group;
    std::set<const Task*> seen;
    for (const Task* t : tasks) {
      for (const Task& member : table.all) {
        if (member.damage.empty() && member.tgid == t->tgid && !member.idle && seen.insert(&member).second) {
          group.push_back(&member);
        }
      }
    }
    return group;
  }
  return tasks;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  Style style;
  const int offset_flags = args.has('s') + args.has('x') + args.has('d');
  if (offset_flags > 1) throw CommandError("-s, -x and -d exclude each other");
  if (args.has('s') || args.has('d')) style.offsets = Offsets::Decimal;
  if (args.has('x')) style.offsets = Offsets::Hex;
  style.frame_data = args.has('f') || args.has('F');
  style.symbolic = args.has('F');
  style.lines = args.has('l');
  std::optional<InlineFrames> inlines;
  if (args.has(kInlineFlag)) style.inlines = &inlines.emplace(k);
  if (args.has('I') != args.has('S')) throw CommandError("-I and -S go together: the starting rip and rsp");

  if (args.has('v')) return check_stack_ends(k, out);
  if (args.has('E')) return search_cpu_exception_frames(k, args, out);
  std::vector<const Task*> tasks = tasks_for(session, args);
  Unwinder unwinder(k);
  Json results = Json::array();
  size_t stopped = 0;
  bool first = true;
  for (const Task* t : tasks) {
    if (report_if_damaged(*t, out)) {
      out.print("{}{}\n", first ? "" : "\n", task_header(*t));
      results.push_back(task_header_json(*t));
      first = false;
      continue;
    }
    Backtrace bt = args.has('I') ? unwinder.backtrace_from(*t, parse_address(&k, *args.value('I')).value(),
                                                           parse_address(&k, *args.value('S')).value())
                                 : unwinder.backtrace(*t);
    // Past damage, the rest of the stack is scanned for return addresses:
    // frames shown as guessed, after the marker.
    if (!bt.stop.empty()) unwinder.scan_after_stop(*t, bt);
    if (auto target = args.value('R'); target && !references(k, bt, *target)) continue;
    if (!first) out.print("\n");
    first = false;
    if (args.has('r')) {
      Json entry = task_header_json(*t);
      entry["raw"] = print_raw_stack(k, unwinder, *t, out);
      results.push_back(std::move(entry));
      continue;
    }
    if (args.has('e')) {
      Json entry = task_header_json(*t);
      entry["exception_frames"] = search_task_exception_frames(k, unwinder, *t, out);
      results.push_back(std::move(entry));
      continue;
    }
    if (args.has('t') || args.has('T')) {
      Json entry = task_header_json(*t);
      entry["text"] = print_text_symbols(k, unwinder, *t, bt, args.has('T'), out);
      results.push_back(std::move(entry));
      continue;
    }
    stopped += !bt.stop.empty();
    results.push_back(print_backtrace(k, *t, bt, style, out));
  }
  if (stopped > 0 && tasks.size() > 1) {
    out.warning(fmt::format("bt: {} of {} backtraces ended early (marked above)", stopped, tasks.size()));
  }
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "bt",
     .summary = "backtrace of kernel tasks",
     .usage = "bt [-a|-c cpu|-p|-g] [-f|-F] [-l] [--inline] [-s|-x|-d] [-t|-T|-r|-e] [-E] [-v] [-I ip -S sp] [-R ref] "
              "[pid | task | command] ...",
     .description = "Shows the kernel stack of a task, innermost frame first: the frame's stack slot,\n"
                    "the function and the instruction address, as crash prints them. Frames are\n"
                    "found with the kernel's ORC unwind tables (the vmlinux's, and each module's\n"
                    "from the dump's memory), across the IRQ and exception stacks (a \"--- <IRQ\n"
                    "stack> ---\" line where the trace leaves one) and through the register blocks\n"
                    "that interrupts, exceptions and system calls save: a fault or interrupt inside\n"
                    "the kernel shows \"[exception RIP: ...]\" and its registers; the entry from user\n"
                    "space ends the trace with the user-mode registers. Module functions carry\n"
                    "[module], named from the module's own symbols in the dump.\n"
                    "\n"
                    "A running task starts from its CPU's registers in the dump (NT_PRSTATUS, or the\n"
                    "kernel's crash_notes); a sleeping one from where schedule() left its stack.\n"
                    "A stack that cannot be followed (an unreadable page, a stack pointer off every\n"
                    "stack, no unwind entry) ends that trace with \"(damaged: why)\"; the next\n"
                    "task still unwinds. With no task, the current context (see set).\n"
                    "\n"
                    "-e searches the task's whole kernel stack, not only the part the trace\n"
                    "reached, for possible exception frames: every slot where a saved register\n"
                    "block (struct pt_regs) plausibly begins: cs the kernel's or user space's code\n"
                    "segment, ss to match, rflags with its always-one bit set and no reserved bit;\n"
                    "in kernel mode rip in kernel text and rsp on a stack of the task or its CPU,\n"
                    "in user mode rip and rsp user addresses. Each is shown as KERNEL-MODE (with\n"
                    "its exception RIP) or USER-MODE EXCEPTION FRAME AT its address, then its\n"
                    "registers. Stale blocks of earlier interrupts match too: these are candidates.\n"
                    "-E does the same on every CPU's IRQ, exception (NMI, #DF, #DB, #MC, ...) and\n"
                    "entry stacks and on the stack of the task running there (-c: one CPU); it\n"
                    "takes no task arguments.\n"
                    "\n"
                    "-F is -f with each stack word that is the address of a kernel or module\n"
                    "symbol shown as name or name+offset. (crash's -F also names slab objects by\n"
                    "their cache; kdive does not read the slab allocator yet, so -FF is -F.)\n"
                    "\n"
                    "--inline (not in crash) adds the functions the compiler inlined at each\n"
                    "frame's address, from the vmlinux's DWARF, innermost first, as gdb and drgn\n"
                    "show them: one line each before the frame that holds their code, with its\n"
                    "stack slot, no frame number (the numbers stay crash's) and \"(inlined)\":\n"
                    "    [ffffb858401c3eb8] pde_write (inlined)\n"
                    " #5 [ffffb858401c3eb8] proc_reg_write at ffffffff97b5bd01\n"
                    "With -l each inlined call shows where the address is in it, and the frame\n"
                    "itself where it calls the outermost one (addr2line -i's lines, in its order);\n"
                    "without --inline, -l shows the line-table row of the address, as crash does.\n"
                    "Module frames show no inlined calls.",
     .examples = "  kdive> bt\n"
                 "  PID: 126      TASK: ffff9f8d42505dc0  CPU: 0    COMMAND: \"sh\"\n"
                 "   #0 [ffffb7fa801c3df0] panic at ffffffff9627ab5d\n"
                 "   #1 [ffffb7fa801c3e70] sysrq_handle_crash at ffffffff96003f96\n"
                 "   ...\n"
                 "   #8 [ffffb7fa801c3f50] entry_SYSCALL_64_after_hwframe at ffffffff9640011f\n"
                 "      RIP: 000000000047b7a0  RSP: 00007ffd603f4a68  RFLAGS: 00000202\n"
                 "      ...\n"
                 "\n"
                 "Every CPU's running task, with symbol offsets and source lines:\n"
                 "\n"
                 "  kdive> bt -a -s -l\n"
                 "\n"
                 "The calls inlined at each frame, with their lines:\n"
                 "\n"
                 "  kdive> bt --inline -l\n"
                 "  ...\n"
                 "      [ffffb858401c3eb8] pde_write (inlined)\n"
                 "      debian/build/build_amd64_none_cloud-amd64/fs/proc/inode.c: 345\n"
                 "   #5 [ffffb858401c3eb8] proc_reg_write at ffffffff97b5bd01\n"
                 "      debian/build/build_amd64_none_cloud-amd64/fs/proc/inode.c: 357\n"
                 "\n"
                 "Every task, and only those whose stack holds a function:\n"
                 "\n"
                 "  kdive> foreach bt\n"
                 "  kdive> foreach bt -R do_nanosleep\n"
                 "\n"
                 "Exception frames on a task's stack, and on every CPU's stacks:\n"
                 "\n"
                 "  kdive> bt -e 1\n"
                 "  PID: 1        TASK: ffff8bb8411fa0c0  CPU: 0    COMMAND: \"init\"\n"
                 "\n"
                 "    KERNEL-MODE EXCEPTION FRAME AT: ffffceeec0013848\n"
                 "      [exception RIP: _raw_spin_trylock+0]\n"
                 "      RIP: ffffffff9e4180e0  RSP: ffffceeec00138f8  RFLAGS: 00000282\n"
                 "      ...\n"
                 "\n"
                 "    USER-MODE EXCEPTION FRAME AT: ffffceeec0013f58\n"
                 "      RIP: 0000000000460a63  RSP: 00007fff6b41d9b8  RFLAGS: 00000202\n"
                 "      ...\n"
                 "\n"
                 "(the first, deep in init's stack, is a stale block of an earlier interrupt:\n"
                 "the search shows what looks like a saved block, the trace what is live)\n"
                 "\n"
                 "  kdive> bt -E\n"
                 "\n"
                 "Frame data with symbol addresses named:\n"
                 "\n"
                 "  kdive> bt -F",
     .options = {{'a', "", "the task running on each CPU"},
                 {'c', "cpu", "the task running on that CPU"},
                 {'p', "", "the panic task (the task running on the CPU that panicked)"},
                 {'g', "", "every thread of the task's thread group"},
                 {'f', "", "show each frame's stack words"},
                 {'F', "", "as -f, with words that are symbol addresses shown as name+offset"},
                 {'e', "", "search the task's whole stack for possible exception frames"},
                 {'E', "", "search every CPU's IRQ, exception and task stacks for exception frames"},
                 {'l', "", "show each frame's source file and line"},
                 {'s', "", "show symbol offsets in decimal (name+18)"},
                 {'d', "", "the same as -s"},
                 {'x', "", "show symbol offsets in hex (name+0x12)"},
                 {'t', "", "every text address on the stack from the starting stack pointer up"},
                 {'T', "", "every text address on the task's whole stack"},
                 {'r', "", "the task's whole stack, raw, with text addresses shown as symbols"},
                 {'v', "", "check every task's stack end for the overflow magic"},
                 {'I', "ip", "start from this instruction address (with -S)"},
                 {'S', "sp", "start from this stack pointer (with -I)"},
                 {'R', "ref", "only backtraces that hold this symbol or address"},
                 {kInlineFlag, "", "show the calls inlined at each frame, innermost first", "inline"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm", "start", "frames"},
              .notes = "One object per task: its identity, where the starting registers came from\n"
                       "(start), and frames [{level, sp, ip, symbol, module, stack, guessed, recovered}]\n"
                       "(recovered: null, or how a frame exact unwinding could not reach was found and\n"
                       "checked, e.g. \"found on the stack\"), a frame\n"
                       "that saved registers adding registers {rip, rsp, ...} and user_mode; -l adds\n"
                       "source, -f data (the frame's stack words), --inline inlined: [{function, file,\n"
                       "line}] (innermost first; file and line null when unknown; with -l, source is\n"
                       "then where the frame calls the outermost one). A trace that ended early has\n"
                       "\"error\" saying why. -t/-T give {pid, task, cpu, comm, text: [{sp, symbol, ip}]};\n"
                       "-r gives raw: [{address, value, symbol}] for every word of the task stack;\n"
                       "-v a list of the tasks whose stack end lost its magic: {pid, task, cpu, comm,\n"
                       "stack_end, value} (empty: no overflow).\n"
                       "-e gives {pid, task, cpu, comm, exception_frames: [{address, stack, user_mode,\n"
                       "exception_rip (kernel mode), registers}]}, an unreadable stack page in place as\n"
                       "{address, stack, error}; -E one object per CPU: its running task's {pid, task,\n"
                       "cpu, comm}, searched (the stacks' names) and exception_frames as for -e.\n"
                       "-F makes data [{value, symbol}] (symbol null for a word that names nothing).\n"
                       "A damaged task is {pid, task, error}.",
              .example = "bt -a"}},
    run};

}  // namespace
}  // namespace kdive
