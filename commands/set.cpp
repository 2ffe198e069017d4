// set: shows or changes the current context (the task that task, files, bt and
// the other per-task commands act on by default), and kdive's variables, as
// crash's set does.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/set_variables.hpp"
#include "commands/symbol_text.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// The type lookups drop a scope in a module's code when its debuginfo goes
// (mod -d, mod -s of another file): the setting follows.
void sync_scope(Session& session) {
  SessionSettings& s = session.settings();
  if (!s.scope || !session.has_kernel() || session.kernel().types().scope() != nullptr) return;
  s.scope_text.clear();
  s.scope.reset();
  s.scope_symbol.clear();
  s.scope_unit.clear();
}

void show_variables(Session& session, Output& out) {
  sync_scope(session);
  Json result = Json::object();
  for (const std::string& name : variable_names()) {
    out.print("{}\n", variable_list_line(session.settings(), session.files(), name));
    result[name] = variable_json(session.settings(), session.files(), name);
  }
  out.result(std::move(result));
}

// `set scope ADDR|SYMBOL`: the setter kept the words; here they become a
// text address, checked and handed to the kernel's type lookups. Throws
// CommandError (one line naming the words and the cause) with the scope as it was.
void resolve_scope(Session& session, SessionSettings& settings) {
  if (settings.scope_text.empty()) {
    if (session.has_kernel()) session.kernel().types().clear_scope();
    return;
  }
  if (settings.scope) return;  // not named by this set
  Kernel& k = session.kernel();
  VirtAddr address;
  try {
    address = parse_address(&k, settings.scope_text);
  } catch (const CommandError& e) {
    throw CommandError(fmt::format("scope: {}", e.what()));
  }
  try {
    settings.scope_unit = k.set_type_scope(address);
  } catch (const ModelError& e) {
    // The cause names the address; the words are repeated when they were a symbol.
    const bool typed_address = parse_number(settings.scope_text, 16) == address.value();
    throw CommandError(typed_address ? fmt::format("scope: {}", e.what())
                                     : fmt::format("scope {}: {}", settings.scope_text, e.what()));
  }
  settings.scope = address.value();
  settings.scope_symbol = symbol_text(k, address);
}

