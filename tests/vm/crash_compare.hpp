// Several commands through crash and through kdive, each tool started once
// (crash takes seconds to start): the commands run in one session with a
// marker (`p 424242424242`, which both print as "$N = 424242424242") between
// them, and the output is cut at the markers. Lines lose trailing blanks
// (crash pads some columns).
//
//   auto crash = crash_outputs({"runq", "runq -t"});   // crash[1]: runq -t's lines
//   auto kdive = kdive_outputs({"runq", "runq -t"});
#pragma once

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "vm_test.hpp"

namespace kdive::test {

inline std::vector<std::vector<std::string>> split_at_markers(const std::vector<std::string>& lines, size_t count) {
  std::vector<std::vector<std::string>> out(1);
  for (const std::string& line : lines) {
    if (line.rfind("$", 0) == 0 && line.size() > 15 && line.ends_with(" = 424242424242")) {
      out.emplace_back();
    } else {
      out.back().push_back(line);
    }
  }
  REQUIRE(out.size() == count);
  return out;
}

inline std::vector<std::vector<std::string>> crash_outputs(const std::vector<std::string>& commands) {
  std::string script;
  for (size_t i = 0; i < commands.size(); ++i) script += (i ? "\np 424242424242\n" : "") + commands[i];
  return split_at_markers(crash_lines(script), commands.size());
}

inline std::vector<std::vector<std::string>> kdive_outputs(const std::vector<std::string>& commands) {
  std::string script;
  for (size_t i = 0; i < commands.size(); ++i) script += (i ? "; p 424242424242; " : "") + commands[i];
  KdiveRun r = run_kdive(suite(), "elf", script);
  INFO(script << "\n" << r.err);
  REQUIRE(r.status == 0);
  return split_at_markers(trimmed_lines(r.out), commands.size());
}

// Every command's lines from both tools, compared line by line.
inline void compare_with_crash(const std::vector<std::string>& commands) {
  const auto crash = crash_outputs(commands);
  const auto kdive = kdive_outputs(commands);
  for (size_t c = 0; c < commands.size(); ++c) {
    INFO(commands[c]);
    REQUIRE(kdive[c].size() == crash[c].size());
    for (size_t i = 0; i < crash[c].size(); ++i) {
      INFO("line " << i);
      CHECK(kdive[c][i] == crash[c][i]);
    }
  }
}

}  // namespace kdive::test
