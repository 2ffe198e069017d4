// task: a task's task_struct, whole or selected members, as crash's task
// prints it (after the task's PID/TASK/CPU/COMMAND line).
#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

std::vector<std::string> member_list(const ParsedArgs& args) {
  std::vector<std::string> members;
  for (const auto& value : args.all_values('R')) {
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string m = value.substr(start, comma - start);
      if (m.empty()) throw CommandError(fmt::format("empty member name in '-R {}'", value));
      members.push_back(std::move(m));
      start = comma + 1;
    }
  }
  return members;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  const std::vector<const Task*> tasks = tasks_or_context(session, args.positional());
  const std::vector<std::string> members = member_list(args);
  const Type& task_struct = k.types().require("struct task_struct");
  // Check every member before printing anything: a typo is one error line.
  for (const auto& m : members) {
    if (!task_struct.strip().member(m)) throw CommandError(fmt::format("invalid task_struct member: {}", m));
  }
  ValueFormat f = value_format_for(k,
                                   args.has('x')   ? 16
                                   : args.has('d') ? 10
                                                   : session.settings().radix,
                                   session.settings());
  KernelEvalContext ctx(k);
  Json results = Json::array();
  for (const Task* t : tasks) {
    // A damaged task's struct is still shown: its memory is what there is to see.
    report_if_damaged(*t, out);
    out.print("{}\n", task_header(*t));
    Value v = Value::in_memory(ctx, t->address, &task_struct);
    Json entry = task_header_json(*t);
    if (members.empty()) {
      out.print("struct task_struct {}\n", format_value(v, f, 0));
      if (out.json()) entry["task_struct"] = value_json(v);
    } else {
      print_struct_members(out, v, members, f);
      Json selected = Json::object();
      for (const auto& m : members) selected[m] = value_json(v.member(m));
      entry["task_struct"] = std::move(selected);
    }
    out.print("\n");
    results.push_back(std::move(entry));
  }
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "task",
     .summary = "task_struct contents",
     .usage = "task [-R member[,member]] [-x|-d] [pid | taskp | command] ...",
     .description = "Prints a task's struct task_struct after its PID/TASK/CPU/COMMAND line; with\n"
                    "no task, the current context's (see set). Task arguments are pids, task_struct\n"
                    "addresses, command names or regular expressions, as for ps.\n\n"
                    "  -R member[,member]  only these members; a member may be nested (se.on_rq)\n"
                    "                      and -R may be repeated.\n"
                    "  -x / -d             integers in hexadecimal / decimal (default: set radix).",
     .examples = "  kdive> task -R pid,comm 88\n"
                 "  PID: 88       TASK: ffff9d8d01e43e80  CPU: 1    COMMAND: \"kd-busy\"\n"
                 "    pid = 88,\n"
                 "    comm = \"kd-busy\\000\\000\\000\\000\\000\\000\\000\\000\",\n\n"
                 "Scheduling state of every task running at the crash:\n\n"
                 "  kdive> foreach RU task -R se.on_rq,on_cpu\n\n"
                 "The whole task_struct of the current context:\n\n"
                 "  kdive> task",
     .options = {{'R', "member[,member]", "only these members"}, {'x', "", "hexadecimal"}, {'d', "", "decimal"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm", "task_struct"},
              .notes = "One object per task: task_struct holds the whole structure, member -> value\n"
                       "(structs as objects, arrays as arrays, char arrays as text, pointers as \"0x...\",\n"
                       "enums by name; a member that cannot be read is {\"error\": ...}). With -R it\n"
                       "holds only the members asked for, keyed as typed (\"se.on_rq\"). -x and -d\n"
                       "change the text only.",
              .example = "task -R pid,comm 1"}},
    run};

}  // namespace
}  // namespace kdive
