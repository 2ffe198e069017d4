#include "kernel-model/dwarf_index.hpp"

#include <fmt/format.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "kernel-model/dwarf_name_set.hpp"

namespace kdive {

namespace {

// Units handed to a worker at a time: small enough to balance the threads
// (units differ in size a thousandfold), large enough to keep the counter cold.
constexpr size_t kUnitsPerBatch = 8;
constexpr unsigned kMaxThreads = 8;

// The debug sections the scan reads, in the file's own mapping. Taken on the
// thread that owns the file's libelf handle: a compressed section is inflated
// by libelf, which is not thread-safe (libdw may have inflated it already).
// After that the scan only reads memory, on any thread.
class DebugSections {
 public:
  explicit DebugSections(std::shared_ptr<const ElfFile> file) : file_(std::move(file)) {
    for (const ElfSection& s : file_->sections()) {
      std::span<const uint8_t>* slot = s_.slot(s.name);
      if (slot == nullptr || s.header.sh_type == SHT_NOBITS) continue;
      if (!s.compressed()) {
        *slot = file_->contents(s);
        in_mapping_.push_back(*slot);
        continue;
      }
      ::Elf_Scn* scn = elf_getscn(file_->elf(), s.index);
      GElf_Shdr now;
      if (scn == nullptr || gelf_getshdr(scn, &now) == nullptr) continue;
      if ((now.sh_flags & SHF_COMPRESSED) && elf_compress(scn, 0, 0) < 0) continue;
      ::Elf_Data* data = elf_getdata(scn, nullptr);
      if (data != nullptr && data->d_buf != nullptr) *slot = {static_cast<const uint8_t*>(data->d_buf), data->d_size};
    }
  }

  // Enters the mapped sections' pages into the page tables up front: the scan
  // touches nearly every page of .debug_info, and taking those as one fault
  // per 64 KiB costs more than the scan itself. (MADV_POPULATE_READ is Linux
  // 5.14+; before it, read-ahead is the best there is.)
  void populate() const {
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    for (std::span<const uint8_t> s : in_mapping_) {
      if (s.empty()) continue;
      uintptr_t start = reinterpret_cast<uintptr_t>(s.data()) & ~(page - 1);
      size_t length = reinterpret_cast<uintptr_t>(s.data()) + s.size() - start;
      void* p = reinterpret_cast<void*>(start);
#ifdef MADV_POPULATE_READ
      if (::madvise(p, length, MADV_POPULATE_READ) == 0) continue;
#endif
      ::madvise(p, length, MADV_WILLNEED);
    }
  }

  const DwarfSections& sections() const { return s_; }
  const std::string& name() const { return file_->name(); }

