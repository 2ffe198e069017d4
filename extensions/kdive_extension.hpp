// The public header for kdive extensions: commands built out of tree into a
// shared object and loaded at run time with `extend FILE.so`. An extension's
// commands are written against the same command API as the built-in ones
// (CommandSpec, ParsedArgs, Session, Output, Json) and reach the kernel
// through the same kernel model (Kernel, Task, Object, read_task_files).
//
//   // hello.cpp — g++ -std=c++20 -shared -fPIC -fno-gnu-unique -I<include>/kdive -o hello.so hello.cpp -lfmt
//   #include "extensions/kdive_extension.hpp"
//
//   namespace {
//   void hello(kdive::Session& session, const kdive::ParsedArgs&, kdive::Output& out) {
//     const kdive::Task& task = session.context();
//     out.print("hello from {}\n", task.comm);
//     out.result({{"comm", task.comm}});
//   }
//   }  // namespace
//
//   KDIVE_EXTENSION("hello", "says hello") {
//     host.add_command({.name = "hello", .summary = "say hello", .usage = "hello",
//                       .description = "Greets from the current context's task.",
//                       .examples = "  kdive> hello\n  hello from sh", .options = {}, .aliases = {},
//                       .json = {.keys = {"comm"}, .notes = "The task's command name.", .example = "hello"}},
//                      hello);
//   }
//
// The API version: kdive refuses an extension built for another version
// (kExtensionApiVersion below), and one built with another C++ toolchain
// setup (ExtensionToolchain), because the types above are shared as C++
// objects whose layout both sides must agree on. The version changes whenever
// a type or function an extension can use changes its layout or signature.
//
// What an extension may call: everything inline in the included headers, and
// of the functions compiled into kdive only those it exports (its dynamic
// symbol list, extensions/exported_symbols.list):
//   - Output (print, write, result, warning, data_lost), StreamOutput, StringOutput
//   - ParsedArgs, parse_args, run_command (run another command), Session,
//     AliasTable, task_header, task_header_json, context_block
//   - Kernel: tasks, default_task, object, per_cpu, per_cpu_offset,
//     symbol_address, find_symbol, symbol_at, modules, panic_cpu, source_line;
//     KernelMemory: read, read_user, read_phys, read_cstring, to_phys
//   - Task, TaskTable, Object, Fault; read_task_files, dentry_path, read_dentry
// An extension that calls anything else is refused at load time with the
// missing symbol's name.
#pragma once

#include <cstdint>
#include <string>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/run_command.hpp"
#include "commands/api/session.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/files.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/tasks.hpp"

// For the preprocessor (#if KDIVE_EXTENSION_API_VERSION >= 2); the same as
// kdive::kExtensionApiVersion.
#define KDIVE_EXTENSION_API_VERSION 2  // 2: OptionSpec gained long_name

namespace kdive {

inline constexpr uint32_t kExtensionApiVersion = KDIVE_EXTENSION_API_VERSION;

// The name of the function every extension exports (KDIVE_EXTENSION defines it).
inline constexpr const char* kExtensionEntryPoint = "kdive_extension";

// What must match besides the API version for C++ objects to cross between
// kdive and an extension: the standard library and its string ABI, and the
// versions of {fmt} and nlohmann/json whose types and inline code both use.
struct ExtensionToolchain {
  enum StandardLibrary : uint32_t { Other = 0, LibstdcxxCxx11 = 1, LibstdcxxOld = 2, Libcxx = 3 };
  uint32_t standard_library;
  uint32_t fmt_major;
  uint32_t json_major, json_minor, json_patch;

  friend constexpr bool operator==(const ExtensionToolchain&, const ExtensionToolchain&) = default;
};

// The toolchain of the code that includes this header: evaluated in the
// extension when it is built, and in kdive when it is built.
constexpr ExtensionToolchain this_toolchain() {
  return {
#if defined(_LIBCPP_VERSION)
    .standard_library = ExtensionToolchain::Libcxx,
#elif defined(__GLIBCXX__) && _GLIBCXX_USE_CXX11_ABI
    .standard_library = ExtensionToolchain::LibstdcxxCxx11,
#elif defined(__GLIBCXX__)
    .standard_library = ExtensionToolchain::LibstdcxxOld,
#else
    .standard_library = ExtensionToolchain::Other,
#endif
    .fmt_major = FMT_VERSION / 10000, .json_major = NLOHMANN_JSON_VERSION_MAJOR,
    .json_minor = NLOHMANN_JSON_VERSION_MINOR, .json_patch = NLOHMANN_JSON_VERSION_PATCH,
  };
}

// What kdive hands an extension while it loads: the way to add commands.
class ExtensionHost {
 public:
  // Adds a command for as long as the extension stays loaded (`extend -u`
  // takes it away again). Its name and aliases must be new to kdive: a clash,
  // an empty name or a missing run function refuses the whole extension.
  // The spec's strings may point into the extension's own constants.
  virtual void add_command(CommandSpec spec, CommandFn run) = 0;

 protected:
  ~ExtensionHost() = default;
};

// What the entry point returns. api_version stays the first member in every
// version of this structure, so that any kdive can read it and refuse an
// extension built for another version before touching the rest.
struct ExtensionInfo {
  uint32_t api_version;
  ExtensionToolchain toolchain;
  const char* name;     // short, shown by `extend`
  const char* summary;  // one line
  void (*register_commands)(ExtensionHost& host);
};

}  // namespace kdive

// Defines the extension's entry point; the block that follows is its
// registration function, with `host` (an ExtensionHost&) in scope. Use once,
// at namespace scope, in one file of the extension:
//
//   KDIVE_EXTENSION("openfiles", "open-file counts per task") {
//     host.add_command(spec, run);
//   }
//
// Register commands here and nowhere else: kdive checks the version before it
// calls this, but dlopen runs static constructors before that check, so they
// must not touch kdive.
#define KDIVE_EXTENSION(NAME, SUMMARY)                                                                           \
  static void kdive_extension_register_commands(::kdive::ExtensionHost& host);                                   \
  extern "C" __attribute__((visibility("default"))) const ::kdive::ExtensionInfo* kdive_extension() {            \
    static constexpr ::kdive::ExtensionInfo info{::kdive::kExtensionApiVersion, ::kdive::this_toolchain(), NAME, \
                                                 SUMMARY, &kdive_extension_register_commands};                   \
    return &info;                                                                                                \
  }                                                                                                              \
  static void kdive_extension_register_commands([[maybe_unused]] ::kdive::ExtensionHost& host)
