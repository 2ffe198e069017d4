// DwarfIndex: which DWARF DIE defines each named type, variable, function and
// enumerator of the vmlinux. Built by scanning only the top-level DIEs of every
// compilation unit (never loading the DIE trees), on a background thread so the
// prompt comes first, with its own libdw handle (libdw 0.188 is not thread-safe
// across handles sharing state). The result is cached on disk, keyed by the
// vmlinux build ID, so the next start on the same kernel skips the scan.
//
//   auto index = DwarfIndex::start("vmlinux", build_id);   // returns at once
//   const DwarfIndex::Entry* e = index->find(NameKind::Struct, "task_struct");  // waits if needed
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kdive {

enum class NameKind { Struct, Union, Enum, Typedef, Base, Variable, Function, Enumerator, Count };

class DwarfIndex {
 public:
  struct Entry {
    uint64_t die;       // DIE offset in .debug_info
    int64_t value = 0;  // enumerators: the constant
  };
  using Table = std::unordered_map<std::string, Entry>;
  struct Tables {
    std::array<Table, static_cast<size_t>(NameKind::Count)> by_kind;
    bool from_cache = false;
  };

  // Starts loading: from the cache if it matches, else by scanning in the background.
  static std::unique_ptr<DwarfIndex> start(const std::filesystem::path& vmlinux, const std::string& build_id);

  // Waits for the index; nullptr when the name is not defined.
  const Entry* find(NameKind kind, std::string_view name) const;
  const Tables& tables() const { return future_.get(); }
  bool ready() const { return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }

  // Where the cache for a build ID lives ($XDG_CACHE_HOME/kdive, else ~/.cache/kdive).
  static std::filesystem::path cache_path(const std::string& build_id);

  // Exposed for tests: the scan itself, and the cache format round trip.
  static Tables scan(const std::filesystem::path& vmlinux);
  static bool save(const Tables& t, const std::filesystem::path& file);
  static std::optional<Tables> load(const std::filesystem::path& file);

 private:
  explicit DwarfIndex(std::shared_future<Tables> f) : future_(std::move(f)) {}
  std::shared_future<Tables> future_;
};

}  // namespace kdive
