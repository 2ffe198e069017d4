// Where `extend` looks for a shared object named without a directory, in the
// order crash uses for its extensions, with kdive's own places:
//   1. the current directory
//   2. each directory of the KDIVE_EXTENSIONS environment variable (':'-separated)
//   3. lib/kdive/extensions next to the kdive binary's directory
//      (<prefix>/bin/kdive -> <prefix>/lib/kdive/extensions; in a build tree,
//      where the in-tree samples are built)
//   4. ./extensions
// A name with a '/' in it is a path and is taken as it is.
//
//   auto file = find_extension("openfiles.so");   // nullopt when nowhere
//   for (auto& f : available_extensions()) ...     // extend -s
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace kdive {

// The directories searched, in order (directories that do not exist included).
std::vector<std::filesystem::path> extension_search_path();

// The first file of that name along the search path.
std::optional<std::filesystem::path> find_extension(std::string_view name);

// Every *.so file in the search path's directories, the first of each name.
std::vector<std::filesystem::path> available_extensions();

}  // namespace kdive
