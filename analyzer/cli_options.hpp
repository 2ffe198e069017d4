// The kdive program's own command line:
//
//   kdive [options] VMLINUX [VMCORE]
//
// parsed into CliOptions without side effects, so it is testable; main() acts on it.
//
//   CliParse p = parse_cli({"-b", "-c", "sys; bt", "vmlinux", "vmcore"});
//   if (p.error) { print(*p.error); return 2; }
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kdive {

struct CliOptions {
  std::vector<std::string> positional;    // VMLINUX [VMCORE]
  std::vector<std::string> commands;      // -c 'cmd; cmd' (in order, repeatable)
  std::vector<std::string> input_files;   // -i FILE (in order, repeatable)
  bool batch = false;                     // -b: never interactive
  bool silent = false;                    // -s: no banner
  bool help = false;                      // -h, --help
  bool version = false;                   // -V, --version
  bool ignore_mismatch = false;           // --ignore-mismatch
  bool json = false;                      // --json: JSON Lines results
  bool no_rc = false;                     // --no-rc: no start-up files
  bool crashrc = false;                   // --crashrc: crash's .crashrc too
  std::optional<std::string> source_dir;  // --srcdir DIR: set srcdir DIR
};

struct CliParse {
  CliOptions options;
  std::optional<std::string> error;  // one line, without the "kdive: " prefix
};

CliParse parse_cli(const std::vector<std::string>& args);

// The text of `kdive --help`.
std::string cli_help_text();

}  // namespace kdive
