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

// What a suite's fixture recipe (tests/vm/fixtures.py) promises about its
// dumps. The QEMU suites: a 512 MiB guest dumped by QEMU's dump-guest-memory
// (a flattened kdump file, QEMU's CPU notes beside NT_PRSTATUS, VMCOREINFO
// from the fw_cfg vmcoreinfo device). bookworm-kdump: a 768 MiB guest whose
// own capture kernel saved /proc/vmcore with kdive-dump (a kdump-compressed
// file, NT_PRSTATUS from the kernel's crash_notes, VMCOREINFO from the
// kernel's own note, and the crashkernel= reservation on its command line).
struct Recipe {
  bool kexec = false;        // taken by a capture kernel, not by QEMU
  uint64_t guest_mib = 512;  // QEMU -m
};
inline Recipe recipe(const std::string& suite) {
  if (suite == "bookworm-kdump") return {.kexec = true, .guest_mib = 768};
  return {};
}

// The size of a crashkernel=SIZE[KMG] on a kernel command line in KiB, 0
// without one (the QEMU suites reserve nothing). Other crashkernel= forms
// (ranges, @offset) are not used by the recipes: the test fails on them.
inline uint64_t crashkernel_kib(const std::string& cmdline) {
  const std::string key = "crashkernel=";
  size_t at = cmdline.find(key);
  if (at == std::string::npos) return 0;
  size_t end = 0;
  const std::string value = cmdline.substr(at + key.size());
  uint64_t n = std::stoull(value, &end);
  REQUIRE(end < value.size());
  switch (value[end]) {
    case 'K':
      return n;
    case 'M':
      return n << 10;
    case 'G':
      return n << 20;
  }
  FAIL("crashkernel=" << value << ": not SIZE[KMG]");
  return 0;
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