 private:
  std::shared_ptr<const ElfFile> file_;  // the mapping the spans point into
  std::vector<std::span<const uint8_t>> in_mapping_;
  DwarfSections s_;
};

}  // namespace

std::shared_ptr<const DwarfIndex::State> DwarfIndex::scan_sections(const DwarfSections& s, const std::string& what,
                                                                   unsigned threads) {
  auto state = std::make_shared<State>();
  if (s.info.empty() || s.abbrev.empty()) {
    state->problems.push_back(fmt::format("{}: no .debug_info / .debug_abbrev section", what));
  }
  std::vector<uint64_t> units = dwarf_unit_offsets(s.info);

  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::clamp<unsigned>(threads, 1, kMaxThreads);
  std::vector<DwarfNameSet> sets(threads);
  std::atomic<size_t> next{0};
  std::mutex problems_lock;
  auto work = [&](DwarfNameSet& set) {
    DwarfUnitScanner scanner(s);
    for (;;) {
      size_t first = next.fetch_add(kUnitsPerBatch);
      if (first >= units.size()) return;
      for (size_t i = first; i < std::min(units.size(), first + kUnitsPerBatch); ++i) {
        try {
          scanner.scan(units[i], set);
        } catch (const DwarfFormatError& e) {
          std::lock_guard lock(problems_lock);
          state->problems.push_back(fmt::format("unit at {:#x}: {}", units[i], e.what()));
        }
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work, std::ref(sets[t]));
  work(sets[0]);
  for (auto& w : workers) w.join();
  for (unsigned t = 1; t < threads; ++t) sets[t].merge_into(sets[0]);
  std::sort(state->problems.begin(), state->problems.end());

  // The image copies the names: the sections can go once it is built.
  state->built = DwarfIndexImage::build(sets[0]);
  auto bytes = std::as_bytes(std::span(state->built));
  state->image = *DwarfIndexImage::view({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  return state;
}

std::shared_ptr<const DwarfIndex::State> DwarfIndex::map(const std::filesystem::path& file) {
  auto mapped = MappedFile::open(file);
  if (!mapped) return nullptr;
  auto image = DwarfIndexImage::view(mapped->bytes());
  if (!image) return nullptr;
  auto state = std::make_shared<State>();
  state->mapped = std::move(mapped);
  state->image = *image;
  state->from_cache = true;
  return state;
}

std::unique_ptr<DwarfIndex> DwarfIndex::ready_with(std::shared_ptr<const State> state) {
  std::promise<std::shared_ptr<const State>> p;
  p.set_value(std::move(state));
  return std::unique_ptr<DwarfIndex>(new DwarfIndex(p.get_future().share()));
}

std::unique_ptr<DwarfIndex> DwarfIndex::build(const std::filesystem::path& file, unsigned threads) {
  DebugSections debug(ElfFile::open(file));
  debug.populate();
  return ready_with(scan_sections(debug.sections(), debug.name(), threads));
}

std::unique_ptr<DwarfIndex> DwarfIndex::build(const DwarfSections& sections, const std::string& what,
                                              unsigned threads) {
  return ready_with(scan_sections(sections, what, threads));
}

std::unique_ptr<DwarfIndex> DwarfIndex::load(const std::filesystem::path& file) {
  auto state = map(file);
  return state ? ready_with(std::move(state)) : nullptr;
}

std::filesystem::path DwarfIndex::cache_path(const std::string& build_id) {
  std::filesystem::path base;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != '\0') {
    base = x;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".cache";
  } else {
    return {};
  }
  return base / "kdive" / ("dwarf-" + build_id + ".idx");
}

bool DwarfIndex::save(const std::filesystem::path& file) const {
  const State& s = state();
  std::span<const uint8_t> bytes;
  if (s.mapped) {
    bytes = s.mapped->bytes();
  } else {
    bytes = {reinterpret_cast<const uint8_t*>(s.built.data()), s.built.size() * sizeof(uint64_t)};
  }
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Write a temporary file and rename it, so a reader never sees half a cache
  // (and a session that has the old file mapped keeps its copy).
  auto tmp = file;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) {
      out.close();
      std::filesystem::remove(tmp, ec);
      return false;
    }
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
  return !ec;
}

std::unique_ptr<DwarfIndex> DwarfIndex::start(std::shared_ptr<const ElfFile> file, const std::string& build_id) {
  std::filesystem::path cache = build_id.empty() ? std::filesystem::path() : cache_path(build_id);
  // A cached index is used in place: mapping it costs next to nothing.
  if (!cache.empty()) {
    if (auto cached = map(cache)) return ready_with(std::move(cached));
  }
  auto debug = std::make_shared<const DebugSections>(std::move(file));
  auto task = std::async(std::launch::async, [debug, cache]() -> std::shared_ptr<const State> {
    debug->populate();
    auto state = scan_sections(debug->sections(), debug->name(), 0);
    if (!cache.empty()) ready_with(state)->save(cache);
    return state;
  });
  return std::unique_ptr<DwarfIndex>(new DwarfIndex(task.share()));
}

const DwarfIndex::Entry* DwarfIndex::find(NameKind kind, std::string_view name) const {
  return state().image.find(kind, name);
}

}  // namespace kdive
