#include "host_tools.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>

#include "truth.hpp"

namespace kdive::test {

std::string shell_output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

uint64_t kaslr_offset(const std::filesystem::path& fixture) {
  const Truth truth = Truth::load(fixture / "truth.txt");
  auto run_time = truth.ksym.find("_text");
  REQUIRE(run_time != truth.ksym.end());
  std::string nm = shell_output(fmt::format("nm {} | grep ' _text$'", quoted(fixture / "vmlinux")));
  REQUIRE(!nm.empty());
  return run_time->second - std::stoull(nm.substr(0, nm.find(' ')), nullptr, 16);
}

bool same_file(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  return !shorter.empty() && longer.compare(longer.size() - shorter.size(), shorter.size(), shorter) == 0;
}

}  // namespace kdive::test
