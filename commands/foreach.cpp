// foreach: runs a per-task command over a selection of tasks, as crash's
// foreach does: the selectors (pids, task addresses, names, 'regexes', states,
// kernel/user/gleader/active) come first, the command and its flags after.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "commands/api/command.hpp"
#include "commands/api/interrupt.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// The commands that act on one task (the current context) and make sense per
// task; ps takes the whole selection at once.
const std::set<std::string, std::less<>> kInnerCommands = {"bt",  "files", "net", "ps",  "set",
                                                           "sig", "task",  "vm",  "vtop"};
const std::set<std::string, std::less<>> kStates = {"RU", "IN", "UN", "ST", "ZO", "TR",
                                                    "DE", "SW", "WA", "PA", "ID", "NE"};
const std::set<std::string, std::less<>> kKinds = {"kernel", "user", "gleader", "active"};
// Inner commands whose own output does not name the task: foreach heads each
// task's part with the task's line, as crash does.
const std::set<std::string, std::less<>> kNeedsHeader = {"vtop"};
// Inner commands whose output for one task does not end in an empty line:
// foreach separates the tasks with one, as crash does.
const std::set<std::string, std::less<>> kNeedsSeparator = {"vm", "net"};

struct Selection {
  std::vector<std::string> identities;  // pids, task addresses, names
  std::set<std::string, std::less<>> states, kinds;
};

