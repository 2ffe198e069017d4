#include "gdb/gdb_session.hpp"

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <fstream>
#include <set>
#include <span>

#include "commands/api/interrupt.hpp"
#include "kernel-model/backtrace.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/modules.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

// VmRSS of this process in kB (0 when /proc says nothing).
uint64_t resident_kb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kb = 0;
      in >> kb;
      return kb;
    }
    in.ignore(4096, '\n');
  }
  return 0;
}

// GDB's full command names that must not run inside kdive, and why.
struct Refused {
  std::string_view command;
  std::string_view why;
};
constexpr std::array kRefused = {
    Refused{"quit", "GDB's quit would end kdive (use kdive's q)"},
    Refused{"shell", "run shell commands with kdive's ! instead"},
    Refused{"pipe", "use kdive's | after the gdb command instead"},
    Refused{"make", "it runs a program"},
    Refused{"edit", "it runs an editor"},
    Refused{"cd", "it would change kdive's working directory"},
    Refused{"run", "the dump is not a process to run"},
    Refused{"start", "the dump is not a process to run"},
    Refused{"starti", "the dump is not a process to run"},
    Refused{"attach", "kdive's GDB reads the dump only"},
    Refused{"detach", "it would drop the dump from GDB"},
    Refused{"kill", "it would drop the dump from GDB"},
    Refused{"disconnect", "it would drop the dump from GDB"},
    Refused{"target", "the dump is GDB's target"},
    Refused{"file", "kdive loads the vmlinux into GDB itself"},
    Refused{"exec-file", "kdive loads the vmlinux into GDB itself"},
    Refused{"symbol-file", "kdive loads the vmlinux into GDB itself"},
    Refused{"core-file", "the dump is GDB's target"},
    Refused{"source", "it runs command files GDB's way; use kdive -i"},
    Refused{"define", "user-defined GDB commands are not supported"},
    Refused{"document", "user-defined GDB commands are not supported"},
    Refused{"if", "multi-line GDB commands are not supported"},
    Refused{"while", "multi-line GDB commands are not supported"},
    Refused{"commands", "multi-line GDB commands are not supported"},
    Refused{"eval", "it runs formatted command text"},
    Refused{"python", "kdive's GDB is built without Python"},
    Refused{"python-interactive", "kdive's GDB is built without Python"},
    Refused{"guile", "kdive's GDB is built without Guile"},
    Refused{"tui", "GDB's TUI would take kdive's terminal"},
    Refused{"interpreter-exec", "it runs commands through another interpreter"},
    Refused{"new-ui", "GDB's input is kdive's shell"},
};

}  // namespace

// Reads kdive's dump for GDB: memory through KernelMemory, registers of the
// current context task from kdive's unwinder. Never throws into GDB.
class KernelHost final : public GdbHost {
 public:
  const Kernel* kernel = nullptr;
  VirtAddr task;
  std::string task_name;

  // Forgets the registers worked out for the previous command.
  void begin(const Kernel& k, const Task& t) {
    kernel = &k;
    if (t.address != task) regs_known_ = false;
    task = t.address;
    task_name = fmt::format("pid {} ({})", t.pid, t.comm);
  }

  size_t read_memory(uint64_t address, unsigned char* out, size_t length) noexcept override {
    size_t done = 0;
    try {
      // Page by page, so that a short read returns every readable byte before
      // the first unreadable page.
      while (done < length) {
        uint64_t at = address + done;
        size_t n = std::min<uint64_t>(length - done, kPageSize - at % kPageSize);
        kernel->memory().read(VirtAddr{at}, std::span<std::byte>(reinterpret_cast<std::byte*>(out + done), n));
        done += n;
      }
    } catch (...) {
      // A Fault (or anything else): GDB gets what was read and says
      // "Cannot access memory at address ..." for the rest.
    }
    return done;
  }

