// kdive's batch input over a real dump, as scripts use it: -c, -i, commands on
// stdin, pipes and redirects, and the exit status.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "truth.hpp"
#include "vm_test.hpp"

namespace fs = std::filesystem;
using kdive::test::fixture_dir;

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
  Sandbox() : dir_(fs::temp_directory_path() / ("kdive-cli-test-" + std::to_string(::getpid()))) {
    fs::create_directories(dir_);
    const fs::path fixture = fixture_dir("bookworm");
    files_ = "'" + (fixture / "vmlinux").string() + "' '" + (fixture / "vmcore.elf").string() + "'";
  }
  ~Sandbox() { fs::remove_all(dir_); }

  fs::path path(const std::string& name) const { return dir_ / name; }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_ / name) << text; }

  // Runs `kdive OPTIONS VMLINUX VMCORE` in the sandbox with the given stdin
  // text (and `env`, "NAME=value ...", in its environment).
  Result run(const std::string& options, const std::string& input = "", const std::string& env = "") const {
    write("stdin.txt", input);
    std::string cmd = "cd '" + dir_.string() + "' && " + env + " '" KDIVE_BINARY "' " + options + " " + files_ +
                      " < stdin.txt > stdout.txt 2> stderr.txt";
    int raw = std::system(cmd.c_str());
    return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(dir_ / "stdout.txt"), read_file(dir_ / "stderr.txt")};
  }

 private:
  fs::path dir_;
  std::string files_;
};

bool one_line(const std::string& s) { return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1; }

}  // namespace

TEST_CASE("kdive -c runs commands and exits", "[cli]") {
  Sandbox box;
  auto r = box.run("-c 'echo a; echo b | tr b B' -c 'sys > sys.txt; sys | grep -c RELEASE'", "echo not-read\n");
  CHECK(r.status == 0);
  CHECK(r.out == "a\nB\n1\n");
  CHECK(r.err.empty());
  CHECK(read_file(box.path("sys.txt")).find("RELEASE: 6.1.0-") != std::string::npos);
}

TEST_CASE("kdive -i runs a script file; stdin supplies commands", "[cli]") {
  Sandbox box;
  box.write("triage.cmds", "# triage\necho from-script\n\nsys >> log.txt\n");
  auto script = box.run("-b -i triage.cmds", "echo not-read\n");
  CHECK(script.status == 0);
  CHECK(script.out == "from-script\n");
  CHECK(read_file(box.path("log.txt")).find("PANIC: ") != std::string::npos);

  auto piped = box.run("", "echo from-stdin\nhelp | grep -cw sys\nquit\necho no\n");
  CHECK(piped.status == 0);
  CHECK(piped.out == "from-stdin\n1\n");

  auto both = box.run("-i triage.cmds", "echo then-stdin\n");
  CHECK(both.out == "from-script\nthen-stdin\n");
}

TEST_CASE("kdive batch exit status reports failed commands", "[cli]") {
  Sandbox box;
  auto r = box.run("-c 'nosuch; rd -p 0xfffffffff000; echo after'");
  CHECK(r.status == 1);
  CHECK(r.out == "after\n");
  CHECK(r.err ==
        "kdive: command not found: nosuch (try 'help')\n"
        "rd: cannot read physical address fffffffff000: page not in the dump\n");
}

TEST_CASE("bad command arguments give one line and the shell goes on", "[cli]") {
  Sandbox box;
  struct Case {
    std::string command;
    std::string error;
  } cases[] = {
      {"rd nosuchsymbol", "rd: no symbol 'nosuchsymbol'\n"},
      {"rd -z linux_banner", "rd: invalid option -- 'z' (see 'help rd')\n"},
      {"rd linux_banner zz", "rd: invalid count: 'zz'\n"},
      {"rd -32 -s linux_banner", "rd: -s shows symbols, which only fit 64-bit values\n"},
      {"rd", "rd: an address or symbol is needed (see 'help rd')\n"},
      {"vtop", "vtop: an address is needed (see 'help vtop')\n"},
      {"ptov xyz", "ptov: invalid physical address: 'xyz'\n"},
      {"sys extra", "sys: unknown argument 'extra'\n"},
  };
  for (const auto& c : cases) {
    INFO(c.command);
    auto r = box.run("-c '" + c.command + "; echo alive'");
    CHECK(r.status == 1);
    CHECK(r.err == c.error);
    CHECK(one_line(r.err));
    CHECK(r.out == "alive\n");
  }
}

TEST_CASE("a session opens and maps the vmlinux once", "[cli]") {
  // Symbols, types (the DWARF index scanned afresh: an empty cache), source
  // lines (sym, sys -c) all read the vmlinux; then the shell escape looks at
  // kdive's own descriptors and mappings (its shell's parent is kdive).
  Sandbox box;
  const std::string vmlinux = (fixture_dir("bookworm") / "vmlinux").string();
  auto r = box.run(
      "-b -c 'sym schedule; struct task_struct.pid; sys -c | head -2 | tail -1; "
      "!ls -l /proc/$PPID/fd | grep -c \"" +
          vmlinux +
          "$\"; "
          "!grep -c \" " +
          vmlinux + "$\" /proc/$PPID/maps'",
      "", "XDG_CACHE_HOME=" + box.path("cache").string());
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  auto lines = kdive::test::lines_of(r.out);
  REQUIRE(lines.size() == 7);
  CHECK(lines[0].find(" (T) schedule ") != std::string::npos);
  CHECK(lines[0].find("kernel/sched/core.c: ") != std::string::npos);  // a source line
  CHECK(lines[2].find("pid_t pid;") != std::string::npos);             // a type
  CHECK(lines[4].find("fs/read_write.c: ") != std::string::npos);      // sys -c's line lookup
  CHECK(lines[5] == "1");                                              // open file descriptors
  CHECK(lines[6] == "1");                                              // mappings
  // The scan ran (and saved its index): the types did not come from a cache.
  CHECK_FALSE(fs::is_empty(box.path("cache") / "kdive"));
}
