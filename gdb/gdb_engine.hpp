// GdbEngine: the one GDB of the process (GDB 13 linked in as a library), behind
// an interface with no GDB types and no kdive kernel types, so the translation
// unit that includes GDB's headers (gnu++17: they do not compile as C++20) is
// the only one that sees GDB. GDB's state is global: one engine per process,
// used from one thread. gdb_session.hpp ties it to a dump; commands use that.
//
//   class Host : public GdbHost { ... read_memory, registers ... };
//   gdb_engine_initialize();                        // once, cheap (~0.02 s)
//   gdb_engine_load(vmlinux, kaslr_offset, &host);  // symbol-file -o, our target
//   std::string text = gdb_engine_execute("p init_task.comm");  // or GdbError
//
// This header is also compiled as C++17: keep it to the standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kdive {

// What GDB asks of the dump. Called from inside GDB: never throws (a throw
// would unwind through GDB's C frames and its own exception machinery).
class GdbHost {
 public:
  virtual ~GdbHost() = default;
  // Copies up to `length` bytes of kernel virtual memory at `address` into
  // `out`; returns how many were read from the start (a short read stops at
  // the first unreadable byte; 0: none).
  virtual size_t read_memory(uint64_t address, unsigned char* out, size_t length) noexcept = 0;
  // The current task's registers by GDB's x86-64 names ("rip", "rsp", "rbp",
  // "rax", ..., "eflags", "cs", "fs_base"); registers not listed read as
  // unavailable (GDB prints <unavailable>).
  virtual std::vector<std::pair<std::string, uint64_t>> registers() noexcept = 0;
  // How GDB names the one thread ("pid 1234 (bash)").
  virtual std::string thread_name() noexcept = 0;
};

// A GDB error (its message, one line) or a refused command.
class GdbError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Ctrl-C reached GDB (set_quit_flag) and it stopped the command.
class GdbInterrupted : public GdbError {
 public:
  GdbInterrupted() : GdbError("interrupted") {}
};

// False when kdive was built without GDB (-DKDIVE_GDB=OFF): then every other
// function throws GdbError saying so.
bool gdb_engine_built_in();

// Initialises GDB once (later calls return at once): a ui whose input is
// /dev/null, bfd, gdb_init, the console interpreter, batch mode, no
// pagination. The process's signal handlers, signal mask and readline's
// globals are saved before and restored after, so kdive's shell keeps its own.
void gdb_engine_initialize();
bool gdb_engine_initialized();

// Loads `vmlinux` relocated by `offset` (the KASLR offset: symbol-file -o),
// sets the architecture to i386:x86-64 and pushes a target that reads memory
// and registers from `host` (which must outlive the engine). Once per process;
// GdbError on failure (then it may be tried again).
void gdb_engine_load(const std::string& vmlinux, uint64_t offset, GdbHost* host);
bool gdb_engine_loaded();

// Whether GDB has a command spelled `name` (a unique prefix counts, as GDB
// accepts it). Initialises GDB, never loads a vmlinux.
bool gdb_engine_knows_command(const std::string& name);

// The full name of the command GDB would run for `line` ("quit" for "q",
// "shell" for "!", "info symbol" for "info sym 0x..."): aliases and unique
// prefixes resolved, as GDB resolves them. "" when GDB knows no such command.
std::string gdb_engine_command_name(const std::string& line);

// Runs one GDB command and returns what it printed. The registers and GDB's
// frame and memory caches are refreshed first (the host's context may have
// changed). SIGINT during the command sets GDB's quit flag (GdbInterrupted).
// GDB's errors come back as GdbError with GDB's message.
std::string gdb_engine_execute(const std::string& command);

// Forgets the registers and frames GDB has (the host's current task changed).
void gdb_engine_registers_changed();

}  // namespace kdive
