#include "extensions/extension_search.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <system_error>

namespace kdive {
namespace {

// The running binary's own path: the installed or built kdive, wherever the
// user started it from.
std::optional<std::filesystem::path> own_binary() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  return self;
}

}  // namespace

std::vector<std::filesystem::path> extension_search_path() {
  std::vector<std::filesystem::path> dirs{"."};
  if (const char* env = std::getenv("KDIVE_EXTENSIONS")) {
    std::string_view list = env;
    while (!list.empty()) {
      auto colon = list.find(':');
      auto dir = list.substr(0, colon);
      if (!dir.empty()) dirs.emplace_back(dir);
      if (colon == std::string_view::npos) break;
      list.remove_prefix(colon + 1);
    }
  }
  if (auto self = own_binary()) dirs.push_back(self->parent_path().parent_path() / "lib" / "kdive" / "extensions");
  dirs.emplace_back("./extensions");
  return dirs;
}

std::optional<std::filesystem::path> find_extension(std::string_view name) {
  if (name.find('/') != std::string_view::npos) return std::filesystem::path(name);
  for (const auto& dir : extension_search_path()) {
    std::error_code ec;
    auto candidate = dir / name;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

std::vector<std::filesystem::path> available_extensions() {
  std::vector<std::filesystem::path> found;
  std::set<std::string> names;
  for (const auto& dir : extension_search_path()) {
    std::error_code ec;
    std::vector<std::filesystem::path> here;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      if (it->path().extension() == ".so" && it->is_regular_file(ec)) here.push_back(it->path());
    }
    std::sort(here.begin(), here.end());
    for (auto& file : here) {
      if (names.insert(file.filename().string()).second) found.push_back(file);
    }
  }
  return found;
}

}  // namespace kdive
