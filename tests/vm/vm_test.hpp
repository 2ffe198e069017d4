// What every real-kernel test file needs besides truth.hpp and run_kdive.hpp:
// the suite under test (CTest sets KDIVE_SUITE per test) and output split
// into lines.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace kdive::test {

// kdive's batch exit status when every command ran but a command lost data
// (an item shown with a marker instead of its data).
constexpr int kDataLost = 3;

// "bullseye", "bookworm", ...: the fixture this run of the test binary checks.
inline std::string suite() {
  const char* s = std::getenv("KDIVE_SUITE");
  REQUIRE(s != nullptr);
  return s;
}

// The suites with a kernel of their own (bullseye, bookworm, trixie); the
// others boot bookworm's kernel again.
inline bool kernel_suite() {
  const std::string s = suite();
  return s == "bullseye" || s == "bookworm" || s == "trixie";
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Lines without trailing blanks (crash pads some of its columns).
inline std::vector<std::string> trimmed_lines(const std::string& text) {
  std::vector<std::string> out = lines_of(text);
  for (std::string& line : out) {
    while (!line.empty() && line.back() == ' ') line.pop_back();
  }
  return out;
}

// A file's whole content ("" when it cannot be read).
inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary directory, removed however the test case ends.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("kdive-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace kdive::test
