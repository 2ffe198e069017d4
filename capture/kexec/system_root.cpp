// SystemRoot: the running system's files, under a root a test can replace.
#include "capture/kexec/system_root.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace kdive::capture {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

}  // namespace

SystemRoot::SystemRoot(std::filesystem::path prefix) : prefix_(std::move(prefix)) {}

std::filesystem::path SystemRoot::path(std::string_view absolute) const {
  // operator/ with an absolute right side would discard the prefix.
  while (!absolute.empty() && absolute.front() == '/') absolute.remove_prefix(1);
  return prefix_ / std::filesystem::path(absolute);
}

std::optional<std::string> SystemRoot::read(std::string_view absolute) const {
  std::ifstream in(path(absolute), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return std::move(text).str();
}

std::optional<std::string> SystemRoot::read_line(std::string_view absolute) const {
  auto text = read(absolute);
  if (!text) return std::nullopt;
  std::string_view view(*text);
  view = view.substr(0, view.find('\n'));
  return std::string(trim(view));
}

std::optional<uint64_t> SystemRoot::read_number(std::string_view absolute) const {
  auto line = read_line(absolute);
  if (!line || line->empty()) return std::nullopt;
  uint64_t value = 0;
  const char* end = line->data() + line->size();
  auto [ptr, ec] = std::from_chars(line->data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace kdive::capture
