#include "analyzer/shell.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  return text;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ShellFixture {
  kdive::Session session{{}};
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  kdive::Shell shell{session, out, err};
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("kdive-shell-test-" + std::to_string(::getpid()));
  ShellFixture() { std::filesystem::create_directories(dir); }
  ~ShellFixture() {
    std::fclose(out);
    std::fclose(err);
    std::filesystem::remove_all(dir);
  }
};

}  // namespace

TEST_CASE_METHOD(ShellFixture, "Shell runs ';' lists in order", "[shell]") {
  CHECK(shell.run_line("echo one; echo two ;echo three"));
  CHECK(slurp(out) == "one\ntwo\nthree\n");
  CHECK(slurp(err).empty());
}

TEST_CASE_METHOD(ShellFixture, "Shell pipes output through the shell", "[shell]") {
  auto file = dir / "piped.txt";
  CHECK(shell.run_line("echo hello world | tr a-z A-Z > " + file.string()));
  CHECK(slurp(file) == "HELLO WORLD\n");
  CHECK(shell.run_line("help | grep -c quit > " + file.string()));
  CHECK(slurp(file) == "1\n");
}

TEST_CASE_METHOD(ShellFixture, "Shell redirects and appends to files", "[shell]") {
  auto file = dir / "out.txt";
  CHECK(shell.run_line("echo first > " + file.string()));
  CHECK(shell.run_line("echo second >> " + file.string()));
  CHECK(slurp(file) == "first\nsecond\n");
  CHECK(shell.run_line("echo third > " + file.string()));
  CHECK(slurp(file) == "third\n");
  CHECK(slurp(out).empty());
}

TEST_CASE_METHOD(ShellFixture, "Shell reports errors in one line and goes on", "[shell]") {
  CHECK_FALSE(shell.run_line("nosuch; echo after"));
  CHECK(slurp(out) == "after\n");
  CHECK(slurp(err) == "kdive: command not found: nosuch (try 'help')\n");
  CHECK(shell.failures() == 1);

  CHECK_FALSE(shell.run_line("help -z"));
  CHECK_FALSE(shell.run_line("echo 'unterminated"));
  CHECK_FALSE(shell.run_line("echo x > " + (dir / "no/such/dir/f").string()));
  CHECK(shell.failures() == 4);
  std::string errors = slurp(err);
  CHECK(errors.find("help: invalid option -- 'z'") != std::string::npos);
  CHECK(errors.find("unterminated ' quote") != std::string::npos);
  CHECK(errors.find("cannot open") != std::string::npos);
  CHECK(errors.find("No such file or directory") != std::string::npos);
}

TEST_CASE_METHOD(ShellFixture, "Shell survives a pipeline that exits early", "[shell]") {
  std::string many = "echo line";
  for (int i = 0; i < 12; ++i) many += "; " + many.substr(0, 9);
  CHECK(shell.run_line("help | head -c 1 > /dev/null"));
  CHECK(shell.run_line("echo still here"));
  CHECK(slurp(out) == "still here\n");
}

TEST_CASE_METHOD(ShellFixture, "quit stops the rest of the line and the stream", "[shell]") {
  std::istringstream script("echo a\n# comment\n\necho b; quit; echo c\necho d\n");
  CHECK(shell.run_stream(script) == 0);
  CHECK(slurp(out) == "a\nb\n");
  CHECK(session.quit_requested());
}

TEST_CASE_METHOD(ShellFixture, "'!' runs a shell command", "[shell]") {
  auto file = dir / "bang.txt";
  CHECK(shell.run_line("!echo from-shell > " + file.string()));
  CHECK(slurp(file) == "from-shell\n");
  CHECK_FALSE(shell.run_line("!exit 3"));
}

TEST_CASE_METHOD(ShellFixture, "Shell expands aliases, pipelines included, and stops alias loops", "[shell]") {
  auto file = dir / "shout.txt";
  CHECK(shell.run_line("alias shout \"echo hi | tr a-z A-Z > " + file.string() + "\""));
  CHECK(shell.run_line("shout"));
  CHECK(slurp(file) == "HI\n");
  session.aliases().define("a1", "a2");
  session.aliases().define("a2", "a1");
  CHECK_FALSE(shell.run_line("a1; echo after"));
  std::string o = slurp(out);
  CHECK(o.find("after\n") != std::string::npos);
  CHECK(slurp(err).find("kdive: alias loop: a") != std::string::npos);
}

TEST_CASE_METHOD(ShellFixture, "In JSON mode each command is one line that echoes it as typed", "[shell]") {
  session.settings().output = kdive::OutputMode::Json;
  CHECK(shell.run_line("echo one; alias say echo; say two"));
  CHECK(slurp(out) ==
        "{\"command\":\"echo one\",\"result\":{\"text\":\"one\"}}\n"
        "{\"command\":\"alias say echo\",\"result\":[{\"name\":\"say\",\"command\":\"echo\",\"origin\":\"runtime\"}]}\n"
        "{\"command\":\"say two\",\"result\":{\"text\":\"two\"}}\n");
  CHECK_FALSE(shell.run_line("nosuchcommand"));
  CHECK(slurp(err) == "kdive: command not found: nosuchcommand (try 'help')\n");
}
