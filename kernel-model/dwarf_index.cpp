#include "kernel-model/dwarf_index.hpp"

#include <fcntl.h>
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

// The debug sections of an ELF file, held open while they are read.
class DebugSections {
 public:
  explicit DebugSections(const std::filesystem::path& path) {
    elf_version(EV_CURRENT);
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;
    elf_ = elf_begin(fd_, ELF_C_READ_MMAP, nullptr);
    size_t shstrndx;
    if (elf_ == nullptr || elf_getshdrstrndx(elf_, &shstrndx) != 0) return;
    for (::Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf_, scn)) != nullptr;) {
      GElf_Shdr shdr;
      if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) continue;
      const char* name = elf_strptr(elf_, shstrndx, shdr.sh_name);
      std::span<const uint8_t>* slot = s_.slot(name == nullptr ? "" : name);
      if (slot == nullptr) continue;
      if (!(shdr.sh_flags & SHF_COMPRESSED)) {
        if (map_populated(shdr.sh_offset, shdr.sh_size, *slot)) continue;
      } else if (elf_compress(scn, 0, 0) < 0) {  // compressed debug sections are inflated in memory
        continue;
      }
      ::Elf_Data* data = elf_getdata(scn, nullptr);
      if (data != nullptr && data->d_buf != nullptr) *slot = {static_cast<const uint8_t*>(data->d_buf), data->d_size};
    }
  }
  ~DebugSections() {
    for (auto [p, n] : maps_) ::munmap(p, n);
    if (elf_ != nullptr) elf_end(elf_);
    if (fd_ >= 0) ::close(fd_);
  }
  DebugSections(const DebugSections&) = delete;
  DebugSections& operator=(const DebugSections&) = delete;

  const DwarfSections& sections() const { return s_; }

 private:
  // Maps a section with its page-cache pages entered up front (MAP_POPULATE):
  // the scan touches nearly every page of .debug_info, and taking those as
  // one fault per 64 KiB costs more than the scan itself.
  bool map_populated(uint64_t offset, uint64_t size, std::span<const uint8_t>& out) {
    if (size == 0) return false;
    uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t start = offset & ~(page - 1);
    size_t length = static_cast<size_t>(offset + size - start);
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd_, static_cast<off_t>(start));
    if (p == MAP_FAILED) return false;
    maps_.emplace_back(p, length);
    out = {static_cast<const uint8_t*>(p) + (offset - start), static_cast<size_t>(size)};
    return true;
  }

  int fd_ = -1;
  ::Elf* elf_ = nullptr;
  std::vector<std::pair<void*, size_t>> maps_;
  DwarfSections s_;
};

}  // namespace

std::shared_ptr<const DwarfIndex::State> DwarfIndex::scan(const std::filesystem::path& vmlinux, unsigned threads) {
  DebugSections debug(vmlinux);
  return scan_sections(debug.sections(), vmlinux.string(), threads);
}

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

std::unique_ptr<DwarfIndex> DwarfIndex::build(const std::filesystem::path& vmlinux, unsigned threads) {
  return ready_with(scan(vmlinux, threads));
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

std::unique_ptr<DwarfIndex> DwarfIndex::start(const std::filesystem::path& vmlinux, const std::string& build_id) {
  std::filesystem::path cache = build_id.empty() ? std::filesystem::path() : cache_path(build_id);
  auto task = std::async(std::launch::async, [vmlinux, cache]() -> std::shared_ptr<const State> {
    if (!cache.empty()) {
      if (auto cached = map(cache)) return cached;
    }
    auto state = scan(vmlinux, 0);
    if (!cache.empty()) ready_with(state)->save(cache);
    return state;
  });
  return std::unique_ptr<DwarfIndex>(new DwarfIndex(task.share()));
}

const DwarfIndex::Entry* DwarfIndex::find(NameKind kind, std::string_view name) const {
  return state().image.find(kind, name);
}

}  // namespace kdive
