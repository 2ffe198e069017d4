// Runs kdive-dump as a user would: exit codes, one-line messages, nothing under
// the final name unless the dump is whole, DST.incomplete when it is not.
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "readers/open_dump.hpp"
#include "tests/dumpgen/dumpgen.hpp"
#include "tests/unit/support/capture_sinks.hpp"

namespace fs = std::filesystem;
using namespace kdive;
using namespace kdive::test;

namespace {

constexpr std::string_view kSource = R"(
format elf
vmcoreinfo OSRELEASE=6.1.0-test
vmcoreinfo PAGESIZE=4096
cpu 0 pid 1 rip 0xffffffff81000010
page 0x1000-0x100000 pattern
page 0x3000 fill 0
page 0x40000 random 5
)";

struct Result {
  int status = -1;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Sandbox {
 public:
  Sandbox() : dir_(fs::temp_directory_path() / ("kdive-dump-test-" + std::to_string(::getpid()))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto bytes = dumpgen::make_dump(kSource);
    std::ofstream(dir_ / "vmcore", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  ~Sandbox() { fs::remove_all(dir_); }
  fs::path operator/(const std::string& name) const { return dir_ / name; }
  const fs::path& dir() const { return dir_; }

  // Runs a shell command line (kdive-dump is $D), stderr captured.
  Result run(const std::string& line) const {
    std::string cmd = "cd '" + dir_.string() + "' && D='" KDIVE_DUMP_BINARY "' && " + line + " 2>'" +
                      (dir_ / "stderr").string() + "'";
    Result r;
    int s = std::system(cmd.c_str());
    r.status = WIFEXITED(s) ? WEXITSTATUS(s) : -1;
    r.err = slurp(dir_ / "stderr");
    fs::remove(dir_ / "stderr");
    return r;
  }
  // Files of the directory other than the source: temporaries must not stay.
  std::vector<std::string> outputs(const fs::path& in) const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(in)) {
      std::string n = e.path().filename().string();
      if (n != "vmcore") names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  fs::path dir_;
};

// One line on stderr, naming what is wrong.
void check_one_line(const Result& r, const std::string& names) {
  CHECK(r.status == 1);
  REQUIRE_FALSE(r.err.empty());
  CHECK(r.err.find('\n') == r.err.size() - 1);
  CHECK(r.err.rfind("kdive-dump: ", 0) == 0);
  CHECK(r.err.find(names) != std::string::npos);
}

std::unique_ptr<DumpSource> open_path(const fs::path& p) { return open_dump({p.string()}); }

}  // namespace

TEST_CASE("kdive-dump: --help shows usage and examples", "[capture][dump][cli]") {
  Sandbox box;
  Result r = box.run("$D --help > help.txt");
  CHECK(r.status == 0);
  std::string help = slurp(box / "help.txt");
  CHECK(help.find("Usage: kdive-dump") != std::string::npos);
  CHECK(help.find("Examples:") != std::string::npos);
}

TEST_CASE("kdive-dump: bad input is one line, a non-zero exit and no output", "[capture][dump][cli]") {
  Sandbox box;
  std::ofstream(box / "notadump") << "just text, not a dump\n";
  check_one_line(box.run("$D -d 1 notadump out"), "notadump");
  check_one_line(box.run("$D -d 32 vmcore out"), "dump level '32'");
  check_one_line(box.run("$D -d x vmcore out"), "dump level 'x'");
  check_one_line(box.run("$D -d 1 -Q vmcore out"), "unknown option -Q");
  check_one_line(box.run("$D -d 1 -c -z vmcore out"), "one compression");
  check_one_line(box.run("$D -d 1 vmcore nodir/out"), "does not exist");
  check_one_line(box.run("$D -d 1 missing out"), "missing");
  check_one_line(box.run("$D -d 1 vmcore"), "no destination");
  // A truncated copy of /proc/vmcore: refused, not copied as if whole.
  fs::copy_file(box / "vmcore", box / "cut");
  fs::resize_file(box / "cut", fs::file_size(box / "cut") / 2);
  check_one_line(box.run("$D -d 1 cut out"), "truncated");
  fs::remove(box / "notadump");
  fs::remove(box / "cut");
  CHECK(box.outputs(box.dir()).empty());
}

TEST_CASE("kdive-dump: writes a dump kdive reads page for page", "[capture][dump][cli]") {
  Sandbox box;
  Result r = box.run("$D -d 1 -c --num-threads 2 vmcore out > report.txt");
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(box.outputs(box.dir()) == std::vector<std::string>{"out", "report.txt"});
  std::string report = slurp(box / "report.txt");
  CHECK(report.find("zero                       1") != std::string::npos);
  CHECK(report.find("Pages written: 254") != std::string::npos);  // 0xff pages, one zero
  auto src = open_path(box / "vmcore");
  auto out = open_path(box / "out");
  CHECK(out->format() == "kdump-zlib");
  PageCheck c = compare_pages(*src, *out, [](uint64_t, const std::vector<std::byte>& b) { return is_zero_page(b); });
  CHECK(c.problems.empty());
  CHECK(c.compared == 254);
}

TEST_CASE("kdive-dump: the progress line shows on a terminal only", "[capture][dump][cli]") {
  Sandbox box;
  if (std::system("command -v script > /dev/null 2>&1") != 0) {
    WARN("SKIPPED: no script(1) to give kdive-dump a terminal");
    return;
  }
  // script(1) runs it on a pseudo-terminal; its output is what the terminal got.
  Result r = box.run("script -qc \"$D -d 1 vmcore out1\" /dev/null > tty.txt");
  REQUIRE(r.status == 0);
  std::string tty = slurp(box / "tty.txt");
  CHECK(tty.find("Copying data") != std::string::npos);
  CHECK(tty.find("[100.0 %]") != std::string::npos);
  // Not a terminal: no progress at all.
  r = box.run("$D -d 1 vmcore out2 > report.txt");
  REQUIRE(r.status == 0);
  CHECK(r.err.empty());
  CHECK(slurp(box / "report.txt").find("Copying data") == std::string::npos);
}

TEST_CASE("kdive-dump: -F piped into -R gives the file a direct run writes", "[capture][dump][cli][flattened]") {
  Sandbox box;
  REQUIRE(box.run("$D -d 1 -z vmcore direct >/dev/null").status == 0);
  Result r = box.run("($D -d 1 -z -F vmcore | $D -R piped)");
  REQUIRE(r.status == 0);
  CHECK(slurp(box / "piped") == slurp(box / "direct"));
  // The report goes to stderr with -F: stdout is the stream.
  CHECK(r.err.find("Pages written") != std::string::npos);
}

TEST_CASE("kdive-dump: --split parts open together", "[capture][dump][cli][split]") {
  Sandbox box;
  REQUIRE(box.run("$D -d 1 -l --split vmcore p1 p2 p3 >/dev/null").status == 0);
  auto src = open_path(box / "vmcore");
  auto out = open_dump({(box / "p1").string(), (box / "p2").string(), (box / "p3").string()});
  PageCheck c = compare_pages(*src, *out, [](uint64_t, const std::vector<std::byte>& b) { return is_zero_page(b); });
  CHECK(c.problems.empty());
  CHECK(c.compared == 254);
}

TEST_CASE("kdive-dump: -E writes an ELF core", "[capture][dump][cli][elf]") {
  Sandbox box;
  REQUIRE(box.run("$D -d 1 -E vmcore out.elf >/dev/null").status == 0);
  auto src = open_path(box / "vmcore");
  auto out = open_path(box / "out.elf");
  CHECK(out->format().rfind("elf", 0) == 0);
  // ELF keeps zero pages (as holes): nothing is left out.
  PageCheck c = compare_pages(*src, *out, [](uint64_t, const std::vector<std::byte>&) { return false; });
  CHECK(c.problems.empty());
  CHECK(c.compared == 255);
}

TEST_CASE("kdive-dump: a full filesystem leaves DST.incomplete, marked and readable",
          "[capture][dump][cli][incomplete]") {
  Sandbox box;
  fs::path mnt = box / "small";
  fs::create_directories(mnt);
  // 256 KiB: the metadata fits, the ~1 MiB of raw pages does not.
  if (::geteuid() != 0 || ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=256k") != 0) {
    WARN("SKIPPED: cannot mount a small tmpfs (needs root): the ENOSPC path is covered in memory only");
    return;
  }
  Result r = box.run("$D -d 0 vmcore small/out >/dev/null");
  std::vector<std::string> left = box.outputs(mnt);
  auto out = left == std::vector<std::string>{"out.incomplete"} ? open_path(mnt / "out.incomplete") : nullptr;
  std::vector<std::string> warnings = out ? out->warnings() : std::vector<std::string>{};
  PageCheck c;
  if (out) {
    auto src = open_path(box / "vmcore");
    std::vector<std::byte> a(4096), b(4096);
    for (uint64_t p = 0x1000; p < 0x100000; p += 4096) {
      src->read_phys(PhysAddr{p}, a);
      PageState s = out->read_phys(PhysAddr{p}, b);
      if (s == PageState::Present || s == PageState::Zero) {
        ++c.compared;
        if (a != b) c.problems.push_back(fmt::format("{:#x} differs", p));
      }
    }
  }
  out.reset();
  ::umount2(mnt.c_str(), MNT_DETACH);
  check_one_line(r, "No space left on device");
  CHECK(r.err.find("out.incomplete") != std::string::npos);
  CHECK(left == std::vector<std::string>{"out.incomplete"});
  REQUIRE_FALSE(warnings.empty());
  CHECK(warnings.front().find("incomplete") != std::string::npos);
  CHECK(c.problems.empty());
  CHECK(c.compared > 0);
  CHECK(c.compared < 255);
}

TEST_CASE("kdive-dump: SIGTERM while -R receives keeps DST.incomplete", "[capture][dump][cli][incomplete]") {
  Sandbox box;
  REQUIRE(box.run("$D -d 0 -F vmcore > stream 2>/dev/null").status == 0);
  std::string stream = slurp(box / "stream");
  int pipefd[2];
  REQUIRE(::pipe(pipefd) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(pipefd[0], STDIN_FILENO);
    ::close(pipefd[1]);
    fs::current_path(box.dir());
    int err = ::open("stderr", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(err, STDERR_FILENO);
    ::execl(KDIVE_DUMP_BINARY, "kdive-dump", "-R", "out", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(pipefd[0]);
  // Half the stream (it ends inside the page data record), then wait (bounded)
  // until the receiver has written the records before it under its temporary
  // name: it is then waiting for the rest when the signal comes.
  size_t half = stream.size() / 2;
  REQUIRE(::write(pipefd[1], stream.data(), half) == static_cast<ssize_t>(half));
  bool received = false;
  // Bounded generously: on a loaded machine the receiver may take seconds to
  // start.
  for (int i = 0; i < 6000 && !received; ++i) {
    for (const auto& e : fs::directory_iterator(box.dir())) {
      if (e.path().filename().string().rfind(".out.", 0) == 0 && fs::file_size(e.path()) >= 4096) {
        received = true;
      }
    }
    if (!received) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGTERM);
  // The receiver must stop on its own while the sender still holds the pipe
  // open (it looks at the stop flag between waits); if it does not within a
  // minute it is killed and the test fails rather than hanging.
  int status = 0;
  bool stopped = false;
  for (int i = 0; i < 600 && !stopped; ++i) {
    stopped = ::waitpid(pid, &status, WNOHANG) == pid;
    if (!stopped) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!stopped) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ::close(pipefd[1]);
  REQUIRE(stopped);
  REQUIRE(received);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  std::string err = slurp(box / "stderr");
  CHECK(err.find("interrupted by SIGTERM") != std::string::npos);
  CHECK_FALSE(fs::exists(box / "out"));
  REQUIRE(fs::exists(box / "out.incomplete"));
  auto out = open_path(box / "out.incomplete");
  REQUIRE_FALSE(out->warnings().empty());
  CHECK(out->warnings().front().find("incomplete") != std::string::npos);
}

TEST_CASE("kdive-dump: no room even for the headers leaves nothing behind", "[capture][dump][cli][incomplete]") {
  Sandbox box;
  fs::path mnt = box / "tiny";
  fs::create_directories(mnt);
  // One page: less than the header, sub-header and bitmaps need.
  if (::geteuid() != 0 || ::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4k") != 0) {
    WARN("SKIPPED: cannot mount a small tmpfs (needs root)");
    return;
  }
  Result r = box.run("$D -d 1 -c vmcore tiny/out >/dev/null");
  std::vector<std::string> left = box.outputs(mnt);
  ::umount2(mnt.c_str(), MNT_DETACH);
  check_one_line(r, "nothing could be written");
  CHECK(left.empty());
}
