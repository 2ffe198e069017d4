// Checks that a file named on the command line can be used as input: it exists,
// is a regular file (or a block device, for dumps on a raw partition, or a
// character device: /dev/mem) and opens
// read-only. Inputs are never opened for writing anywhere in kdive.
//
//   if (auto why = input_file_problem(path)) die("{}: {}", path, *why);
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace kdive {

// nullopt when usable, else the cause ("No such file or directory", "is a directory", ...).
std::optional<std::string> input_file_problem(const std::filesystem::path& path);

}  // namespace kdive
