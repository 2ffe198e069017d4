#include "host_tools.hpp"

#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "truth.hpp"
#include "vm_test.hpp"

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

std::string quoted(const std::filesystem::path& p) {
  std::string out = "'";
  for (char c : p.string()) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

uint64_t kaslr_offset(const std::filesystem::path& fixture) {
  const Truth truth = Truth::load(fixture / "truth.txt");
  auto run_time = truth.ksym.find("_text");
  REQUIRE(run_time != truth.ksym.end());
  std::string nm = shell_output(fmt::format("nm {} | grep ' _text$'", quoted(fixture / "vmlinux")));
  REQUIRE(!nm.empty());
  return run_time->second - std::stoull(nm.substr(0, nm.find(' ')), nullptr, 16);
}

bool crash_installed() { return have_tool("crash"); }

std::string run_crash(const std::string& command) {
  const std::filesystem::path dir = fixture_dir(suite());
  const std::filesystem::path out =
      std::filesystem::temp_directory_path() / ("kdive-crash-" + std::to_string(::getpid()) + ".out");
  auto quote = [](const std::string& text) {
    std::string q = "'";
    for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  const std::string cmd = "printf '%s\\n' " + quote(command) + " | crash -s " + quoted(dir / "vmlinux") + " " +
                          quoted(dir / "vmcore.elf") + " > " + quoted(out) + " 2>&1";
  const int raw = std::system(cmd.c_str());
  std::stringstream text;
  text << std::ifstream(out).rdbuf();
  std::filesystem::remove(out);
  INFO("crash said:\n" << text.str());
  REQUIRE(WIFEXITED(raw));
  return text.str();
}

std::string crash_unusable() {
  if (suite() != "bullseye") return "crash 8.0.2 cannot read the " + suite() + " fixture (it works on bullseye only)";
  if (!crash_installed()) return "the crash utility is not installed";
  return "";
}

std::vector<std::string> crash_lines(const std::string& command) {
  std::vector<std::string> out;
  std::istringstream in(run_crash(command));
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.push_back(line);
  }
  return out;
}

bool same_file(const std::string& a, const std::string& b) {
  const std::string& shorter = a.size() < b.size() ? a : b;
  const std::string& longer = a.size() < b.size() ? b : a;
  return !shorter.empty() && longer.compare(longer.size() - shorter.size(), shorter.size(), shorter) == 0;
}

}  // namespace kdive::test
