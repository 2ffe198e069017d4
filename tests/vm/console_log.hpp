// The kernel lines of a fixture's console.log (the guest's serial console), as
// the tests that check `log` and `sys` against what the kernel printed live.
//
//   for (const ConsoleLine& l : console_kernel_lines(fixture_dir("bookworm"))) l.stamp, l.text;
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kdive::test {

struct ConsoleLine {
  std::string stamp;  // "   18.007074", as printed between the brackets
  std::string text;   // after "] "
  double seconds = 0;
};

// Every "[ seconds.micros] text" line of console.log, in order; carriage
// returns and the terminal escapes the firmware printed are stripped. The
// console prints every line of a multi-line record with the record's stamp.
std::vector<ConsoleLine> console_kernel_lines(const std::filesystem::path& fixture);

// The printk stamp of the last "Kernel panic - not syncing" line: when the
// kernel panicked, on its own clock (none when the console has no such line).
std::optional<double> panic_stamp(const std::filesystem::path& fixture);

}  // namespace kdive::test
