#include "console_log.hpp"

#include <fstream>
#include <regex>

namespace kdive::test {

std::vector<ConsoleLine> console_kernel_lines(const std::filesystem::path& fixture) {
  std::ifstream in(fixture / "console.log", std::ios::binary);
  std::vector<ConsoleLine> out;
  std::string line;
  // The first kernel line shares its console line with the firmware's
  // screen-clearing escapes, so the stamp is searched, not anchored.
  static const std::regex stamp(R"(\[( *\d+\.\d{6})\] ?(.*)$)");
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
    std::smatch m;
    if (!std::regex_search(line, m, stamp)) continue;
    if (m.position(0) != 0 && line.find("\x1b") == std::string::npos) continue;  // a stamp inside other text
    out.push_back({m[1], m[2], std::stod(m[1])});
  }
  return out;
}

std::optional<double> panic_stamp(const std::filesystem::path& fixture) {
  std::optional<double> at;
  for (const auto& c : console_kernel_lines(fixture)) {
    if (c.text.rfind("Kernel panic - not syncing", 0) == 0) at = c.seconds;
  }
  return at;
}

}  // namespace kdive::test
