// set: shows or changes the current context (the task that task, files, bt and
// the other per-task commands act on by default), and kdive's variables, as
// crash's set does.
#include <fmt/format.h>

#include <filesystem>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

const char* output_name(OutputMode mode) { return mode == OutputMode::Json ? "json" : "text"; }

// "on (less -X -E -R -K)": the state and what pages.
std::string scroll_text(const SessionSettings& s) {
  if (!s.scroll) return "off";
  return fmt::format("on ({})", s.pager.empty() ? "built-in --More--" : s.pager);
}

void show_variables(Session& session, Output& out) {
  const SessionFiles& files = session.files();
  std::string dumps;
  for (const auto& d : files.dumps) dumps += (dumps.empty() ? "" : " ") + d;
  out.print("        scroll: {}\n", scroll_text(session.settings()));
  out.print("         radix: {} ({})\n", session.settings().radix,
            session.settings().radix == 16 ? "hexadecimal" : "decimal");
  out.print("        output: {}\n", output_name(session.settings().output));
  const auto& source_dir = session.settings().source_dir;
  out.print("        srcdir: {}\n", source_dir ? source_dir->string() : "(none)");
  out.print("      namelist: {}\n", files.vmlinux ? files.vmlinux->string() : "(none)");
  out.print("      dumpfile: {}\n", dumps.empty() ? "(none)" : dumps);
  out.result({{"scroll", session.settings().scroll ? "on" : "off"},
              {"radix", session.settings().radix},
              {"output", output_name(session.settings().output)},
              {"srcdir", source_dir ? Json(source_dir->string()) : Json(nullptr)},
              {"namelist", files.vmlinux ? Json(files.vmlinux->string()) : Json(nullptr)},
              {"dumpfile", files.dumps}});
}