// `set radix 16`, `set print_max 10 print_array on`: false when words[0] is
// no variable (a pid or task address).
bool set_variables(Session& session, const std::vector<std::string>& words, Output& out) {
  if (!is_variable(words[0])) return false;
  sync_scope(session);
  // All of them, or none: on a copy until the scope, the one needing the
  // kernel to check, is taken.
  SessionSettings changed = session.settings();
  std::vector<std::string> names = apply_variables(changed, words);
  resolve_scope(session, changed);
  SessionSettings& settings = session.settings();
  settings = std::move(changed);
  // The settings the kernel model holds itself.
  if (session.has_kernel()) session.kernel().set_zero_excluded(settings.zero_excluded);
  Json result = Json::object();
  for (const std::string& name : names) {
    out.print("{}\n", variable_line(settings, session.files(), name));
    result[name] = variable_json(settings, session.files(), name);
  }
  out.result(std::move(result));
  return true;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.has('v')) {
    show_variables(session, out);
    return;
  }
  const auto& words = args.positional();
  if (!words.empty() && set_variables(session, words, out)) return;

  Kernel& k = session.kernel();
  const TaskTable& table = k.tasks();
  const Task* task = nullptr;
  if (args.has('p')) {
    task = &k.default_task();
  } else if (auto cpu = args.value('c')) {
    auto n = parse_number(*cpu, 10);
    if (!n || *n >= table.active.size()) throw CommandError(fmt::format("invalid cpu: {}", *cpu));
    if (OfflineCpus(session).hidden(static_cast<int>(*n))) {
      throw CommandError(fmt::format("invalid cpu number: cpu {} is OFFLINE", *n));
    }
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
     .usage = "set [pid | taskp | -c cpu | -p] | [variable [value]] ... | -v",
     .description = "With no argument, shows the current context: the task that task, files, vm\n"
                    "and bt act on when given no task. At startup it is the task that was running\n"
                    "on the CPU that panicked (on a live system, kdive's own task).\n\n"
                    "  pid      a process ID (pid 0 is CPU 0's idle task).\n"
                    "  taskp    a task_struct address, in hexadecimal.\n"
                    "  -c cpu   the task that was running on that CPU at the crash.\n"
                    "  -p       back to the panic task.\n"
                    "  -v       show every variable, as crash's set -v lists them.\n\n"
                    "A variable name alone shows its value; a name and a value sets it. Several\n"
                    "names and values may follow one set (`set radix 16 print_max 8`): all are\n"
                    "checked before any changes. A bad value is one error line naming the variable\n"
                    "and the value. They may also be set in ~/.kdiverc or ./.kdiverc (and .crashrc\n"
                    "with --crashrc). crash's variables, and what each does in kdive:\n\n"
                    "  scroll on | off\n"
                    "      Page output longer than the screen at the prompt (through $PAGER,\n"
                    "      else less, else a --More-- prompt; never in batch mode or into a\n"
                    "      pipe or file; the sf and sn aliases turn it off and on).\n"
                    "  scroll less | more | CRASHPAGER\n"
                    "      Page through that program (CRASHPAGER: the one that environment\n"
                    "      variable names).\n"
                    "  radix 10 | 16\n"
                    "      p, struct and union print in decimal or hexadecimal (the hex and dec\n"
                    "      aliases do the same).\n"
                    "  refresh on | off\n"
                    "      Kept for crash's rc files: kdive reads the task table once per dump,\n"
                    "      so there is nothing to refresh.\n"
                    "  print_max N\n"
                    "      p, struct, union, task -R and list/tree -s show at most N elements\n"
                    "      of an array (N characters of a char array, and of a string a char\n"
                    "      pointer points to) before \"...\"; 0 shows them all. Decimal, or hex\n"
                    "      with 0x. It does not cut JSON results.\n"
                    "  print_array on | off\n"
                    "      On: arrays one element per line (the same commands).\n"
                    "  null-stop on | off\n"
                    "      On: char arrays end at their first NUL (the same commands).\n"
                    "  zero_excluded on | off\n"
                    "      On: memory in pages the dump filtered out (makedumpfile -d), and in\n"
                    "      pages of a truncated or incomplete dump file, reads as zeros instead of\n"
                    "      an error; holes between the dumped ranges still fail.\n"
                    "  hash on | off\n"
                    "      crash's list verification. kdive's list, tree and task walks always\n"
                    "      detect loops and stop at them, saying so: off is shown as such but\n"
                    "      does not turn that off.\n"
                    "  silent on | off\n"
                    "      What kdive -s does at start (no banner); on also turns scroll off,\n"
                    "      as in crash. kdive shows no prompt while it runs an input file\n"
                    "      either way.\n"
                    "  edit vi | emacs\n"
                    "      readline's editing mode at the prompt, from an rc file or at run\n"
                    "      time (unset: what ~/.inputrc says, else emacs).\n"
                    "  error default | redirect | FILE\n"
                    "      Where error lines go: default, the terminal (stderr); redirect, into\n"
                    "      the command's pipe or file when it has one; FILE, appended to that\n"
                    "      file only.\n"
                    "  console DEVICE, debug N\n"
                    "      Kept and shown for crash's rc files: kdive has no debug console or\n"
                    "      debug messages.\n"
                    "  gdb on | off\n"
                    "      With on, every line typed goes to the embedded GDB, as gdb LINE does,\n"
                    "      but q and set gdb off, which ends the mode (refused in a kdive built\n"
                    "      without GDB).\n"
                    "  core off, unwind off\n"
                    "      kdive never drops core on an error, and its bt reads the ORC tables:\n"
                    "      turning these on is refused.\n"
                    "  offline show | hide\n"
                    "      Hide: a CPU not in cpu_online_mask at the crash is shown as\n"
                    "      [OFFLINE] instead of its data by runq (not -T), timer, irq -s,\n"
                    "      kmem -o, mach and mach -c, p and struct with :cpuspec, and ptov;\n"
                    "      set -c and bt -c refuse it. (panic stops the other CPUs, which takes\n"
                    "      them out of the mask on some kernels.)\n"
                    "  scope ADDRESS | SYMBOL | 0\n"
                    "      The text scope of struct, union, ptype, whatis, p and *: a name\n"
                    "      defined differently in two source files (a struct private to one .c\n"
                    "      file, a static variable) is looked up as the compilation unit and\n"
                    "      function holding that kernel text address see it. Module text needs\n"
                    "      the module's debuginfo (mod -s). 0 unsets it. The embedded GDB\n"
                    "      (gdb ..., set gdb on) does not follow it.\n"
                    "  redzone on | off\n"
                    "      For a SLUB cache with left red zones (a kernel booted with\n"
                    "      slub_debug=Z), kmem -s/-S and kmem ADDRESS show each object by the\n"
                    "      start of its slot, red zone included (on), or by the address the\n"
                    "      kernel hands out, past the red zone (off); rd -SS names objects the\n"
                    "      same way. Other caches are the same either way. A number sets it\n"
                    "      too: 0 is off. JSON always gives the slot start and red_left_pad.\n"
                    "  namelist, dumpfile\n"
                    "      Shown only: both are named on kdive's command line.\n"
                    "  output text | json\n"
                    "      kdive's own: json makes every command print its JSON result from the\n"
                    "      next command on (kdive --json).\n"
                    "  srcdir DIR | off\n"
                    "      kdive's own: the kernel source tree dis -s reads (kdive --srcdir\n"
                    "      DIR).\\n\n"
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
                 "Print in hexadecimal, and at most 4 elements of an array:\n\n"
                 "  kdive> set radix 16 print_max 4\n"
                 "  output radix: 16 (hex)\n"
                 "  print_max: 4\n"
                 "  kdive> p init_task.comm\n"
                 "  $1 = \"swapp\"...\n\n"
                 "Strings end at their NUL, arrays one element per line:\n\n"
                 "  kdive> set null-stop on print_array on\n"
                 "  kdive> p init_task.comm\n"
                 "  $2 = \"swapper/0\"\n\n"
                 "Read filtered-out pages as zeros:\n\n"
                 "  kdive> set zero_excluded on\n"
                 "  zero_excluded: on\n\n"
                 "Show every variable:\n\n"
                 "  kdive> set -v\n"
                 "          scroll: on (less -X -E -R -K)\n"
                 "           radix: 10 (decimal)\n"
                 "         refresh: on\n"
                 "       print_max: 256\n"
                 "  ...",
     .options = {{'p', "", "the panic task"},
                 {'c', "cpu", "the active task of a CPU"},
                 {'a', "", "accepted for crash compatibility (tasks are already per CPU)"},
                 {'v', "", "show variables"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"pid", "task", "cpu", "comm", "state", "panic", "active"},
              .notes = "The context task; state holds its state bits by name. `set -v` gives an\n"
                       "object with every variable by name: scroll, refresh, print_array, hash,\n"
                       "silent, zero_excluded, null-stop, gdb, redzone and core as \"on\"/\"off\";\n"
                       "radix, print_max and debug as numbers; console, edit and srcdir as\n"
                       "strings or null when unset; scope as {address, symbol, unit} (the text\n"
                       "address, where it is, its compilation unit) or null when unset; namelist\n"
                       "a string, dumpfile an array of files; offline, unwind, error and output\n"
                       "as strings. `set NAME [VALUE] ...` gives the same keys for the variables\n"
                       "it named.",
              .example = "set"}},
    run};

}  // namespace
}  // namespace kdive
