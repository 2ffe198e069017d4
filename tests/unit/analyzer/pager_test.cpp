// The pager: output shorter than the screen is printed as it is, longer output
// goes to the pager program (here `cat` into a file, or a program that leaves
// at once like a user pressing q) or the built-in --More-- prompt, with its
// keys fed through a pipe.
#include "analyzer/pager.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands/api/interrupt.hpp"

namespace kdive {
namespace {

std::string slurp(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
  return s;
}

std::string numbered_lines(int n) {
  std::string s;
  for (int i = 1; i <= n; ++i) s += "line " + std::to_string(i) + "\n";
  return s;
}

}  // namespace

TEST_CASE("screen_rows counts wrapped rows, not bytes of UTF-8 or colour codes", "[pager]") {
  CHECK(screen_rows("", 80) == 1);
  CHECK(screen_rows(std::string(80, 'x'), 80) == 1);
  CHECK(screen_rows(std::string(81, 'x'), 80) == 2);
  CHECK(screen_rows("\xe2\x80\x94\xe2\x80\x94", 2) == 1);  // two em dashes: 6 bytes, 2 columns
  CHECK(screen_rows("\x1b[1;31mab\x1b[0m", 2) == 1);
}

TEST_CASE("output that fits the screen is printed without the pager", "[pager]") {
  std::FILE* terminal = std::tmpfile();
  {
    // `false`: a pager that would fail the test by ending the page at once.
    PagerOutput out(terminal, {.program = "false", .rows = 10, .columns = 80});
    out.write(numbered_lines(9));  // nine rows and the pager's own: a screen
    out.finish();
    CHECK_FALSE(out.pager_quit());
  }
  CHECK(slurp(terminal) == numbered_lines(9));
  std::fclose(terminal);
}

TEST_CASE("output longer than the screen goes to the pager program, all of it", "[pager]") {
  std::FILE* terminal = std::tmpfile();
  char dir[] = "/tmp/kdive-pager-XXXXXX";
  std::filesystem::path d = ::mkdtemp(dir);
  std::string paged = (d / "paged").string();
  {
    PagerOutput out(terminal, {.program = "cat > " + paged, .rows = 10, .columns = 80});
    // Written in pieces that split lines, as commands do.
    std::string text = numbered_lines(25);
    for (size_t i = 0; i < text.size(); i += 7) out.write(text.substr(i, 7));
    out.finish();
    CHECK_FALSE(out.pager_quit());
  }
  CHECK(slurp(terminal).empty());
  std::ifstream in(paged);
  std::stringstream got;
  got << in.rdbuf();
  CHECK(got.str() == numbered_lines(25));
  std::filesystem::remove_all(d);
  std::fclose(terminal);
}

TEST_CASE("a pager that leaves early stops the command at its next output", "[pager]") {
  clear_interrupt();
  std::signal(SIGPIPE, SIG_IGN);  // as kdive's main() does
  std::FILE* terminal = std::tmpfile();
  PagerOutput out(terminal, {.program = "true", .rows = 5, .columns = 80});
  // The pipe takes what fits in its buffer before the write fails: keep
  // writing until it does, as a long command would.
  bool stopped = false;
  try {
    for (int i = 0; i < 100000 && !stopped; ++i) out.write("a line of a long listing\n");
  } catch (const Interrupted&) {
    stopped = true;
  }
  CHECK(stopped);
  CHECK(out.pager_quit());
  out.finish();
  clear_interrupt();
  std::fclose(terminal);
}

TEST_CASE("the built-in prompt shows a page per space and stops at q", "[pager]") {
  clear_interrupt();
  std::FILE* terminal = std::tmpfile();
  int keys[2];
  REQUIRE(::pipe(keys) == 0);
  REQUIRE(::write(keys[1], " q", 2) == 2);  // one more page, then quit
  PagerOutput out(terminal, {.program = "", .rows = 5, .columns = 80, .keys_fd = keys[0]});
  bool stopped = false;
  try {
    out.write(numbered_lines(20));
    out.write("after the quit\n");
  } catch (const Interrupted&) {
    stopped = true;
  }
  out.finish();
  CHECK(stopped);
  CHECK(out.pager_quit());
  std::string shown = slurp(terminal);
  // Two pages of four rows (the fifth is the prompt's), then nothing.
  CHECK(shown.find("line 8\n") != std::string::npos);
  CHECK(shown.find("line 9\n") == std::string::npos);
  CHECK(shown.find("--More--") != std::string::npos);
  ::close(keys[0]);
  ::close(keys[1]);
  clear_interrupt();
  std::fclose(terminal);
}

}  // namespace kdive
