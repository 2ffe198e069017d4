// kdive: entry point. Parses the program's arguments, checks the input files,
// opens the session and hands control to the shell (batch or interactive).
#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "analyzer/cli_options.hpp"
#include "analyzer/input_file.hpp"
#include "analyzer/interrupt.hpp"
#include "analyzer/live_target.hpp"
#include "analyzer/pager.hpp"
#include "analyzer/rc_files.hpp"
#include "analyzer/shell.hpp"
#include "commands/api/session.hpp"
#include "readers/byte_reader.hpp"

namespace {

constexpr int kExitUsage = 2;
constexpr int kExitDataLost = 3;

int usage_error(const std::string& message) {
  fmt::print(stderr, "kdive: {}\n", message);
  return kExitUsage;
}

void print_banner(const kdive::Session& session) {
  fmt::print("kdive {} — Linux kernel crash-dump analysis\n", KDIVE_VERSION);
  const auto& files = session.files();
  if (files.vmlinux) fmt::print("      KERNEL: {}\n", files.vmlinux->string());
  if (session.has_kernel()) {
    auto& dump = session.kernel().dump();
    for (const auto& f : dump.files()) fmt::print("    DUMPFILE: {}  [{}]\n", f, dump.format());
  }
  fmt::print("Type 'help' for the list of commands, 'quit' to leave.\n\n");
}

// Problems the readers noticed but could live with (a truncated file, ...).
void print_warnings(const kdive::Session& session) {
  if (!session.has_kernel()) return;
  for (const auto& w : session.kernel().notices()) fmt::print(stderr, "kdive: warning: {}\n", w);
}

// Opens the dump named on the command line, or the running kernel when none is.
std::unique_ptr<kdive::Kernel> open_kernel(const kdive::CliOptions& opt, kdive::SessionFiles& files) {
  std::optional<std::string> vmlinux;
  if (!opt.positional.empty()) vmlinux = opt.positional[0];
  files.dumps.assign(opt.positional.size() > 1 ? opt.positional.begin() + 1 : opt.positional.end(),
                     opt.positional.end());
  if (files.dumps.empty()) {
    kdive::LiveTarget live = kdive::live_target(vmlinux);
    vmlinux = live.vmlinux;
    files.dumps = {live.memory};
  }
  files.vmlinux = *vmlinux;
  const kdive::KernelOptions options{.ignore_mismatch = opt.ignore_mismatch};
  try {
    return kdive::Kernel::open(*vmlinux, files.dumps, options);
  } catch (const kdive::FormatError& e) {
    // A kernel with STRICT_DEVMEM refuses RAM reads through /dev/mem; /proc/kcore
    // gives the same memory.
    if (files.dumps.size() != 1 || std::string_view(e.what()).find("STRICT_DEVMEM") == std::string_view::npos) throw;
    fmt::print(stderr, "kdive: {}; using /proc/kcore instead\n", e.what());
    files.dumps = {"/proc/kcore"};
    return kdive::Kernel::open(*vmlinux, files.dumps, options);
  }
}

}  // namespace

int main(int argc, char** argv) {
  kdive::CliParse cli = kdive::parse_cli(std::vector<std::string>(argv + 1, argv + argc));
  if (cli.error) return usage_error(*cli.error);
  const kdive::CliOptions& opt = cli.options;
  if (opt.help) {
    fmt::print("{}", kdive::cli_help_text());
    return 0;
  }
  if (opt.version) {
    fmt::print("kdive {}\n", KDIVE_VERSION);
    return 0;
  }

  for (size_t i = 0; i < opt.positional.size(); ++i) {
    if (auto problem = kdive::input_file_problem(opt.positional[i])) {
      return usage_error(fmt::format("{} '{}': {}", i == 0 ? "vmlinux" : "dump", opt.positional[i], *problem));
    }
  }
  std::vector<std::ifstream> scripts;
  for (const auto& path : opt.input_files) {
    if (auto problem = kdive::input_file_problem(path)) {
      return usage_error(fmt::format("input file '{}': {}", path, *problem));
    }
    scripts.emplace_back(path);
  }

  if (std::error_code ec; opt.source_dir && !std::filesystem::is_directory(*opt.source_dir, ec)) {
    return usage_error(fmt::format("--srcdir {}: not a directory", *opt.source_dir));
  }

  kdive::SessionFiles files;
  std::unique_ptr<kdive::Kernel> kernel;
  try {
    kernel = open_kernel(opt, files);
  } catch (const std::exception& e) {
    return usage_error(e.what());
  }
  kdive::Session session(std::move(files), std::move(kernel));
  if (opt.json) session.settings().output = kdive::OutputMode::Json;
  session.settings().silent = opt.silent;  // `set silent` shows it
  if (opt.source_dir) session.settings().source_dir = std::filesystem::path(*opt.source_dir);

  // A pipeline reader that exits early (`| head`) must not kill kdive.
  std::signal(SIGPIPE, SIG_IGN);
  kdive::install_interrupt_handler();

  const bool stdin_is_tty = ::isatty(STDIN_FILENO) != 0;
  const bool interactive_later = !opt.batch && opt.commands.empty() && stdin_is_tty;
  if (!opt.silent && interactive_later) print_banner(session);
  print_warnings(session);

  session.settings().pager = kdive::pager_program();
  kdive::Shell shell(session, stdout, stderr);
  if (!opt.no_rc) {
    std::optional<std::filesystem::path> home;
    if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') home = h;
    std::error_code ec;
    std::filesystem::path cwd = std::filesystem::current_path(ec);
    for (const auto& rc : kdive::rc_files(home, cwd, opt.crashrc)) {
      if (session.quit_requested()) break;
      shell.run_rc_file(rc);
    }
  }
  for (const auto& commands : opt.commands) {
    if (session.quit_requested()) break;
    shell.run_line(commands);
  }
  for (auto& script : scripts) {
    if (session.quit_requested()) break;
    shell.run_stream(script);
  }
  // -c means "run these and exit"; otherwise stdin supplies more commands.
  if (opt.commands.empty() && !session.quit_requested()) {
    if (stdin_is_tty) {
      if (!opt.batch) shell.run_interactive();
    } else if (opt.input_files.empty() || !opt.batch) {
      shell.run_stream(std::cin);
    }
  }
  // Documented in `kdive --help`: a failure outranks lost data.
  int status = 0;
  if (!interactive_later) {
    if (shell.failures() > 0) {
      status = 1;
    } else if (shell.data_lost() > 0) {
      status = kExitDataLost;
    }
  }
  // Tearing the kernel model down (the DWARF name index, the symbol tables:
  // hundreds of thousands of allocations) is work the OS does faster at exit.
  // Only the index must reach its on-disk cache first; nothing else is
  // written, and the inputs are read-only.
  if (session.has_kernel()) session.kernel().types().wait_for_index();
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(status);
}
