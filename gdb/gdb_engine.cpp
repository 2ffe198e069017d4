// GDB's side of the engine: the only translation unit that includes GDB's
// headers, compiled as gnu++17 (GDB 13's headers use std::allocator members
// that C++20 removed). See gdb_engine.hpp for the interface.
//
// Facts this file is built on (GDB 13.1):
// - GDB initialises as captured_main_1 (main.c) does minus the command line:
//   a ui, bfd_init, the path globals, batch_flag, gdb_init, the console
//   interpreter. gdb_init installs handlers for INT TERM QUIT HUP (and more
//   through its modules) and init_main sets readline's completion hooks,
//   readline name, C-o binding and screen size: all saved and restored here.
// - Commands run with execute_command_to_string; GDB errors are
//   gdb_exception (not std::exception), caught here and turned into GdbError.
// - The target is a process_stratum_target like corelow.c's core_target: one
//   inferior with one thread, memory and registers from the host.
// GDB's defs.h comes first, as in every GDB source file.
// clang-format off
#include "defs.h"
// clang-format on

#include <readline/readline.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>

#include "arch-utils.h"
#include "cli/cli-decode.h"
#include "command.h"
#include "frame.h"
#include "gdbarch.h"
#include "gdbcmd.h"
#include "gdbthread.h"
#include "inferior.h"
#include "interps.h"
#include "main.h"
#include "process-stratum-target.h"
#include "regcache.h"
#include "target-dcache.h"
#include "target.h"
#include "top.h"

// This folder's header, found by its own directory (GDB's include/gdb/ is on
// the include path too).
#include "gdb_engine.hpp"

namespace kdive {
namespace {

const target_info kdive_target_info = {"kdive", "kdive's dump",
                                       "Memory and registers of a Linux kernel dump opened by kdive."};

// The pid GDB's one inferior gets: a label (GDB shows it in `info inferiors`),
// not a kernel task's pid.
constexpr int kInferiorPid = 1;

class KdiveTarget final : public process_stratum_target {
 public:
  explicit KdiveTarget(GdbHost* host) : host_(host) {}

  const target_info& info() const override { return kdive_target_info; }

  target_xfer_status xfer_partial(target_object object, const char* annex, gdb_byte* readbuf, const gdb_byte* writebuf,
                                  ULONGEST offset, ULONGEST len, ULONGEST* xfered_len) override {
    if (object != TARGET_OBJECT_MEMORY) {
      return beneath()->xfer_partial(object, annex, readbuf, writebuf, offset, len, xfered_len);
    }
    // A dump is read-only.
    if (readbuf == nullptr) return TARGET_XFER_E_IO;
    size_t n = host_->read_memory(offset, readbuf, static_cast<size_t>(len));
    if (n == 0) return TARGET_XFER_E_IO;
    *xfered_len = n;
    return TARGET_XFER_OK;
  }

  void fetch_registers(regcache* regs, int regno) override {
    gdbarch* arch = regs->arch();
    auto values = host_->registers();
    const int count = gdbarch_num_regs(arch);
    for (int r = 0; r < count; ++r) {
      if (regno != -1 && r != regno) continue;
      const char* name = gdbarch_register_name(arch, r);
      bool supplied = false;
      if (name != nullptr && *name != '\0') {
        for (const auto& [reg, value] : values) {
          if (reg != name) continue;
          // Little-endian, in the register's own width (eflags and the
          // segment registers are 4 bytes).
          std::array<gdb_byte, 16> bytes{};
          const int size = std::min<int>(register_size(arch, r), bytes.size());
          for (int i = 0; i < size && i < 8; ++i) bytes[i] = static_cast<gdb_byte>(value >> (8 * i));
          regs->raw_supply(r, bytes.data());
          supplied = true;
          break;
        }
      }
      if (!supplied) regs->raw_supply(r, nullptr);  // <unavailable>
    }
  }

  bool thread_alive(ptid_t) override { return true; }
  bool has_all_memory() override { return true; }
  bool has_memory() override { return true; }
  bool has_stack() override { return true; }
  bool has_registers() override { return true; }
  bool has_execution(inferior*) override { return false; }
  std::string pid_to_str(ptid_t) override { return host_->thread_name(); }
  const char* thread_name(thread_info*) override {
    name_ = host_->thread_name();
    return name_.c_str();
  }

