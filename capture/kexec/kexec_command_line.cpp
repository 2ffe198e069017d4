// Command lines of loaded kernels: derived from the running one.
#include "capture/kexec/kexec_command_line.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace kdive::capture {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Options the boot loader adds for itself (GRUB's BOOT_IMAGE=, LILO's and
// others' initrd=): meaningless to a kernel kexec starts, which gets its
// initrd from the load call.
bool boot_loader_option(std::string_view word) {
  const auto name = option_name(word);
  return name == "BOOT_IMAGE" || name == "initrd";
}

// Index of the "--" word that ends the kernel's options, or words.size().
size_t options_end(const std::vector<std::string>& words) {
  return size_t(std::find(words.begin(), words.end(), "--") - words.begin());
}

}  // namespace

std::vector<std::string> split_command_line(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    if (!quoted && is_blank(c)) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      continue;
    }
    word.push_back(c);
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string join_command_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& word : words) {
    if (!line.empty()) line.push_back(' ');
    line += word;
  }
  return line;
}

std::string_view option_name(std::string_view word) { return word.substr(0, word.find('=')); }

std::string reused_command_line(std::string_view running) {
  auto words = split_command_line(running);
  const auto end = options_end(words);
  std::vector<std::string> kept;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i < end && boot_loader_option(words[i])) continue;
    kept.push_back(words[i]);
  }
  return join_command_line(kept);
}

std::string capture_command_line(std::string_view running) {
  auto words = split_command_line(running);
  const auto added = split_command_line(kCaptureOptions);
  const auto end = options_end(words);
  std::vector<std::string> kept;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i < end) {
      const auto name = option_name(words[i]);
      if (name == "crashkernel" || boot_loader_option(words[i])) continue;
      // The kernel takes the last nr_cpus=; dropping the running one keeps
      // the line unambiguous for the person reading it.
      if (std::any_of(added.begin(), added.end(), [&](const auto& a) { return option_name(a) == name; })) continue;
    }
    kept.push_back(words[i]);
  }
  return append_options(join_command_line(kept), kCaptureOptions);
}

std::string append_options(std::string_view line, std::string_view extra) {
  auto words = split_command_line(line);
  const auto more = split_command_line(extra);
  const auto end = options_end(words);
  words.insert(words.begin() + std::ptrdiff_t(end), more.begin(), more.end());
  return join_command_line(words);
}

std::optional<std::string> crashkernel_options(std::string_view line) {
  auto words = split_command_line(line);
  words.resize(options_end(words));
  std::vector<std::string> found;
  for (auto& word : words) {
    if (option_name(word) == "crashkernel") found.push_back(std::move(word));
  }
  if (found.empty()) return std::nullopt;
  return join_command_line(found);
}

std::optional<uint64_t> parse_size(std::string_view text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr == text.data()) return std::nullopt;
  std::string_view suffix(ptr, size_t(end - ptr));
  unsigned shift = 0;
  if (suffix == "K" || suffix == "k") {
    shift = 10;
  } else if (suffix == "M" || suffix == "m") {
    shift = 20;
  } else if (suffix == "G" || suffix == "g") {
    shift = 30;
  } else if (suffix == "T" || suffix == "t") {
    shift = 40;
  } else if (!suffix.empty()) {
    return std::nullopt;
  }
  if (shift != 0 && value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::string crashkernel_size(uint64_t bytes) {
  const uint64_t mib = (bytes + (1ull << 20) - 1) >> 20;
  if (mib != 0 && mib % 1024 == 0) return fmt::format("{}G", mib / 1024);
  return fmt::format("{}M", mib);
}

std::string human_size(uint64_t bytes) {
  constexpr const char* kUnits[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
  double value = double(bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  if (unit == 0) return fmt::format("{} bytes", bytes);
  if (value == double(uint64_t(value))) return fmt::format("{} {}", uint64_t(value), kUnits[unit]);
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

}  // namespace kdive::capture
