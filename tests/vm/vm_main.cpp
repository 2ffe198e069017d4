// main() of the real-kernel test binary: Catch2's, plus the skip rule of
// skip.hpp. Exit status: Catch2's on a failure (never kSkipExitCode), else
// kSkipExitCode when every test case that ran was skipped, else 0.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "skip.hpp"

namespace kdive::test {
namespace {

std::set<std::string>& test_cases_run() {
  static std::set<std::string> names;
  return names;
}

std::map<std::string, std::string>& skipped() {
  static std::map<std::string, std::string> reasons;  // test case -> why
  return reasons;
}

// Counts the test cases that start, to tell "all skipped" from "some skipped".
struct RunListener : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo& info) override { test_cases_run().insert(info.name); }
};
CATCH_REGISTER_LISTENER(RunListener)

}  // namespace

void note_skipped(const std::string& reason) {
  WARN("SKIPPED: " << reason);
  skipped().emplace(Catch::getResultCapture().getCurrentTestName(), reason);
}

}  // namespace kdive::test

int main(int argc, char* argv[]) {
  using namespace kdive::test;
  int status = Catch::Session().run(argc, argv);
  if (status != 0) return status == kSkipExitCode ? 1 : status;  // a failure count must not read as "skipped"
  if (skipped().empty()) return 0;
  const bool all = skipped().size() == test_cases_run().size();
  std::cout << (all ? "Every test case was skipped:\n" : "Some test cases were skipped (the others passed):\n");
  for (const auto& [name, reason] : skipped()) std::cout << "  " << name << ": " << reason << "\n";
  return all ? kSkipExitCode : 0;
}
