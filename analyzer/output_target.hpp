// OutputTarget: opens where one command's output goes — the terminal (paged
// when the shell asks for it: pager.hpp), a shell pipeline (`| grep x`) or a
// file (`> f`, `>> f`) — and closes it afterwards, waiting for the pipeline or
// the pager so its output does not interleave with the next prompt.
//
//   OutputTarget target(invocation, stdout, &pager);   // throws TargetError
//   command.run(session, args, target.output());
//   target.close();
#pragma once

#include <cstdio>
#include <memory>
#include <stdexcept>

#include "analyzer/command_line.hpp"
#include "analyzer/pager.hpp"
#include "commands/api/output.hpp"

namespace kdive {

class TargetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class OutputTarget {
 public:
  // `terminal` is where output goes without a pipe or redirect (stdout);
  // with `pager` set, output to it longer than a screen is paged.
  OutputTarget(const Invocation& invocation, std::FILE* terminal, const PagerSettings* pager = nullptr);
  ~OutputTarget();
  OutputTarget(const OutputTarget&) = delete;
  OutputTarget& operator=(const OutputTarget&) = delete;

  Output& output() { return *output_; }
  // Flushes and closes; for a pipeline, waits for it to exit.
  void close();
  // The user left the pager before the output ended (q or Ctrl-C in it).
  bool pager_quit() const { return pager_ != nullptr && pager_->pager_quit(); }
  // Prints what the pager still holds back (before an error line).
  void flush_held() {
    if (pager_ != nullptr) pager_->flush_held();
  }

 private:
  std::FILE* terminal_;
  std::FILE* pipe_ = nullptr;
  std::FILE* file_ = nullptr;
  std::unique_ptr<Output> output_;
  PagerOutput* pager_ = nullptr;  // output_, when paged
};

}  // namespace kdive
