#include "analyzer/output_target.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

namespace kdive {

OutputTarget::OutputTarget(const Invocation& invocation, std::FILE* terminal, const PagerSettings* pager)
    : terminal_(terminal) {
  std::FILE* stream = terminal;
  // Flush first, so text printed earlier lands before the pipeline's output.
  std::fflush(terminal);
  if (!invocation.pipeline.empty()) {
    pipe_ = ::popen(invocation.pipeline.c_str(), "w");
    if (pipe_ == nullptr) {
      throw TargetError(fmt::format("cannot start pipeline '{}': {}", invocation.pipeline, std::strerror(errno)));
    }
    stream = pipe_;
  } else if (!invocation.redirect_path.empty()) {
    file_ = std::fopen(invocation.redirect_path.c_str(), invocation.append ? "ae" : "we");
    if (file_ == nullptr) {
      throw TargetError(
          fmt::format("cannot open '{}' for writing: {}", invocation.redirect_path, std::strerror(errno)));
    }
    stream = file_;
  }
  if (stream == terminal && pager != nullptr) {
    auto paged = std::make_unique<PagerOutput>(terminal, *pager);
    pager_ = paged.get();
    output_ = std::move(paged);
  } else {
    output_ = std::make_unique<StreamOutput>(stream);
  }
}

void OutputTarget::close() {
  if (pager_ != nullptr) pager_->finish();
  if (pipe_ != nullptr) {
    ::pclose(pipe_);
    pipe_ = nullptr;
  }
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::fflush(terminal_);
}

OutputTarget::~OutputTarget() { close(); }

}  // namespace kdive
