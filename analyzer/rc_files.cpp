#include "analyzer/rc_files.hpp"

#include <cctype>

namespace kdive {

std::vector<std::filesystem::path> rc_files(const std::optional<std::filesystem::path>& home,
                                            const std::filesystem::path& cwd, bool crashrc) {
  std::vector<std::filesystem::path> dirs;
  if (home && !home->empty()) dirs.push_back(*home);
  std::error_code ec;
  // kdive started in the home directory: its files once, not twice.
  if (dirs.empty() || !std::filesystem::equivalent(dirs.front(), cwd, ec)) dirs.push_back(cwd);
  std::vector<std::filesystem::path> files;
  for (const auto& dir : dirs) {
    std::vector<const char*> names;
    if (crashrc) names.push_back(".crashrc");
    names.push_back(".kdiverc");
    for (const char* name : names) {
      std::filesystem::path p = dir / name;
      if (std::filesystem::is_regular_file(p, ec)) files.push_back(p);
    }
  }
  return files;
}

std::vector<RcLine> read_rc_lines(std::istream& in) {
  std::vector<RcLine> lines;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // written on Windows
    size_t first = 0;
    while (first < line.size() && std::isspace(static_cast<unsigned char>(line[first]))) ++first;
    if (first == line.size() || line[first] == '#') continue;
    lines.push_back({number, line});
  }
  return lines;
}

}  // namespace kdive
