// Start-up files: which run, in which order, and what lines of them are
// commands; and the shell naming file:line for an error and going on.
#include "analyzer/rc_files.hpp"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "analyzer/shell.hpp"
#include "commands/api/session.hpp"

namespace kdive {
namespace {

namespace fs = std::filesystem;

struct Dirs {
  fs::path root;
  Dirs() {
    char name[] = "/tmp/kdive-rc-XXXXXX";
    root = ::mkdtemp(name);
    fs::create_directories(root / "home");
    fs::create_directories(root / "work");
  }
  ~Dirs() { fs::remove_all(root); }
  void write(const fs::path& p, const std::string& text) const { std::ofstream(root / p) << text; }
};

}  // namespace

TEST_CASE("rc_files: home before the current directory, .crashrc only when asked", "[rc]") {
  Dirs d;
  CHECK(rc_files(d.root / "home", d.root / "work", true).empty());
  d.write("home/.kdiverc", "echo home\n");
  d.write("work/.kdiverc", "echo work\n");
  d.write("home/.crashrc", "echo crash-home\n");
  d.write("work/.crashrc", "echo crash-work\n");
  CHECK(rc_files(d.root / "home", d.root / "work", false) ==
        std::vector<fs::path>{d.root / "home/.kdiverc", d.root / "work/.kdiverc"});
  CHECK(rc_files(d.root / "home", d.root / "work", true) ==
        std::vector<fs::path>{d.root / "home/.crashrc", d.root / "home/.kdiverc", d.root / "work/.crashrc",
                              d.root / "work/.kdiverc"});
  // Started in the home directory: each file once.
  CHECK(rc_files(d.root / "home", d.root / "home/.", false) == std::vector<fs::path>{d.root / "home/.kdiverc"});
  // No HOME: the current directory only.
  CHECK(rc_files(std::nullopt, d.root / "work", false) == std::vector<fs::path>{d.root / "work/.kdiverc"});
  // A directory of that name is no start-up file.
  fs::remove(d.root / "work/.kdiverc");
  fs::create_directory(d.root / "work/.kdiverc");
  CHECK(rc_files(std::nullopt, d.root / "work", false).empty());
}

TEST_CASE("read_rc_lines skips comments and blank lines and keeps line numbers", "[rc]") {
  std::istringstream in("# settings\nset radix 16\n\n   \n  # indented comment\nps -k\r\nsys\n");
  auto lines = read_rc_lines(in);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].number == 2);
  CHECK(lines[0].text == "set radix 16");
  CHECK(lines[1].number == 6);
  CHECK(lines[1].text == "ps -k");
  CHECK(lines[2].number == 7);
  CHECK(lines[2].text == "sys");
}

TEST_CASE("an rc file's error names file:line and the rest of the file runs", "[rc]") {
  Dirs d;
  d.write("home/.kdiverc", "echo first\nnosuchcommand\necho third\n");
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  Session session({});
  Shell shell(session, out, err);
  shell.run_rc_file(d.root / "home/.kdiverc");
  CHECK(shell.failures() == 0);  // the file's failures are not the session's
  auto slurp = [](std::FILE* f) {
    std::fflush(f);
    std::rewind(f);
    std::string s;
    for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
    return s;
  };
  CHECK(slurp(out) == "first\nthird\n");
  CHECK(slurp(err) ==
        (d.root / "home/.kdiverc").string() + ":2: kdive: command not found: nosuchcommand (try 'help')\n");
  // Later errors carry no location.
  shell.run_line("nosuchcommand");
  CHECK(slurp(err).ends_with("\nkdive: command not found: nosuchcommand (try 'help')\n"));
  std::fclose(out);
  std::fclose(err);
  // An unreadable file: one line saying so.
  std::FILE* err2 = std::tmpfile();
  Shell shell2(session, std::tmpfile(), err2);
  shell2.run_rc_file(d.root / "home/missing");
  CHECK(slurp(err2).find("missing: cannot read: No such file or directory\n") != std::string::npos);
}

}  // namespace kdive
