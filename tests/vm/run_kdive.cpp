#include "run_kdive.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "truth.hpp"
#include "vm_test.hpp"

namespace kdive::test {
namespace {

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

nlohmann::json json_result_of(const std::string& suite, const std::string& command) {
  const std::filesystem::path dir = fixture_dir(suite);
  KdiveRun r = run_kdive_args("--json -b -c " + quote(command) + " " + quote((dir / "vmlinux").string()) + " " +
                              quote((dir / "vmcore.elf").string()));
  INFO(command << "\n" << r.out << r.err);
  REQUIRE(r.status == 0);
  nlohmann::json j = nlohmann::json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.contains("result"));
  return j["result"];
}

std::vector<nlohmann::json> json_results_of(const std::string& suite, const std::string& commands) {
  const std::filesystem::path dir = fixture_dir(suite);
  KdiveRun r = run_kdive_args("--json -b -c " + quote(commands) + " " + quote((dir / "vmlinux").string()) + " " +
                              quote((dir / "vmcore.elf").string()));
  INFO(commands << "\n" << r.err);
  REQUIRE(r.status == 0);
  std::vector<nlohmann::json> results;
  for (const std::string& line : lines_of(r.out)) {
    nlohmann::json j = nlohmann::json::parse(line);
    REQUIRE(j.contains("result"));
    results.push_back(j["result"]);
  }
  return results;
}

KdiveRun run_kdive_args(const std::string& args) {
  static int counter = 0;
  auto base = std::filesystem::temp_directory_path() /
              ("kdive-vm-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::string cmd = std::string("'") + KDIVE_BINARY + "' " + args + " < /dev/null > '" + base.string() + ".out' 2> '" +
                    base.string() + ".err'";
  int raw = std::system(cmd.c_str());
  KdiveRun r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(base.string() + ".out"), slurp(base.string() + ".err")};
  std::filesystem::remove(base.string() + ".out");
  std::filesystem::remove(base.string() + ".err");
  return r;
}

KdiveRun run_kdive(const std::string& suite, const std::string& format, const std::string& commands) {
  auto dir = fixture_dir(suite);
  return run_kdive_args("-b -c " + quote(commands) + " " + quote((dir / "vmlinux").string()) + " " +
                        quote((dir / ("vmcore." + format)).string()));
}

std::string rd_ascii_text(const std::string& rd_output) {
  std::string text;
  std::istringstream in(rd_output);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find(":  ");
    if (at != std::string::npos) text += line.substr(at + 3);
  }
  return text;
}

}  // namespace kdive::test
