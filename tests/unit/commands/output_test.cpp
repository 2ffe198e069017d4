#include "commands/api/output.hpp"

#include <catch2/catch.hpp>
#include <csignal>

#include "analyzer/interrupt.hpp"  // the handler that raises the flag

namespace {

// A destination that accepts a fixed number of writes, like a reader that exits.
class ShortLivedOutput : public kdive::Output {
 public:
  explicit ShortLivedOutput(int accepted) : left_(accepted) {}
  int attempts = 0;

 protected:
  bool write_bytes(std::string_view) override {
    ++attempts;
    return left_-- > 0;
  }

 private:
  int left_;
};

}  // namespace

TEST_CASE("Output formats with fmt", "[output]") {
  kdive::StringOutput out;
  out.print("{:>5} {}\n", 42, "init");
  out.write("raw");
  CHECK(out.str() == "   42 init\nraw");
}

TEST_CASE("Output stops writing once the reader is gone", "[output]") {
  ShortLivedOutput out(1);
  out.write("a");
  CHECK_FALSE(out.closed());
  out.write("b");
  CHECK(out.closed());
  out.write("c");
  CHECK(out.attempts == 2);
}

TEST_CASE("Ctrl-C aborts the command at its next write", "[output]") {
  kdive::install_interrupt_handler();
  kdive::StringOutput out;
  out.write("before ");
  std::raise(SIGINT);
  CHECK(kdive::interrupt_pending());
  CHECK_THROWS_AS(out.write("after"), kdive::Interrupted);
  CHECK_FALSE(kdive::interrupt_pending());
  out.write("next command");
  CHECK(out.str() == "before next command");
}
