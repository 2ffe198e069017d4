// sig: a task's signal handling, in crash's layout — the handlers of its
// sighand_struct, whether a signal is pending, the blocked mask, and the
// pending sets with their queued siginfos (the thread's own and its group's);
// -g for every thread of a group, -l the signal names, -s a sigset decoded.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/signals.hpp"

namespace kdive {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// SIG_DFL, SIG_IGN, a kernel function by name, else a user address in hex.
std::string handler_text(const Kernel& k, uint64_t handler) {
  if (handler == 0) return "SIG_DFL";
  if (handler == 1) return "SIG_IGN";
  if (handler >= kKernelHalf) {
    if (auto hit = k.symbol_at(VirtAddr{handler}); hit && hit->offset == 0) return std::string(hit->symbol->name);
  }
  return fmt::format("{:x}", handler);
}

Json pending_json(const PendingSignals& p) {
  Json queue = Json::array();
  for (const QueuedSignal& q : p.queue.entries) {
    queue.push_back(
        {{"signo", q.signo}, {"sigqueue", json_hex(q.sigqueue.value())}, {"siginfo", json_hex(q.siginfo.value())}});
  }
  return {{"signal", json_hex(p.signal)}, {"names", signal_names(p.signal)}, {"queue", std::move(queue)}};
}

// PRIVATE_PENDING / SHARED_PENDING: the set, then each queued signal.
void print_pending(Output& out, std::string_view indent, std::string_view title, const PendingSignals& p) {
  out.print("{}{}\n{}    SIGNAL: {:016x}\n", indent, title, indent, p.signal);
  if (p.queue.entries.empty() && p.queue.breaks.empty()) {
    out.print("{}  SIGQUEUE: (empty)\n", indent);
    return;
  }
  out.print("{}  SIGQUEUE:  SIG  SIGINFO\n", indent);
  for (size_t i = 0; i <= p.queue.entries.size(); ++i) {
    for (const WalkBreak* b : p.queue.breaks_at(i)) {
      out.print("{}            (damaged: {})\n", indent, b->describe());
      out.data_lost(fmt::format("sig: {} queue: {}", title, b->describe()));
    }
    if (i == p.queue.entries.size()) break;
    const QueuedSignal& q = p.queue.entries[i];
    out.print("{}            {:>3}  {:016x}\n", indent, q.signo, q.siginfo.value());
  }
}

// The group's part: signal_struct, handlers, shared pending set.
void print_group(const Kernel& k, const TaskSignals& s, Output& out) {
  out.print("SIGNAL_STRUCT: {:016x}  NR_THREADS: {}\n", s.signal_struct.value(), s.nr_threads);
  out.print(" SIG    SIGACTION        HANDLER       MASK       FLAGS\n");
  for (const SignalAction& a : s.actions) {
    std::string names = sigaction_flag_names(a.flags);
    std::string line = fmt::format("{:>4} {:016x} {:>10} {:016x} {:x}", fmt::format("[{}]", a.signo),
                                   a.sigaction.value(), handler_text(k, a.handler), a.mask, a.flags);
    if (a.flags != 0 && !names.empty()) line += " (" + names + ")";
    out.print("{}\n", line);
  }
}

// The thread's part: TIF_SIGPENDING, blocked, its own pending set.
void print_thread(const TaskSignals& s, Output& out, std::string_view indent) {
  out.print("{}SIGPENDING: {}\n{}   BLOCKED: {:016x}\n", indent, s.sigpending ? "yes" : "no", indent, s.blocked);
  print_pending(out, indent, "PRIVATE_PENDING", s.pending);
}

Json signals_json(const Kernel& k, const Task& t, const TaskSignals& s) {
  Json j = task_header_json(t);
  Json actions = Json::array();
  for (const SignalAction& a : s.actions) {
    actions.push_back(
        {{"signo", a.signo},
         {"name", signal_name(a.signo)},
         {"sigaction", json_hex(a.sigaction.value())},
         {"handler", a.handler <= 1 ? Json(a.handler == 0 ? "SIG_DFL" : "SIG_IGN") : Json(json_hex(a.handler))},
         {"handler_text", handler_text(k, a.handler)},
         {"mask", json_hex(a.mask)},
         {"flags", json_hex(a.flags)},
         {"flag_names", sigaction_flag_names(a.flags)}});
  }
  j["signal_struct"] = json_hex(s.signal_struct.value());
  j["sighand"] = json_hex(s.sighand.value());
  j["nr_threads"] = s.nr_threads;
  j["actions"] = std::move(actions);
  j["sigpending"] = s.sigpending;
  j["blocked"] = json_hex(s.blocked);
  j["pending"] = pending_json(s.pending);
  j["shared_pending"] = pending_json(s.shared);
  j["ignored"] = json_hex(s.ignored);
  j["caught"] = json_hex(s.caught);
  j["error"] = nullptr;
  return j;
}

// A task's signals, or its marker and error when they cannot be read.
std::optional<TaskSignals> read_or_mark(const Kernel& k, const Task& t, Output& out, Json& results) {
  if (report_if_damaged(t, out)) {
    out.print("{}\n\n", task_header(t));
    results.push_back(task_header_json(t));
    return std::nullopt;
  }
  try {
    return read_task_signals(k, t.address);
  } catch (const ModelError& e) {
    out.print("{}\n(damaged: {})\n\n", task_header(t), e.what());
    out.data_lost(fmt::format("sig: pid {}: {}", t.pid, e.what()));
    Json j = task_header_json(t);
    j["error"] = e.what();
    results.push_back(std::move(j));
    return std::nullopt;
  }
}

void print_one(const Kernel& k, const Task& t, Output& out, Json& results) {
  auto s = read_or_mark(k, t, out, results);
  if (!s) return;
  out.print("{}\n", task_header(t));
  print_group(k, *s, out);
  print_thread(*s, out, "");
  print_pending(out, "", "SHARED_PENDING", s->shared);
  out.print("\n");
  results.push_back(signals_json(k, t, *s));
}

// -g: the group's part once (from the leader), then each thread's part.
void print_group_of(const Kernel& k, const Task& t, Output& out, Json& results) {
  const Task* leader = k.tasks().by_pid(t.tgid);
  if (leader == nullptr) leader = &t;
  auto s = read_or_mark(k, *leader, out, results);
  if (!s) return;
  out.print("{}\n", task_header(*leader));
  print_group(k, *s, out);
  print_pending(out, "", "SHARED_PENDING", s->shared);
  Json group = signals_json(k, *leader, *s);
  Json threads = Json::array();
  for (const Task& th : k.tasks().all) {
    if (th.tgid != leader->tgid || th.idle) continue;
    out.print("\n");
    Json unused = Json::array();
    auto ts = th.address == leader->address ? s : read_or_mark(k, th, out, unused);
    if (!ts) {
      for (Json& u : unused) threads.push_back(std::move(u));
      continue;
    }
    out.print("  {}\n", task_header(th));
    print_thread(*ts, out, "  ");
    threads.push_back(signals_json(k, th, *ts));
  }
  out.print("\n");
  group["threads"] = std::move(threads);
  results.push_back(std::move(group));
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.has('l')) {
    Json list = Json::array();
    for (int i = 1; i <= kSignalCount; ++i) {
      out.print("{:>4} {}\n", fmt::format("[{}]", i), signal_name(i));
      list.push_back({{"signo", i}, {"name", signal_name(i)}});
    }
    return out.result(std::move(list));
  }
  if (auto set = args.value('s')) {
    std::string digits = *set;
    if (digits.starts_with("0x") || digits.starts_with("0X")) digits = digits.substr(2);
    auto value = parse_number("0x" + digits, 16);
    if (digits.empty() || digits.size() > 16 || !value) {
      throw CommandError(fmt::format("-s {}: not a 64-bit hexadecimal sigset", *set));
    }
    std::vector<std::string> names = signal_names(*value);
    out.print("{}\n", join(names));
    return out.result({{"sigset", json_hex(*value)}, {"names", names}});
  }
  const std::vector<const Task*> tasks = tasks_or_context(session, args.positional());
  Json results = Json::array();
  for (const Task* t : tasks) {
    if (args.has('g')) {
      print_group_of(k, *t, out, results);
    } else {
      print_one(k, *t, out, results);
    }
  }
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "sig",
     .summary = "task signal handling",
     .usage = "sig [-l] | [-s sigset] | [-g] [pid | taskp | command] ...",
     .description = "Shows a task's signal handling (the current context's when no task is given):\n"
                    "its signal_struct and thread count; for each of the 64 signals the address of\n"
                    "its k_sigaction, the handler (SIG_DFL, SIG_IGN, or the user address), the mask\n"
                    "blocked while it runs and its SA_ flags; whether the thread has a signal\n"
                    "pending (TIF_SIGPENDING); the blocked set; and the pending sets, the thread's\n"
                    "own (PRIVATE_PENDING) and its group's (SHARED_PENDING), each with the signal\n"
                    "number and siginfo address of every queued signal. Sets are 64-bit hex,\n"
                    "signal N being bit N-1, as /proc/PID/status shows SigPnd, ShdPnd and SigBlk.\n"
                    "A queue that cannot be walked to its end shows '(damaged: ...)' where it broke.\n\n"
                    "  -g         every thread of each task's thread group: the group's handlers\n"
                    "             and shared pending set once, then each thread's own part.\n"
                    "  -l         the signal numbers and their names.\n"
                    "  -s sigset  the names of the signals set in a 64-bit hexadecimal sigset.",
     .examples = "  kdive> sig 1\n"
                 "  PID: 1        TASK: ffff8da6011c8000  CPU: 0    COMMAND: \"init\"\n"
                 "  SIGNAL_STRUCT: ffff8da6011e5680  NR_THREADS: 1\n"
                 "   SIG    SIGACTION        HANDLER       MASK       FLAGS\n"
                 "   [1] ffff8da6011eeb60    SIG_DFL 0000000000000000 0\n"
                 "   [2] ffff8da6011eeb80     525892 fffffffe7ffbfeff 4000000 (SA_RESTORER)\n"
                 "  ...\n"
                 "  SIGPENDING: no\n"
                 "     BLOCKED: 0000000000000000\n"
                 "  PRIVATE_PENDING\n"
                 "      SIGNAL: 0000000000000000\n"
                 "    SIGQUEUE: (empty)\n"
                 "  SHARED_PENDING\n"
                 "      SIGNAL: 0000000000000000\n"
                 "    SIGQUEUE: (empty)\n\n"
                 "Which signals a SigBlk line of /proc/PID/status names:\n\n"
                 "  kdive> sig -s 4001\n"
                 "  SIGHUP SIGTERM",
     .options = {{'g', "", "every thread of the thread group"},
                 {'l', "", "list the signal names"},
                 {'s', "sigset", "decode a hexadecimal sigset"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm", "signal_struct", "sighand", "nr_threads", "actions", "sigpending",
                       "blocked", "pending", "shared_pending", "ignored", "caught", "error"},
              .notes = "One object per task. Sets (blocked, ignored, caught, masks) are hex strings,\n"
                       "signal N being bit N-1; ignored and caught are what /proc/PID/status calls\n"
                       "SigIgn and SigCgt. actions: 64 {signo, name, sigaction, handler (\"SIG_DFL\",\n"
                       "\"SIG_IGN\" or an address), handler_text, mask, flags, flag_names}. pending and\n"
                       "shared_pending: {signal, names, queue: [{signo, sigqueue, siginfo}]}. error is\n"
                       "set (and the rest absent) when the task's signals could not be read. -g adds\n"
                       "threads (the same objects) to the leader's object; -l gives [{signo, name}],\n"
                       "-s {sigset, names}.",
              .example = "sig 1"}},
    run};

}  // namespace
}  // namespace kdive
