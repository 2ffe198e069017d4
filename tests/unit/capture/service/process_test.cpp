#include "capture/service/process.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "tests/unit/capture/service/service_test_support.hpp"

using namespace kdive::capture;
using kdive::capture::test::read_file;
using kdive::capture::test::ScratchDir;
using kdive::capture::test::write_file;
namespace fs = std::filesystem;

namespace {

// A pipe holding TEXT, its write end closed: what a pipe: command's stdin is
// once the writer is done.
int pipe_with(const std::string& text) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  REQUIRE(::write(fds[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::close(fds[1]);
  return fds[0];
}

}  // namespace

TEST_CASE("write: standard input into an existing file, whole", "[process]") {
  ScratchDir dir;
  std::string port = dir / "vport0p1";
  write_file(port, "");
  // Most of a pipe's buffer (64 KiB): one write, read back whole.
  std::string text(60000, 'k');
  text += "end";
  int in = pipe_with(text);
  CHECK(write_stream_to(in, port, 0).empty());
  ::close(in);
  CHECK(read_file(port) == text);
}

TEST_CASE("write: a missing path is an error, and is not created", "[process]") {
  ScratchDir dir;
  std::string port = dir / "vport9p1";
  int in = pipe_with("stream");
  std::string problem = write_stream_to(in, port, 0);
  ::close(in);
  CHECK(problem == port + ": No such file or directory");
  CHECK_FALSE(fs::exists(port));
}

TEST_CASE("write: a path that appears while waiting is written", "[process]") {
  ScratchDir dir;
  std::string port = dir / "late";
  std::thread maker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    write_file(port, "");
  });
  int in = pipe_with("late stream");
  std::string problem = write_stream_to(in, port, 5);
  ::close(in);
  maker.join();
  CHECK(problem.empty());
  CHECK(read_file(port) == "late stream");
}
