// GdbSession: the embedded GDB bound to the dump kdive has open — what the
// commands (`gdb`, `p` when the native evaluator cannot, a command kdive does
// not know) use. GDB starts on first use only, never on kdive's startup path:
// initialising it is cheap (~0.02 s), loading the vmlinux's symbols is not
// (~2.5 s and ~370 MB for a 590 MB Debian vmlinux). Memory reads go through the
// Kernel's KernelMemory; the registers GDB sees are those of the task kdive's
// current context names, from kdive's unwinder (the panic task's from its
// NT_PRSTATUS note, a sleeping task's saved rip/rsp/rbp). A module's object
// file loaded with `mod -s` reaches GDB before its next command, each section
// at the address the kernel gave it.
//
//   GdbSession& gdb = GdbSession::instance();
//   if (auto why = gdb.refusal("quit")) ...             // "GDB's quit would end kdive"
//   std::string text = gdb.run(kernel, context, "p init_task.comm");   // or GdbError
//   gdb.status().loaded;                                // false until then
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "gdb/gdb_engine.hpp"

namespace kdive {

class Kernel;
struct Task;

struct GdbStatus {
  bool built_in = false;     // kdive was built with GDB (KDIVE_GDB)
  bool initialized = false;  // GDB's own state is set up (a GDB command was looked up or run)
  bool loaded = false;       // the vmlinux's symbols are loaded and the dump is GDB's target
  double load_seconds = 0;   // how long loading took
  // How much the process's resident memory grew while GDB loaded (kB, from
  // /proc/self/status): what the first GDB use costs.
  uint64_t load_rss_kb = 0;
};

class GdbSession {
 public:
  // The process's one GDB (GDB's state is global).
  static GdbSession& instance();
  ~GdbSession();

  GdbStatus status() const;

  // Why `line` must not reach GDB, or nullopt: commands that would end or
  // escape kdive (quit, shell, pipe, make, edit, cd), start or attach to a
  // process or replace the target or symbols (run, attach, target, file,
  // symbol-file, core-file), or run other command text GDB's way (source,
  // define, if, while, eval, python; $_shell in an expression). Resolved with GDB's own lookup, so
  // abbreviations and aliases ("q", "!") are caught. Initialises GDB.
  std::optional<std::string> refusal(std::string_view line);

  // Whether GDB has a command named `word` (initialises GDB, loads nothing).
  bool knows_command(std::string_view word);

  // Runs `line` in GDB over `kernel` with `context` as GDB's current thread;
  // loads GDB on first use (the vmlinux relocated by the KASLR offset).
  // Throws GdbError (one line) for GDB's errors and refused commands, and
  // Interrupted when Ctrl-C stopped it.
  std::string run(const Kernel& kernel, const Task& context, std::string_view line);

  struct State;

 private:
  GdbSession();
  std::unique_ptr<State> state_;
};

}  // namespace kdive
