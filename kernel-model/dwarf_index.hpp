// DwarfIndex: which DWARF DIE defines each named type, variable, function and
// enumerator of the vmlinux. Built by reading only the top-level DIEs of every
// unit straight from the section bytes (DwarfNameScan), on one thread per core,
// in the background so the prompt comes first. The result is cached on disk,
// keyed by the vmlinux build ID, in a form used in place (DwarfIndexImage over
// a MappedFile): the next start on the same kernel reads nothing up front. The
// scan reads the sections in the vmlinux's one mapping (its ElfFile).
//
//   auto index = DwarfIndex::start(vmlinux.file(), vmlinux.build_id());   // returns at once
//   const DwarfIndex::Entry* e = index->find(NameKind::Struct, "task_struct");  // waits if needed
#pragma once

#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/dwarf_index_image.hpp"
#include "kernel-model/elf_file.hpp"
#include "kernel-model/mapped_file.hpp"

namespace kdive {

class DwarfIndex {
 public:
  using Entry = DwarfIndexEntry;

  // Starts loading: from the cache if it matches (`build_id` names it; "" for
  // no cache), else by scanning the file's debug sections in the background.
  // Call it on the thread that uses the file's libelf handle.
  static std::unique_ptr<DwarfIndex> start(std::shared_ptr<const ElfFile> file, const std::string& build_id);
  // Opens the file and scans it now, on `threads` threads (0: one per core).
  static std::unique_ptr<DwarfIndex> build(const std::filesystem::path& file, unsigned threads = 0);
  // Scans sections already in memory (a module's relocated debug info); `what`
  // names them in problems().
  static std::unique_ptr<DwarfIndex> build(const DwarfSections& sections, const std::string& what,
                                           unsigned threads = 1);
  // Uses a cache file in place; nullptr when it is missing or not a valid index.
  static std::unique_ptr<DwarfIndex> load(const std::filesystem::path& file);
  bool save(const std::filesystem::path& file) const;

  // Waits for the index; nullptr when the name is not defined.
  const Entry* find(NameKind kind, std::string_view name) const;
  void wait() const { future_.wait(); }
  bool ready() const { return future_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }
  // All of it, for tests and listings (waits).
  const DwarfIndexImage& image() const { return state().image; }
  bool from_cache() const { return state().from_cache; }
  // Units the scan could not read ("unit at 0x...: why"); their names are missing.
  const std::vector<std::string>& problems() const { return state().problems; }

  // Where the cache for a build ID lives ($XDG_CACHE_HOME/kdive, else ~/.cache/kdive).
  static std::filesystem::path cache_path(const std::string& build_id);

 private:
  struct State {
    std::optional<MappedFile> mapped;  // a cache file in use, or
    std::vector<uint64_t> built;       // the bytes of a fresh scan
    DwarfIndexImage image;
    bool from_cache = false;
    std::vector<std::string> problems;
  };
  explicit DwarfIndex(std::shared_future<std::shared_ptr<const State>> f) : future_(std::move(f)) {}
  static std::shared_ptr<const State> scan_sections(const DwarfSections& s, const std::string& what, unsigned threads);
  static std::shared_ptr<const State> map(const std::filesystem::path& file);
  static std::unique_ptr<DwarfIndex> ready_with(std::shared_ptr<const State> state);
  const State& state() const { return *future_.get(); }

  std::shared_future<std::shared_ptr<const State>> future_;
};

}  // namespace kdive
