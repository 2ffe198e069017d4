// Start-up files: the commands a user wants run in every session, one per line
// as in an -i script — `~/.kdiverc`, then `./.kdiverc`; with --crashrc crash's
// `.crashrc` from the same places first (so kdive's own file has the last
// word). A directory that is both home and the current one is read once.
// `#` lines and blank lines are skipped; each command keeps its line number
// so an error names file:line.
//
//   for (const auto& path : rc_files(home, std::filesystem::current_path(), crashrc))
//     for (const RcLine& l : read_rc_lines(stream_of(path))) shell.run_line(l.text);
#pragma once

#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace kdive {

// The start-up files that exist, in the order they run. `home` is $HOME
// (nullopt or empty: none).
std::vector<std::filesystem::path> rc_files(const std::optional<std::filesystem::path>& home,
                                            const std::filesystem::path& cwd, bool crashrc);

struct RcLine {
  int number;  // from 1
  std::string text;
};

// The commands of one start-up file.
std::vector<RcLine> read_rc_lines(std::istream& in);

}  // namespace kdive
