// Session: everything one kdive run knows about the system it inspects — the
// files, the opened Kernel — plus the shell state commands may change (quit).
// Commands receive it by reference.
//
//   Session session(files, Kernel::open(vmlinux, {vmcore}));
//   session.kernel().symbols();
//   session.request_quit();
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands/api/aliases.hpp"
#include "commands/api/output.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

// gdb's default print elements, as crash reports it.
constexpr uint64_t kDefaultPrintMax = 256;

enum class ErrorDestination { Default, Redirect, File };

// crash's internal variables that `set` shows and changes (`set radix 16`).
struct SessionSettings {
  int radix = 10;                        // default output radix of p, struct, ... (10 or 16)
  OutputMode output = OutputMode::Text;  // `set output json`, or kdive --json
  // `set srcdir DIR`, or kdive --srcdir: the kernel source tree dis -s reads,
  // kept elsewhere than the DWARF's paths say (Debian builds under /build/...).
  std::optional<std::filesystem::path> source_dir;
  // `set scroll on|off`: page output longer than the screen (at an interactive
  // prompt only; never in batch mode or into a pipe or file).
  bool scroll = true;
  // What pages it, as the shell found it ("" for the built-in --More--).
  std::string pager;

  // The rest of crash's `set -v` variables (help set says what each changes
  // in kdive). p, struct, union and task -R print arrays with these:
  uint64_t print_max = kDefaultPrintMax;  // elements shown before "..."; 0: all
  bool print_array = false;               // one array element per line
  bool null_stop = false;                 // char arrays end at their first NUL
  // Filtered-out pages read as zeros (KernelMemory::set_zero_excluded).
  bool zero_excluded = false;
  // `set offline hide`: per-CPU commands show an offline CPU (one not in
  // cpu_online_mask at the crash) as crash does, "[OFFLINE]" in place of its
  // data (commands/offline_cpus.hpp).
  bool hide_offline = false;
  // `set redzone on|off`: kmem prints a SLUB object of a red-zoned cache
  // (slub_debug=Z) by its slot start, left red zone included (on, crash's
  // default), or by the address the kernel hands out, past the pad (off).
  bool redzone = true;
  // `set silent on` (kdive -s at start): no banner; scroll goes off with it.
  bool silent = false;
  // readline's editing mode at the prompt: "vi", "emacs", or "" for what
  // readline chose (~/.inputrc, else emacs).
  std::string edit;
  // Where error lines go: stderr (default), into the command's pipe or
  // file when it has one (redirect), or only to a file.
  ErrorDestination error = ErrorDestination::Default;
  std::filesystem::path error_file;
  // Accepted and shown for crash's rc files; what they change in kdive is
  // in help set: hash (list walks check for cycles either way), refresh (the
  // task table is read once), console and debug (kdive has no debug output).
  bool hash = true;
  // `set gdb on`: the shell hands every line to the embedded GDB (as `gdb
  // LINE`) but kdive's q and `set gdb off`, until `set gdb off`.
  bool gdb_mode = false;
  // `set scope ADDR|SYMBOL`: the words typed ("" when unset); set resolves
  // them through the kernel (Kernel::set_type_scope, which holds the scope
  // itself) into the text address, where it is ("iterate_dir") and its
  // compilation unit ("fs/readdir.c"). scope is nullopt until resolved.
  std::string scope_text;
  std::optional<uint64_t> scope;
  std::string scope_symbol, scope_unit;
  bool refresh = true;
  std::string console;
  uint64_t debug = 0;
};

struct SessionFiles {
  std::optional<std::filesystem::path> vmlinux;
  std::vector<std::string> dumps;  // one, or the parts of a split dump
};

class Session {
 public:
  explicit Session(SessionFiles files, std::unique_ptr<Kernel> kernel = nullptr)
      : files_(std::move(files)), kernel_(std::move(kernel)) {}

  const SessionFiles& files() const { return files_; }
  bool has_kernel() const { return kernel_ != nullptr; }
  // The kernel under inspection; throws CommandError when no dump is open.
  Kernel& kernel() const;

  // The task commands act on by default (crash's "current context"): the
  // kernel's default task until `set` chooses another.
  const Task& context() const;
  void set_context(const Task& task) { context_ = task.address; }

  AliasTable& aliases() { return aliases_; }
  SessionSettings& settings() { return settings_; }
  const SessionSettings& settings() const { return settings_; }

  bool quit_requested() const { return quit_; }
  void request_quit() { quit_ = true; }

 private:
  SessionFiles files_;
  std::unique_ptr<Kernel> kernel_;
  std::optional<VirtAddr> context_;
  AliasTable aliases_;
  SessionSettings settings_;
  bool quit_ = false;
};

}  // namespace kdive