 private:
  GdbHost* host_;
  std::string name_;
};

bool initialized = false;
bool loaded = false;

// The process's signal dispositions and mask, taken before GDB installs its
// own and put back after: kdive's shell owns SIGINT, SIGWINCH and the rest.
class SavedSignals {
 public:
  SavedSignals() {
    for (int s = 1; s < NSIG; ++s) {
      if (s == SIGKILL || s == SIGSTOP) continue;
      saved_[s].valid = sigaction(s, nullptr, &saved_[s].action) == 0;
    }
    sigprocmask(SIG_SETMASK, nullptr, &mask_);
  }
  ~SavedSignals() {
    for (int s = 1; s < NSIG; ++s) {
      if (saved_[s].valid) sigaction(s, &saved_[s].action, nullptr);
    }
    sigprocmask(SIG_SETMASK, &mask_, nullptr);
  }

 private:
  struct Entry {
    bool valid = false;
    struct sigaction action {};
  };
  std::array<Entry, NSIG> saved_{};
  sigset_t mask_{};
};

// readline's globals that GDB's init_main and init_page_info change; kdive's
// line editor set them first.
class SavedReadline {
 public:
  SavedReadline()
      : word_break_hook_(rl_completion_word_break_hook),
        attempted_(rl_attempted_completion_function),
        word_break_(rl_completer_word_break_characters),
        quote_(rl_completer_quote_characters),
        display_hook_(rl_completion_display_matches_hook),
        name_(rl_readline_name),
        terminal_(rl_terminal_name),
        deprep_(rl_deprep_term_function),
        catch_sigwinch_(rl_catch_sigwinch),
        keymap_(rl_get_keymap()),
        ctrl_o_(keymap_ != nullptr ? keymap_[CTRL('O')] : KEYMAP_ENTRY{}) {}
  ~SavedReadline() {
    rl_completion_word_break_hook = word_break_hook_;
    rl_attempted_completion_function = attempted_;
    rl_completer_word_break_characters = word_break_;
    rl_completer_quote_characters = quote_;
    rl_completion_display_matches_hook = display_hook_;
    rl_readline_name = name_;
    rl_terminal_name = terminal_;
    rl_deprep_term_function = deprep_;
    rl_catch_sigwinch = catch_sigwinch_;
    if (keymap_ != nullptr) keymap_[CTRL('O')] = ctrl_o_;
    restore_screen_size();
  }

  // GDB's `set width`/`set height` (and batch mode) resize readline's idea of
  // the screen; ask the terminal again (once readline has one).
  static void restore_screen_size() {
    if (rl_instream != nullptr && isatty(fileno(rl_instream))) rl_reset_screen_size();
  }

