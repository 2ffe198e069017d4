// Runs the kdive executable as a user would, checking exit codes and that every
// bad-argument message is exactly one line on stderr. (Batch input over a real
// dump is tested in tests/vm/cli_test.cpp.)
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

struct Result {
  int status;
  std::string out;
  std::string err;
};

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Sandbox {
 public:
  Sandbox() : dir_(fs::temp_directory_path() / ("kdive-bin-test-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    // Stand-ins for VMLINUX and VMCORE: real ones are tested with the vm fixtures.
    write("vmlinux",
          "\x7f"
          "ELF");
    write("vmcore",
          "\x7f"
          "ELF");
    write("text-file", "not a kernel\n");
  }
  ~Sandbox() { fs::remove_all(dir_); }

  fs::path path(const std::string& name) const { return dir_ / name; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

  // Runs `kdive ARGS` in the sandbox with the given stdin text.
  Result run(const std::string& args, const std::string& input = "") const {
    write("stdin.txt", input);
    std::string cmd =
        "cd '" + dir_.string() + "' && '" KDIVE_BINARY "' " + args + " < stdin.txt > stdout.txt 2> stderr.txt";
    int raw = std::system(cmd.c_str());
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(dir_ / "stdout.txt"), read_file(dir_ / "stderr.txt")};
  }

 private:
  fs::path dir_;
};

bool one_line(const std::string& s) { return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1; }

}  // namespace

TEST_CASE("kdive --help and --version", "[binary]") {
  Sandbox box;
  auto help = box.run("--help");
  CHECK(help.status == 0);
  CHECK(help.out.find("Usage: kdive [options] [VMLINUX [VMCORE [VMCORE-PART ...]]]") == 0);
  auto version = box.run("--version");
  CHECK(version.status == 0);
  CHECK(version.out.rfind("kdive ", 0) == 0);
  CHECK(one_line(version.out));
}

TEST_CASE("kdive rejects bad arguments with one line and exit code 2", "[binary]") {
  Sandbox box;
  fs::create_directories(box.path("adir"));
  box.write("empty", "");
  struct Case {
    std::string args;
    std::string expect;
  } cases[] = {
      {"missing-vmlinux vmcore", "vmlinux 'missing-vmlinux': No such file or directory"},
      {"vmlinux missing-vmcore", "dump 'missing-vmcore': No such file or directory"},
      {"adir vmcore", "vmlinux 'adir': is a directory"},
      {"vmlinux empty", "dump 'empty': is empty"},
      {"vmlinux vmcore/x", "dump 'vmcore/x': Not a directory"},
      {"--frob vmlinux vmcore", "unknown option '--frob'"},
      {"-Z vmlinux vmcore", "unknown option '-Z'"},
      {"text-file", "text-file: not an ELF file (a vmlinux is expected)"},
      {"text-file vmcore", "text-file: not an ELF file (a vmlinux is expected)"},
      {"'" KDIVE_BINARY "' vmcore", "not an x86_64 kernel image"},
      {"-i missing.cmds vmlinux vmcore", "input file 'missing.cmds': No such file"},
      {"vmlinux vmcore -c", "option -c needs commands"},
  };
  for (const auto& c : cases) {
    INFO(c.args);
    auto r = box.run(c.args);
    CHECK(r.status == 2);
    CHECK(r.out.empty());
    CHECK(one_line(r.err));
    CHECK(r.err.rfind("kdive: ", 0) == 0);
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
}
