// Output: where a command's text goes. Commands print through an Output and never
// touch stdout, so the shell can point it at the terminal, a pipe into a shell
// pipeline, a file, or a string in a test, without the command knowing.
//
//   void run(Session& s, const Args& a, Output& out) {
//     out.print("{:>6} {}\n", pid, comm);
//   }
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <string_view>

namespace kdive {

class Output {
 public:
  virtual ~Output() = default;

  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    write(fmt::vformat(format, fmt::make_format_args(args...)));
  }
  void write(std::string_view text);

  // True once the reader went away (e.g. `| head -1` exited). Long-running
  // commands may check it to stop early; writing after that is a no-op.
  bool closed() const { return closed_; }

 protected:
  // Returns false when the destination can take no more (broken pipe).
  virtual bool write_bytes(std::string_view text) = 0;

 private:
  bool closed_ = false;
};

// Writes to a C stream; does not own it.
class StreamOutput : public Output {
 public:
  explicit StreamOutput(std::FILE* stream) : stream_(stream) {}

 protected:
  bool write_bytes(std::string_view text) override;

 private:
  std::FILE* stream_;
};

// Collects everything in memory: for tests and for commands that post-process.
class StringOutput : public Output {
 public:
  const std::string& str() const { return text_; }

 protected:
  bool write_bytes(std::string_view text) override {
    text_.append(text);
    return true;
  }

 private:
  std::string text_;
};

}  // namespace kdive