  std::vector<std::pair<std::string, uint64_t>> registers() noexcept override {
    if (regs_known_) return regs_;
    regs_known_ = true;
    regs_.clear();
    try {
      const Task* t = nullptr;
      for (const Task& candidate : kernel->tasks().all) {
        if (candidate.address == task) t = &candidate;
      }
      if (t == nullptr) return regs_;
      Backtrace bt = backtrace(*kernel, *t);
      if (!bt.start_regs) return regs_;
      const X86Registers& r = *bt.start_regs;
      // A full set from a note; rip/rsp/rbp only otherwise (the rest of a
      // sleeping task's registers are not saved anywhere): then the others
      // stay <unavailable> rather than read as 0.
      const bool full = r.cs != 0;
      regs_ = {{"rip", r.rip}, {"rsp", r.rsp}, {"rbp", r.rbp}};
      if (full) {
        std::initializer_list<std::pair<std::string, uint64_t>> rest = {
            {"rax", r.rax}, {"rbx", r.rbx},         {"rcx", r.rcx},         {"rdx", r.rdx},
            {"rsi", r.rsi}, {"rdi", r.rdi},         {"r8", r.r8},           {"r9", r.r9},
            {"r10", r.r10}, {"r11", r.r11},         {"r12", r.r12},         {"r13", r.r13},
            {"r14", r.r14}, {"r15", r.r15},         {"eflags", r.eflags},   {"cs", r.cs},
            {"ss", r.ss},   {"ds", r.ds},           {"es", r.es},           {"fs", r.fs},
            {"gs", r.gs},   {"fs_base", r.fs_base}, {"gs_base", r.gs_base}, {"orig_rax", r.orig_rax}};
        regs_.insert(regs_.end(), rest.begin(), rest.end());
      }
    } catch (...) {
      regs_.clear();
    }
    return regs_;
  }

  std::string thread_name() noexcept override { return task_name; }

 private:
  bool regs_known_ = false;
  std::vector<std::pair<std::string, uint64_t>> regs_;
};

struct GdbSession::State {
  KernelHost host;
  GdbStatus status;
  // Modules whose object file (mod -s) GDB was given, by module address.
  std::set<uint64_t> modules_added;
};

namespace {

// Gives GDB the object files `mod -s` loaded since the last GDB command, each
// section where the kernel put it (add-symbol-file ... -s NAME ADDRESS). A
// module GDB cannot read is left out (GDB still reads its memory).
void add_module_objects(const Kernel& kernel, std::set<uint64_t>& added) {
  for (const Module& m : kernel.modules().all()) {
    if (!m.object_file || !m.object_has_debuginfo || added.contains(m.address.value())) continue;
    added.insert(m.address.value());
    auto text = m.sections.find(".text");
    if (text == m.sections.end()) continue;
    std::string line = fmt::format("add-symbol-file '{}' {:#x}", m.object_file->string(), text->second.value());
    for (const auto& [name, address] : m.sections) {
      if (name != ".text") line += fmt::format(" -s {} {:#x}", name, address.value());
    }
    try {
      gdb_engine_execute(line);
    } catch (const GdbError&) {
    }
  }
}

}  // namespace

GdbSession& GdbSession::instance() {
  static GdbSession session;
  return session;
}

GdbSession::GdbSession() : state_(std::make_unique<State>()) { state_->status.built_in = gdb_engine_built_in(); }
GdbSession::~GdbSession() = default;

GdbStatus GdbSession::status() const {
  GdbStatus s = state_->status;
  s.initialized = s.built_in && gdb_engine_initialized();
  s.loaded = s.built_in && gdb_engine_loaded();
  return s;
}

std::optional<std::string> GdbSession::refusal(std::string_view line) {
  // GDB 13's convenience function $_shell runs a shell command from inside
  // any expression.
  if (line.find("$_shell") != std::string_view::npos) {
    return std::string("GDB's $_shell is not available in kdive: run shell commands with kdive's ! instead");
  }
  std::string name = gdb_engine_command_name(std::string(line));
  // A subcommand is judged by its first word: "target remote" is refused with
  // "target", "info symbol" passes with "info".
  std::string first = name.substr(0, name.find(' '));
  for (const Refused& r : kRefused) {
    if (first == r.command) {
      return fmt::format("GDB's {} is not available in kdive: {}", r.command, r.why);
    }
  }
  return std::nullopt;
}

bool GdbSession::knows_command(std::string_view word) { return gdb_engine_knows_command(std::string(word)); }

std::string GdbSession::run(const Kernel& kernel, const Task& context, std::string_view line) {
  if (auto why = refusal(line)) throw GdbError(*why);
  State& s = *state_;
  if (s.host.kernel != nullptr && s.host.kernel != &kernel) throw GdbError("GDB is loaded for another kernel");
  s.host.begin(kernel, context);
  if (!gdb_engine_loaded()) {
    const uint64_t rss_before = resident_kb();
    const auto start = std::chrono::steady_clock::now();
    gdb_engine_load(kernel.vmlinux().path().string(), kernel.layout().kaslr_offset, &s.host);
    s.status.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const uint64_t rss_after = resident_kb();
    s.status.load_rss_kb = rss_after > rss_before ? rss_after - rss_before : 0;
  }
  add_module_objects(kernel, s.modules_added);
  try {
    return gdb_engine_execute(std::string(line));
  } catch (const GdbInterrupted&) {
    throw Interrupted();
  }
}

}  // namespace kdive