 private:
  rl_cpvfunc_t* word_break_hook_;
  rl_completion_func_t* attempted_;
  const char* word_break_;
  const char* quote_;
  rl_compdisp_func_t* display_hook_;
  const char* name_;
  const char* terminal_;
  rl_voidfunc_t* deprep_;
  int catch_sigwinch_;
  Keymap keymap_;
  KEYMAP_ENTRY ctrl_o_;
};

// While a GDB command runs, Ctrl-C asks GDB to stop (its quit flag, which
// QUIT checks in every long loop); kdive's handler is back afterwards.
void on_sigint(int) { set_quit_flag(); }

class QuitOnSigint {
 public:
  QuitOnSigint() {
    struct sigaction sa {};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &saved_);
  }
  ~QuitOnSigint() { sigaction(SIGINT, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

// One line: GDB's messages may span several (the first says what failed).
std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  return text.empty() ? "GDB failed without a message" : text;
}

// Runs `command` in GDB; GDB's exceptions become GdbError/GdbInterrupted.
std::string run(const std::string& command) {
  std::string out;
  try {
    QuitOnSigint quit;
    execute_command_to_string(out, command.c_str(), 0, false);
  } catch (const gdb_exception& e) {
    SavedReadline::restore_screen_size();
    if (e.reason == RETURN_QUIT) {
      check_quit_flag();  // reading the flag clears it
      throw GdbInterrupted();
    }
    throw GdbError(one_line(e.what()));
  }
  SavedReadline::restore_screen_size();
  // A Ctrl-C GDB never looked at must not stop the next command.
  check_quit_flag();
  return out;
}

}  // namespace

bool gdb_engine_built_in() { return true; }
bool gdb_engine_initialized() { return initialized; }
bool gdb_engine_loaded() { return loaded; }

void gdb_engine_initialize() {
  if (initialized) return;
  SavedSignals signals;
  SavedReadline readline;
  // GDB never reads the terminal: kdive's shell owns it. Its output goes to
  // strings (execute_command_to_string); stdout and stderr only get what GDB
  // prints outside a command.
  FILE* in = std::fopen("/dev/null", "r");
  if (in == nullptr) throw GdbError("cannot open /dev/null for GDB's input");
  try {
    main_ui = new ui(in, stdout, stderr);
    current_ui = main_ui;
    gdb_stdtargerr = gdb_stderr;
    gdb_stdtargin = gdb_stdin;
    if (bfd_init() != BFD_INIT_MAGIC) throw GdbError("BFD's library does not match GDB's headers");
    gdb_sysroot = "";
    debug_file_directory = "";
    // No data directory: no Python, no syscall XML, no auto-loaded scripts.
    gdb_datadir = "/nonexistent";
    batch_flag = 1;
    gdb_init();
    set_top_level_interpreter("console");
    for (const char* setting : {"set pagination off", "set height 0", "set width 0", "set confirm off",
                                "set print pretty on", "set auto-load off", "set debuginfod enabled off"}) {
      try {
        execute_command_to_string(setting, 0, false);
      } catch (const gdb_exception&) {
        // A setting this GDB lacks (debuginfod when built without it) is no failure.
      }
    }
  } catch (const gdb_exception& e) {
    throw GdbError("GDB failed to start: " + one_line(e.what()));
  }
  initialized = true;
}

void gdb_engine_load(const std::string& vmlinux, uint64_t offset, GdbHost* host) {
  if (loaded) return;
  gdb_engine_initialize();
  char offset_text[32];
  std::snprintf(offset_text, sizeof offset_text, "%#llx", static_cast<unsigned long long>(offset));
  // symbol-file's argument is a file name GDB splits on blanks: quote it.
  std::string quoted = "'" + vmlinux + "'";
  run(std::string("symbol-file -o ") + offset_text + " " + quoted);
  run("set architecture i386:x86-64");
  try {
    auto target = std::make_unique<KdiveTarget>(host);
    KdiveTarget* t = target.get();
    target_ops_up holder(target.release());
    current_inferior()->push_target(std::move(holder));
    switch_to_no_thread();
    registers_changed();
    inferior_appeared(current_inferior(), kInferiorPid);
    thread_info* thread = add_thread_silent(t, ptid_t(kInferiorPid, kInferiorPid, 0));
    switch_to_thread(thread);
    post_create_inferior(0);
    reinit_frame_cache();
  } catch (const gdb_exception& e) {
    throw GdbError("GDB could not open the dump as its target: " + one_line(e.what()));
  }
  loaded = true;
}

bool gdb_engine_knows_command(const std::string& name) {
  gdb_engine_initialize();
  try {
    const char* p = name.c_str();
    return lookup_cmd(&p, cmdlist, "", nullptr, 1, 1) != nullptr;
  } catch (const gdb_exception&) {
    return true;  // ambiguous: GDB's own message says which commands it could be
  }
}

std::string gdb_engine_command_name(const std::string& line) {
  gdb_engine_initialize();
  try {
    const char* p = line.c_str();
    cmd_list_element* c = lookup_cmd(&p, cmdlist, "", nullptr, 1, 1);
    if (c == nullptr || c == CMD_LIST_AMBIGUOUS) return "";
    if (c->is_alias()) c = c->alias_target;
    std::string prefix = c->prefix != nullptr ? c->prefix->prefixname() : "";
    return prefix + c->name;
  } catch (const gdb_exception&) {
    return "";
  }
}

std::string gdb_engine_execute(const std::string& command) {
  if (!initialized) gdb_engine_initialize();
  if (loaded) gdb_engine_registers_changed();
  return run(command);
}

void gdb_engine_registers_changed() {
  if (!loaded) return;
  try {
    registers_changed();
    target_dcache_invalidate();
  } catch (const gdb_exception&) {
  }
}

}  // namespace kdive
