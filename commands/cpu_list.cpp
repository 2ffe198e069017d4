#include "commands/cpu_list.hpp"

#include <fmt/format.h>

#include <charconv>
#include <optional>
#include <set>

#include "commands/api/command.hpp"

namespace kdive {
namespace {

std::optional<int> number(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::vector<int> parse_cpu_list(std::string_view spec, int cpu_count) {
  std::set<int> cpus;
  if (spec == "a" || spec == "all") {
    for (int c = 0; c < cpu_count; ++c) cpus.insert(c);
    return {cpus.begin(), cpus.end()};
  }
  size_t start = 0;
  while (true) {
    const size_t comma = spec.find(',', start);
    const std::string_view part =
        spec.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const size_t dash = part.find('-');
    const auto first = number(part.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : number(part.substr(dash + 1));
    if (!first || !last || *last < *first) throw CommandError(fmt::format("invalid CPU list: '{}'", spec));
    if (*last >= cpu_count) {
      throw CommandError(
          fmt::format("invalid CPU list: '{}' (CPU {} does not exist; this kernel has {})", spec, *last, cpu_count));
    }
    for (int c = *first; c <= *last; ++c) cpus.insert(c);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return {cpus.begin(), cpus.end()};
}

CpuSuffix split_cpu_suffix(std::string_view word) {
  const size_t colon = word.find(':');
  if (colon == std::string_view::npos) return {std::string(word), std::nullopt};
  return {std::string(word.substr(0, colon)), std::string(word.substr(colon + 1))};
}

std::vector<int> parse_cpu_spec(std::string_view spec, int cpu_count, int current_cpu) {
  if (spec.empty()) return {current_cpu};
  return parse_cpu_list(spec, cpu_count);
}

}  // namespace kdive
