// Runs the kdive binary on a fixture in batch mode, as a user or a script would,
// and captures what it printed.
//
//   KdiveRun r = run_kdive("bookworm", "elf", "sys; rd -a linux_banner");
//   r.status; r.out; r.err;
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kdive::test {

struct KdiveRun {
  int status;
  std::string out;
  std::string err;
};

// `format` picks the dump file: "elf" (vmcore.elf) or "kdump-zlib" (vmcore.kdump-zlib).
KdiveRun run_kdive(const std::string& suite, const std::string& format, const std::string& commands);
// Runs with arbitrary extra arguments (already shell-quoted).
KdiveRun run_kdive_args(const std::string& args);

// The JSON result of one command run in batch mode over the suite's ELF dump
// (kdive --json -b -c COMMAND); requires exit status 0 and a "result".
nlohmann::json json_result_of(const std::string& suite, const std::string& command);
// Every command's JSON result, in order, for several commands in one run
// (kdive --json prints one object a line); requires exit status 0.
std::vector<nlohmann::json> json_results_of(const std::string& suite, const std::string& commands);

// The text of `rd -a` output: the part after "address:  " of each line, joined.
std::string rd_ascii_text(const std::string& rd_output);

}  // namespace kdive::test
