// OutputTarget: opens where one command's output goes — the terminal, a shell
// pipeline (`| grep x`) or a file (`> f`, `>> f`) — and closes it afterwards,
// waiting for the pipeline so its output does not interleave with the next prompt.
//
//   OutputTarget target(invocation);      // throws TargetError
//   command.run(session, args, target.output());
//   target.close();
#pragma once

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "analyzer/command_line.hpp"
#include "commands/api/output.hpp"

namespace kdive {

class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OutputTarget {
 public:
  // `terminal` is where output goes without a pipe or redirect (stdout).
  OutputTarget(const Invocation& invocation, std::FILE* terminal);
  ~OutputTarget();
  OutputTarget(const OutputTarget&) = delete;
  OutputTarget& operator=(const OutputTarget&) = delete;

  Output& output() { return *output_; }
  // Flushes and closes; for a pipeline, waits for it to exit.
  void close();

 private:
  std::FILE* terminal_;
  std::FILE* pipe_ = nullptr;
  std::FILE* file_ = nullptr;
  std::unique_ptr<StreamOutput> output_;
};

}  // namespace kdive