// `set radix 16`, `set scroll off`: false when `name` is no variable.
bool set_variable(Session& session, const std::vector<std::string>& words, Output& out) {
  const std::string& name = words[0];
  if (name == "radix") {
    if (words.size() == 1) {
      out.print("output radix: {} ({})\n", session.settings().radix,
                session.settings().radix == 16 ? "hex" : "decimal");
      out.result({{"radix", session.settings().radix}});
      return true;
    }
    const std::string& v = words[1];
    if (v != "10" && v != "16") throw CommandError(fmt::format("radix must be 10 or 16, not '{}'", v));
    session.settings().radix = v == "16" ? 16 : 10;
    out.print("output radix: {} ({})\n", session.settings().radix, v == "16" ? "hex" : "decimal");
    out.result({{"radix", session.settings().radix}});
    return true;
  }
  if (name == "output") {
    if (words.size() > 1) {
      const std::string& v = words[1];
      if (v != "text" && v != "json") throw CommandError(fmt::format("output must be text or json, not '{}'", v));
      session.settings().output = v == "json" ? OutputMode::Json : OutputMode::Text;
    }
    out.print("output: {}\n", output_name(session.settings().output));
    out.result({{"output", output_name(session.settings().output)}});
    return true;
  }
  if (name == "srcdir") {
    auto& source_dir = session.settings().source_dir;
    if (words.size() > 2) throw CommandError(fmt::format("too many arguments: {}", words[2]));
    if (words.size() == 2) {
      if (words[1] == "off") {
        source_dir.reset();
      } else {
        std::error_code ec;
        if (!std::filesystem::is_directory(words[1], ec)) {
          throw CommandError(fmt::format("srcdir: {} is not a directory", words[1]));
        }
        source_dir = std::filesystem::path(words[1]);
      }
    }
    out.print("srcdir: {}\n", source_dir ? source_dir->string() : "(none)");
    out.result({{"srcdir", source_dir ? Json(source_dir->string()) : Json(nullptr)}});
    return true;
  }
  if (name == "scroll") {
    if (words.size() > 2) throw CommandError(fmt::format("too many arguments: {}", words[2]));
    if (words.size() == 2) {
      if (words[1] != "on" && words[1] != "off") {
        throw CommandError(fmt::format("scroll must be on or off, not '{}'", words[1]));
      }
      session.settings().scroll = words[1] == "on";
    }
    out.print("scroll: {}\n", scroll_text(session.settings()));
    out.result({{"scroll", session.settings().scroll ? "on" : "off"}});
    return true;
  }
  return false;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.has('v')) {
    show_variables(session, out);
    return;
  }
  const auto& words = args.positional();
  if (!words.empty() && set_variable(session, words, out)) return;

  Kernel& k = session.kernel();
  const TaskTable& table = k.tasks();
  const Task* task = nullptr;
  if (args.has('p')) {
    task = &k.default_task();
  } else if (auto cpu = args.value('c')) {
    auto n = parse_number(*cpu, 10);
    if (!n || *n >= table.active.size()) throw CommandError(fmt::format("invalid cpu: {}", *cpu));
    task = table.active_on(static_cast<int>(*n));
    if (task == nullptr) throw CommandError(fmt::format("no active task found on cpu {}", *n));
  } else if (!words.empty()) {
    if (words.size() > 1) throw CommandError(fmt::format("too many arguments: {}", words[1]));
    // A pid names several tasks only for pid 0 (one idle task per CPU): the
    // first, CPU 0's, as crash does.
    task = select_tasks(k, table, words).front();
  }
  if (task != nullptr) session.set_context(*task);
  const Task& current = session.context();
  // The context may be a damaged task (to look at its memory); say so.
  if (report_if_damaged(current, out))
    out.warning(fmt::format("set: task {:x} {}", current.address.value(), damage_marker(current)));
  out.print("{}", context_block(k, current));
  Json result = task_header_json(current);
  result["state"] = current.state_names();
  result["panic"] = current.active && k.panic_cpu() == current.cpu;
  result["active"] = current.active;
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "set",
     .summary = "set the current context (task) or a kdive variable",
     .usage = "set [pid | taskp | -c cpu | -p] | [radix [10|16]] | [output [text|json]] | [scroll [on|off]] |\n"
              "       [srcdir [DIR|off]] | -v",
     .description = "With no argument, shows the current context: the task that task, files, vm\n"
                    "and bt act on when given no task. At startup it is the task that was running\n"
                    "on the CPU that panicked (on a live system, kdive's own task).\n\n"
                    "  pid      a process ID (pid 0 is CPU 0's idle task).\n"
                    "  taskp    a task_struct address, in hexadecimal.\n"
                    "  -c cpu   the task that was running on that CPU at the crash.\n"
                    "  -p       back to the panic task.\n"
                    "  -v       show kdive's variables.\n\n"
                    "Variables: `set radix 16` makes p and struct print in hexadecimal by default\n"
                    "(the `hex` and `dec` aliases do the same); `set output json` makes every\n"
                    "command print its JSON result from the next command on (as kdive --json);\n"
                    "`set scroll off` stops paging output longer than the screen at the prompt\n"
                    "(through $PAGER, else less, else a --More-- prompt; never in batch mode or\n"
                    "into a pipe or file; the sf and sn aliases turn it off and on);\n"
                    "`set srcdir DIR` names the kernel source tree that dis -s reads (kdive\n"
                    "--srcdir DIR does the same; `set srcdir off` forgets it).\n\n"
                    "STATE shows the task's state bits by name; (PANIC) marks the task running on\n"
                    "the panicking CPU, (ACTIVE) a task running on another CPU.",
     .examples = "Show the current context:\n\n"
                 "  kdive> set\n"
                 "      PID: 127\n"
                 "  COMMAND: \"sh\"\n"
                 "     TASK: ffff9d8d17bf3e80  [THREAD_INFO: ffff9d8d17bf3e80]\n"
                 "      CPU: 0\n"
                 "    STATE: TASK_RUNNING (PANIC)\n\n"
                 "Switch to pid 1, then to whatever CPU 1 was running:\n\n"
                 "  kdive> set 1\n"
                 "  kdive> set -c 1\n\n"
                 "Print in hexadecimal from now on:\n\n"
                 "  kdive> set radix 16",
     .options = {{'p', "", "the panic task"},
                 {'c', "cpu", "the active task of a CPU"},
                 {'a', "", "accepted for crash compatibility (tasks are already per CPU)"},
                 {'v', "", "show variables"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"pid", "task", "cpu", "comm", "state", "panic", "active"},
              .notes = "The context task; state holds its state bits by name. `set -v` gives\n"
                       "{scroll, radix, output, srcdir, namelist, dumpfile}; `set radix`, `set output`,\n"
                       "`set srcdir` and `set scroll` give that one variable.",
              .example = "set"}},
    run};

}  // namespace
}  // namespace kdive
