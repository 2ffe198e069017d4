#include "analyzer/output.hpp"

#include "analyzer/interrupt.hpp"

namespace kdive {

void Output::write(std::string_view text) {
  throw_if_interrupted();
  if (closed_ || text.empty()) return;
  if (!write_bytes(text)) closed_ = true;
}

bool StreamOutput::write_bytes(std::string_view text) {
  // SIGPIPE is ignored process-wide, so a reader that exited shows up here as a
  // short write (EPIPE) instead of killing kdive.
  return std::fwrite(text.data(), 1, text.size(), stream_) == text.size();
}

}  // namespace kdive
