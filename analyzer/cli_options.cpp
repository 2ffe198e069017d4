#include "analyzer/cli_options.hpp"

#include <fmt/format.h>

namespace kdive {

namespace {

// Long spellings of the short options; all of them take the same arguments.
char short_name(const std::string& arg) {
  if (arg == "--command") return 'c';
  if (arg == "--input") return 'i';
  if (arg == "--batch") return 'b';
  if (arg == "--silent") return 's';
  if (arg == "--help") return 'h';
  if (arg == "--version") return 'V';
  if (arg == "--ignore-mismatch") return 'M';  // long-only
  if (arg == "--json") return 'J';             // long-only
  if (arg == "--srcdir") return 'S';           // long-only
  if (arg == "--no-rc") return 'N';            // long-only
  if (arg == "--crashrc") return 'C';          // long-only
  return 0;
}

bool takes_value(char c) { return c == 'c' || c == 'i' || c == 'S'; }

const char* value_name(char c) {
  if (c == 'c') return "commands";
  if (c == 'S') return "a directory";
  return "a file name";
}

}  // namespace

CliParse parse_cli(const std::vector<std::string>& args) {
  CliParse result;
  CliOptions& o = result.options;
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      o.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::string letters;
    std::string inline_value;
    bool has_inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
        has_inline_value = true;
      }
      char c = short_name(name);
      if (c == 0) {
        result.error = fmt::format("unknown option '{}' (see 'kdive --help')", name);
        return result;
      }
      if (has_inline_value && !takes_value(c)) {
        result.error = fmt::format("option '{}' takes no value", name);
        return result;
      }
      letters = std::string(1, c);
    } else {
      letters = arg.substr(1);
    }
    for (size_t j = 0; j < letters.size(); ++j) {
      char c = letters[j];
      if (takes_value(c)) {
        if (c == 'S' && !arg.starts_with("--srcdir")) {
          result.error = "unknown option '-S' (see 'kdive --help')";
          return result;
        }
        std::string value;
        if (has_inline_value) {
          value = inline_value;
        } else if (j + 1 < letters.size()) {
          value = letters.substr(j + 1);
        } else if (i + 1 < args.size()) {
          value = args[++i];
        } else {
          result.error =
              fmt::format("option {} needs {}", c == 'S' ? "--srcdir" : fmt::format("-{}", c), value_name(c));
          return result;
        }
        if (c == 'S') {
          o.source_dir = value;
        } else {
          (c == 'c' ? o.commands : o.input_files).push_back(value);
        }
        break;
      }
      switch (c) {
        case 'b':
          o.batch = true;
          break;
        case 's':
          o.silent = true;
          break;
        case 'h':
          o.help = true;
          break;
        case 'V':
          o.version = true;
          break;
        case 'M':
          if (arg != "--ignore-mismatch") {
            result.error = "unknown option '-M' (see 'kdive --help')";
            return result;
          }
          o.ignore_mismatch = true;
          break;
        case 'J':
          if (arg != "--json") {
            result.error = "unknown option '-J' (see 'kdive --help')";
            return result;
          }
          o.json = true;
          break;
        case 'N':
        case 'C':
          if (arg != "--no-rc" && arg != "--crashrc") {
            result.error = fmt::format("unknown option '-{}' (see 'kdive --help')", c);
            return result;
          }
          (c == 'N' ? o.no_rc : o.crashrc) = true;
          break;
        default:
          result.error = fmt::format("unknown option '-{}' (see 'kdive --help')", c);
          return result;
      }
    }
  }
  return result;
}

std::string cli_help_text() {
  return R"(Usage: kdive [options] [VMLINUX [VMCORE [VMCORE-PART ...]]]

Opens a crash-compatible shell over a Linux kernel crash dump. VMLINUX is the
kernel image with debug info (e.g. /usr/lib/debug/boot/vmlinux-$(uname -r));
VMCORE is the dump: ELF, kdump-compressed or flattened, found by content;
the parts of a split kdump dump may follow; /dev/mem or /proc/kcore
inspect the running kernel. Without VMCORE, kdive inspects the running
kernel through /proc/kcore; without VMLINUX too, it uses the debug image of
the running kernel (/usr/lib/debug/boot/vmlinux-$(uname -r), from the
kernel's -dbg package). Commands follow the crash
utility: sys, bt, ps, log, ... ; type 'help' at the prompt for the list.

Options:
  -c, --command CMDS  run CMDS (separated by ';') and exit; repeatable
  -i, --input FILE    run the commands in FILE, one per line, then continue
                      at the prompt (or exit with -b); repeatable
  -b, --batch         never prompt: run -c/-i commands, or read commands
                      from standard input, then exit
  -s, --silent        do not print the start-up banner
      --no-rc         do not run the start-up files (below)
      --crashrc       run crash's .crashrc files too (before each .kdiverc)
      --json          every command prints one JSON object per run (JSON
                      Lines): {"command": ..., "result": ...} or
                      {"command": ..., "error": ...}; 'help CMD' documents
                      each command's result (same as 'set output json')
      --srcdir DIR    the kernel source tree dis -s reads (same as
                      'set srcdir DIR')
      --ignore-mismatch
                      open the dump even if VMLINUX does not belong to it
                      (symbols and types will then be wrong)
  -h, --help          show this help and exit
  -V, --version       show the version and exit

Start-up files: ~/.kdiverc, then ./.kdiverc, run before any other command
(commands one per line, '#' starts a comment line; an error names file:line
and the rest still runs).

When standard input is not a terminal and no -c is given, commands are read
from it, one per line. In the shell, 'cmd | shell-pipeline', 'cmd > file',
'cmd >> file' and '!shell-command' work as in crash; output longer than
the screen is paged ($PAGER, else less; 'set scroll off' stops it), and Tab
completes commands, flags, symbols, type names and struct.member paths.

Exit status (batch): 0 every command ran, 1 a command failed, 2 bad
arguments or unusable input files, 3 every command ran but data was lost
(an item that could not be read was shown with a marker). A command that
reports that the kernel lacks what was asked (sys config without
IKCONFIG) has not failed.

Examples:
  kdive vmlinux vmcore
  kdive                      # the running kernel (as root)
  kdive -b -c 'sys; bt; log | tail -50' vmlinux vmcore
  kdive --json -b -c 'ps' vmlinux vmcore | jq .result
  kdive -i triage.cmds vmlinux vmcore > report.txt
  echo ps | kdive vmlinux vmcore
)";
}

}  // namespace kdive