bool keep(const Task& t, const Selection& s) {
  if (!s.states.empty() && !s.states.contains(t.state_code())) return false;
  if (s.kinds.contains("kernel") && !t.is_kernel_thread()) return false;
  if (s.kinds.contains("user") && t.is_kernel_thread()) return false;
  if (s.kinds.contains("gleader") && !t.is_group_leader()) return false;
  if (s.kinds.contains("active") && !t.active) return false;
  return true;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const auto& words = args.positional();
  auto command_at =
      std::find_if(words.begin(), words.end(), [](const std::string& w) { return kInnerCommands.contains(w); });
  if (command_at == words.end()) {
    throw CommandError(fmt::format("no command given: one of bt, files, net, ps, set, sig, task, vm, vtop"));
  }
  const Command* inner = CommandRegistry::instance().find(*command_at);
  if (inner == nullptr) throw CommandError(fmt::format("{} is not available in this kdive yet", *command_at));

  Selection sel;
  for (auto it = words.begin(); it != command_at; ++it) {
    if (kStates.contains(*it)) {
      sel.states.insert(*it);
    } else if (kKinds.contains(*it)) {
      sel.kinds.insert(*it);
    } else {
      sel.identities.push_back(*it);
    }
  }
  if (sel.kinds.contains("kernel") && sel.kinds.contains("user"))
    throw CommandError("kernel and user exclude each other");

  Kernel& k = session.kernel();
  std::vector<const Task*> tasks = select_tasks(k, k.tasks(), sel.identities);
  std::erase_if(tasks, [&](const Task* t) { return !keep(*t, sel); });
  if (tasks.empty()) throw CommandError("no task matches the selection");

  std::vector<std::string> inner_words(command_at + 1, words.end());
  if (inner->spec.name == "ps") {
    for (const Task* t : tasks) inner_words.push_back(fmt::format("{:x}", t->address.value()));
    inner->run(session, parse_args(inner->spec, inner_words), out);
    return;
  }
  ParsedArgs inner_args = parse_args(inner->spec, inner_words);
  // crash's foreach net shows each task's sockets: -s when neither -s nor -S
  // is given (crash warns and does the same).
  if (inner->spec.name == "net" && !inner_args.has('s') && !inner_args.has('S')) {
    out.warning("net: foreach net shows sockets: -s assumed");
    inner_args.add_flag('s', "");
  }
  const Task& before = session.context();
  size_t failed = 0;
  std::string first_error;
  Json results = Json::array();
  const bool header = !out.json() && kNeedsHeader.contains(inner->spec.name);
  for (const Task* t : tasks) {
    // A damaged task is named with its marker; the command does not run on
    // memory that is known to be wrong.
    if (report_if_damaged(*t, out)) {
      out.print("{}{}\n", t == tasks.front() ? "" : "\n", task_header(*t));
      results.push_back(task_header_json(*t));
      continue;
    }
    session.set_context(*t);
    // net -R prints only the tasks that hold the reference, each ending in an
    // empty line itself.
    const bool separate =
        kNeedsSeparator.contains(inner->spec.name) && !(inner->spec.name == "net" && inner_args.has('R'));
    if (!out.json() && t != tasks.front() && separate) out.print("\n");
    if (header) out.print("{}{}\n", t == tasks.front() ? "" : "\n", task_header(*t));
    Json entry = task_header_json(*t);
    // In JSON mode each task's run gets its own sink, so its result lands in
    // its own entry; its warnings and lost items are the whole command's.
    StringOutput task_json(OutputMode::Json);
    Output& task_out = out.json() ? task_json : out;
    try {
      inner->run(session, inner_args, task_out);
      if (out.json()) entry["result"] = task_json.take_result();
    } catch (const Interrupted&) {
      throw;  // Ctrl-C (or q in the pager) stops the whole foreach, not one task
    } catch (const std::exception& e) {
      if (failed++ == 0) first_error = fmt::format("PID {}: {}", t->pid, e.what());
      entry["error"] = e.what();
    }
    for (const auto& w : task_json.warnings()) out.warning(w);
    for (const auto& l : task_json.lost_items()) out.data_lost(l);
    results.push_back(std::move(entry));
  }
  // foreach set leaves the last task as the context, like crash; the others
  // only borrow it.
  if (inner->spec.name != "set") session.set_context(before);
  if (failed == 0) return out.result(std::move(results));
  std::string summary =
      fmt::format("{} failed for {} of {} tasks; first: {}", inner->spec.name, failed, tasks.size(), first_error);
  // When every task failed, the command did (a bad flag, say); otherwise those
  // tasks are items that could not be shown, and the rest stands.
  if (failed == tasks.size()) throw CommandError(summary);
  out.warning(fmt::format("foreach: {}", summary));
  out.data_lost(summary);
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "foreach",
     .summary = "run a command for each of a set of tasks",
     .usage = "foreach [pid | taskp | name | 'regex' | state | kernel | user | gleader | active] ... "
              "command [flag] [argument]",
     .description = "Runs a per-task command once for each selected task, as if `set` had made each\n"
                    "the current context in turn. Without selectors, every task (idle tasks too).\n\n"
                    "  pid, taskp, name, 'regex'  tasks by pid, task_struct address, command name,\n"
                    "                             or a regular expression (in single quotes) on it.\n"
                    "  RU IN UN ST ZO TR DE SW WA PA ID NE\n"
                    "                             only tasks in one of these states.\n"
                    "  kernel | user              only kernel threads, or only user tasks.\n"
                    "  gleader                    only thread-group leaders.\n"
                    "  active                     only the tasks running on a CPU at the crash.\n\n"
                    "The command is one of: ps, task, files, set (and bt, vm, net, sig, vtop as they\n"
                    "become available), followed by its own flags. ps shows the selection as one table.\n"
                    "A task the command fails on is reported after the others have run (batch\n"
                    "exit status 3: data was lost); when it fails on every task, foreach fails.",
     .examples = "Open files of every user task:\n\n"
                 "  kdive> foreach user files\n\n"
                 "Which tasks hold a file whose path contains known.txt:\n\n"
                 "  kdive> foreach files -R known.txt\n\n"
                 "The running tasks as a ps table:\n\n"
                 "  kdive> foreach RU ps\n\n"
                 "pid and comm of every task whose name starts with kd-:\n\n"
                 "  kdive> foreach 'kd-.*' task -R pid,comm",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm"},
              .notes = "One object per selected task, with the command's own result under \"result\"\n"
                       "(or \"error\" where it failed for that task); `foreach ... ps` gives ps's result.",
              .example = "foreach user task -R pid"},
     .flags_end_at_first_word = true},
    run};

}  // namespace
}  // namespace kdive
