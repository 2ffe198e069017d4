#include "commands/api/output.hpp"

#include <nlohmann/json.hpp>

#include "commands/api/interrupt.hpp"

namespace kdive {

Output::Output() = default;
Output::~Output() = default;

void Output::write(std::string_view text) {
  throw_if_interrupted();
  if (json()) return;
  write_raw(text);
}

void Output::write_raw(std::string_view text) {
  if (closed_ || text.empty()) return;
  if (!write_bytes(text)) closed_ = true;
}

void Output::result(Json value) {
  throw_if_interrupted();
  if (!json()) return;
  result_ = std::make_unique<Json>(std::move(value));
}

Json Output::take_result() {
  if (result_ == nullptr) return nullptr;
  Json value = std::move(*result_);
  result_.reset();
  return value;
}

void Output::warning(std::string_view text) {
  warnings_.emplace_back(text);
  write(fmt::format("{}\n", text));
}

void Output::data_lost(std::string_view what) { lost_.emplace_back(what); }

bool StreamOutput::write_bytes(std::string_view text) {
  // SIGPIPE is ignored process-wide, so a reader that exited shows up here as a
  // short write (EPIPE) instead of killing kdive.
  return std::fwrite(text.data(), 1, text.size(), stream_) == text.size();
}

}  // namespace kdive
