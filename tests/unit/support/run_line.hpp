// Runs one command line through the command API, as the shell would without
// its plumbing, with no dump open, and keeps what it printed and reported.
//
//   auto r = kdive::test::run_line("extend -u x.so");
//   CHECK(r.status == kdive::CommandStatus::Failed);
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "commands/api/run_command.hpp"
#include "commands/api/session.hpp"

namespace kdive::test {

struct Ran {
  CommandStatus status;
  std::string out;
  std::string errors;  // "who: message\n" per reported error
};

inline Ran run_line(const std::string& line, OutputMode mode = OutputMode::Text) {
  static Session session({});
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  StringOutput out(mode);
  std::string errors;
  auto r = run_command(session, line, words, out, [&](std::string_view who, std::string_view message) {
    errors += std::string(who) + ": " + std::string(message) + "\n";
  });
  return {r.status, out.str(), errors};
}

}  // namespace kdive::test
