#include "readers/elf_dump.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "readers/byte_reader.hpp"
#include "readers/elf_core.hpp"

namespace kdive {
namespace {

class ElfDump : public DumpSource {
 public:
  ElfDump(std::unique_ptr<ByteSource> file, ElfCore core) : file_(std::move(file)) {
    try {
      parse_elf_notes(core.notes, notes_, [&core](uint64_t at) { return core.note_file_offset(at); });
    } catch (const FormatError& e) {
      // The memory is still worth reading; what the notes held up to the damage is kept.
      warnings_.push_back(fmt::format("{}: damaged notes, the rest ignored: {}", file_->name(), e.what()));
    }
    for (auto& s : core.loads) {
      if (s.paddr != kNoPhysicalAddress) segments_.push_back(s);
    }
    std::sort(segments_.begin(), segments_.end(),
              [](const ElfSegment& a, const ElfSegment& b) { return a.paddr < b.paddr; });
    uint64_t missing = 0;
    for (const auto& s : notes_.live ? std::vector<ElfSegment>{} : segments_) {
      uint64_t end = s.offset + s.filesz;
      if (end > file_->size()) missing += std::min(s.filesz, end - file_->size());
    }
    if (missing > 0) {
      warnings_.push_back(fmt::format(
          "{}: truncated: {} of memory past the end of the file read as missing", file_->name(),
          missing >= (1 << 20) ? fmt::format("{} MiB", missing >> 20) : fmt::format("{} KiB", missing >> 10)));
    }
    has_qemu_notes_ =
        std::any_of(notes_.cpus.begin(), notes_.cpus.end(), [](const CpuNotes& c) { return c.qemu.has_value(); });
  }

  std::string format() const override {
    if (notes_.live) return "kcore (live)";
    return has_qemu_notes_ ? "elf (qemu)" : "elf";
  }

  PageState read_phys(PhysAddr addr, std::span<std::byte> out) override {
    check_within_page(addr, out.size(), page_size());
    // Zeroed only when nothing is read: a copier reading every page of a
    // dump pays for the read alone.
    auto none = [&](PageState s) {
      if (!out.empty()) std::memset(out.data(), 0, out.size());
      return s;
    };
    const ElfSegment* seg = find(addr.value());
    if (seg == nullptr) return none(PageState::Missing);
    uint64_t in_seg = addr.value() - seg->paddr;
    if (in_seg + out.size() > seg->memsz) return none(PageState::Missing);  // runs off the segment
    if (in_seg + out.size() > seg->filesz) return none(PageState::Excluded);
    if (!file_->read(seg->offset + in_seg, out)) return none(PageState::Missing);  // truncated file
    return PageState::Present;
  }

  // In a segment, by p_memsz: its bytes past p_filesz are Excluded, so a
  // Missing page in one is a read the file could not satisfy (truncated).
  bool lost_from_file(PhysAddr addr) const override { return find(addr.value()) != nullptr; }

  std::vector<PhysRange> ranges() const override {
    std::vector<PhysRange> out;
    for (const auto& s : segments_) {
      if (s.memsz == 0) continue;
      if (!out.empty() && s.paddr <= out.back().start.value() + out.back().size) {
        uint64_t end = std::max(out.back().start.value() + out.back().size, s.paddr + s.memsz);
        out.back().size = end - out.back().start.value();
      } else {
        out.push_back({PhysAddr{s.paddr}, s.memsz});
      }
    }
    return out;
  }

  const DumpNotes& notes() const override { return notes_; }
  std::vector<std::string> files() const override { return {file_->name()}; }
  std::vector<std::string> warnings() const override { return warnings_; }

 private:
  // The segment containing paddr. Kexec dumps describe kernel text twice (once in
  // its own segment, once inside the RAM range): the bytes are the same either way.
  const ElfSegment* find(uint64_t paddr) const {
    auto it = std::upper_bound(segments_.begin(), segments_.end(), paddr,
                               [](uint64_t a, const ElfSegment& s) { return a < s.paddr; });
    while (it != segments_.begin()) {
      --it;
      if (paddr - it->paddr < it->memsz) return &*it;
      // Earlier segments may still be larger and cover paddr; keep looking back a little.
      if (paddr - it->paddr > (1ull << 40)) break;
    }
    return nullptr;
  }

  std::unique_ptr<ByteSource> file_;
  std::vector<ElfSegment> segments_;
  DumpNotes notes_;
  std::vector<std::string> warnings_;
  bool has_qemu_notes_ = false;
};

}  // namespace

std::unique_ptr<DumpSource> open_elf_dump(std::unique_ptr<ByteSource> file) {
  ElfCore core = ElfCore::parse(*file);
  return std::make_unique<ElfDump>(std::move(file), std::move(core));
}

}  // namespace kdive
