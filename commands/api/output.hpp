// Output: where a command's results go. Commands print through an Output and never
// touch stdout, so the shell can point it at the terminal, a pipe into a shell
// pipeline, a file, or a string in a test, without the command knowing.
//
// Every command has two renderings of the same kernel-model values: crash's text
// and a JSON result. In text mode print()/write() reach the destination and
// result() is ignored; in JSON mode the text is dropped and the command's
// result() becomes the "result" of the JSON Lines object the runner writes.
//
//   void run(Session& s, const ParsedArgs& a, Output& out) {
//     if (out.json()) return out.result({{"pid", pid}, {"comm", comm}});
//     out.print("{:>6} {}\n", pid, comm);
//   }
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kdive {

// Results keep their keys in the order a command adds them (pid before comm),
// as a reader expects, rather than sorted.
using Json = nlohmann::ordered_json;

enum class OutputMode { Text, Json };

class Output {
 public:
  Output();
  virtual ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  OutputMode mode() const { return mode_; }
  bool json() const { return mode_ == OutputMode::Json; }
  void set_mode(OutputMode mode) { mode_ = mode; }

  // Text (dropped in JSON mode).
  template <typename... Args>
  void print(fmt::format_string<Args...> format, Args&&... args) {
    write(fmt::vformat(format, fmt::make_format_args(args...)));
  }
  void write(std::string_view text);

  // The command's JSON result (kept in JSON mode only; a later call replaces it).
  void result(Json value);
  bool has_result() const { return result_ != nullptr; }
  // Hands the result over and forgets it (null when none was given).
  Json take_result();

  // Something the user must know that is not the result: printed as a line in
  // text mode, collected under "warnings" in JSON mode.
  void warning(std::string_view text);
  const std::vector<std::string>& warnings() const { return warnings_; }

  // One item could not be read and was shown with a marker instead (the rest
  // printed): batch mode exits with "data was lost". `what` says which item.
  void data_lost(std::string_view what);
  const std::vector<std::string>& lost_items() const { return lost_; }

  // Writes a finished line as it is, in either mode: the runner's JSON Lines.
  void write_raw(std::string_view text);

  // True once the reader went away (e.g. `| head -1` exited). Long-running
  // commands may check it to stop early; writing after that is a no-op.
  bool closed() const { return closed_; }

 protected:
  // Returns false when the destination can take no more (broken pipe).
  virtual bool write_bytes(std::string_view text) = 0;

 private:
  OutputMode mode_ = OutputMode::Text;
  bool closed_ = false;
  std::unique_ptr<Json> result_;
  std::vector<std::string> warnings_;
  std::vector<std::string> lost_;
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
  StringOutput() = default;
  explicit StringOutput(OutputMode mode) { set_mode(mode); }
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
