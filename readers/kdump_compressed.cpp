#include "readers/kdump_compressed.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "readers/byte_reader.hpp"
#include "readers/flattened.hpp"
#include "readers/kdump_format.hpp"
#include "readers/page_codec.hpp"
#include "readers/pfn_bitmap.hpp"

namespace kdive {
namespace {

// On-disk layout: kdump_format.hpp.

// Page sizes kdump exists for (x86 4 KiB, arm64/ppc64 up to 64 KiB).
constexpr int32_t kMinBlockSize = 4096;
constexpr int32_t kMaxBlockSize = 65536;
// Notes are a few KiB per CPU plus VMCOREINFO; larger is damage.
constexpr uint64_t kMaxNotesBytes = 64ull << 20;
// How far past the descriptors the shared zero page is looked for (unused
// descriptor slots before it: 1 MiB is ~43,000 of them).
constexpr uint64_t kMaxZeroRun = 1ull << 20;
// Descriptors are read in batches: sequential readers touch neighbours next.
constexpr uint64_t kDescBatch = 256;
// Page data read ahead once a scan is detected (see stored_data()).
constexpr uint64_t kReadAhead = 256 * 1024;

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

[[noreturn]] void fail(const ByteSource& s, const std::string& why) { throw FormatError(s.name() + ": " + why); }

std::vector<std::byte> read_exact(ByteSource& s, uint64_t offset, uint64_t size, const char* what) {
  auto end = checked_add(offset, size);
  if (!end || *end > s.size()) {
    fail(s, fmt::format("truncated: {} ({} bytes at offset {}) ends past the "
                        "end of the file (size {})",
                        what, size, offset, s.size()));
  }
  std::vector<std::byte> buf(size);
  if (size != 0 && !s.read(offset, buf)) fail(s, fmt::format("read error in {} at offset {}", what, offset));
  return buf;
}

std::string_view utsname_field(const DiskDumpHeader& h, int i) {
  return std::string_view(h.utsname[i], strnlen(h.utsname[i], sizeof h.utsname[i]));
}

// One file of the dump.

struct Part {
  std::unique_ptr<ByteSource> file;
  bool unflattened = false;
  bool kdump = true;  // "KDUMP   " (else the older "DISKDUMP")
  DiskDumpHeader header{};
  KdumpSubHeader sub{};  // zero where header_version does not have a field
  uint64_t max_mapnr = 0;
  bool split = false;
  uint64_t start_pfn = 0;  // this file holds PFNs [start_pfn, end_pfn)
  uint64_t end_pfn = 0;
  PfnBitmap valid;     // 1st bitmap: not a hole
  PfnBitmap dumpable;  // 2nd bitmap: the page is in this file
  uint64_t desc_offset = 0;
  uint64_t desc_count = 0;
  std::optional<uint64_t> zero_page_offset;
  uint64_t zero_run_end = 0;  // zero bytes from zero_page_offset up to here
  std::vector<std::string> warnings;

  uint64_t block_size() const { return static_cast<uint64_t>(header.block_size); }
};

void check_header(Part& p) {
  ByteSource& f = *p.file;
  const DiskDumpHeader& h = p.header;
  if (std::memcmp(h.signature, kKdumpSignature, 8) == 0) {
    p.kdump = true;
    if (h.header_version < 1 || h.header_version > 6) {
      fail(f, fmt::format("unsupported kdump header_version {} (known: 1 to 6)", h.header_version));
    }
  } else if (std::memcmp(h.signature, kDiskdumpSignature, 8) == 0) {
    p.kdump = false;
  } else {
    fail(f, "not a kdump-compressed file (no \"KDUMP\" or \"DISKDUMP\" signature)");
  }
  int32_t bs = h.block_size;
  if (bs < kMinBlockSize || bs > kMaxBlockSize || (bs & (bs - 1)) != 0) {
    fail(f, fmt::format("block_size {} is not a page size (a power of two from {} to {})", bs, kMinBlockSize,
                        kMaxBlockSize));
  }
  if (h.sub_hdr_size < (p.kdump ? 1 : 0)) fail(f, fmt::format("bad sub_hdr_size {}", h.sub_hdr_size));
}

void read_sub_header(Part& p) {
  if (!p.kdump) {
    // diskdump's own sub-header holds nothing kdive uses; only the 32-bit
    // max_mapnr exists for it.
    p.max_mapnr = p.header.max_mapnr;
    p.end_pfn = p.max_mapnr;
    return;
  }
  ByteSource& f = *p.file;
  auto raw = read_exact(f, p.block_size(), sizeof(KdumpSubHeader), "the kdump sub-header");
  KdumpSubHeader all = ByteReader(raw, "kdump sub-header").get<KdumpSubHeader>(0);
  int v = p.header.header_version;
  // Keep only the fields this version defines: older writers leave junk after
  // them.
  KdumpSubHeader& s = p.sub;
  s = KdumpSubHeader{};
  s.phys_base = all.phys_base;
  s.dump_level = all.dump_level;
  if (v >= 2) {
    s.split = all.split;
    s.start_pfn = all.start_pfn;
    s.end_pfn = all.end_pfn;
  }
  if (v >= 3) {
    s.offset_vmcoreinfo = all.offset_vmcoreinfo;
    s.size_vmcoreinfo = all.size_vmcoreinfo;
  }
  if (v >= 4) {
    s.offset_note = all.offset_note;
    s.size_note = all.size_note;
  }
  if (v >= 5) {
    s.offset_eraseinfo = all.offset_eraseinfo;
    s.size_eraseinfo = all.size_eraseinfo;
  }
  if (v >= 6) {
    s.start_pfn_64 = all.start_pfn_64;
    s.end_pfn_64 = all.end_pfn_64;
    s.max_mapnr_64 = all.max_mapnr_64;
  }
  // max_mapnr_64 exists from version 6 on (header's 32-bit field overflows past
  // 16 TiB of 4 KiB pages); a zero there means the writer left it unset.
  p.max_mapnr = (v >= 6 && s.max_mapnr_64 != 0) ? s.max_mapnr_64 : p.header.max_mapnr;
  p.split = v >= 2 && s.split != 0;
  if (p.split) {
    p.start_pfn = v >= 6 ? s.start_pfn_64 : s.start_pfn;
    p.end_pfn = v >= 6 ? s.end_pfn_64 : s.end_pfn;
    if (p.start_pfn > p.end_pfn || p.end_pfn > p.max_mapnr) {
      fail(f, fmt::format("split part's PFN range {}-{} does not fit max_mapnr {}", hex(p.start_pfn), hex(p.end_pfn),
                          hex(p.max_mapnr)));
    }
  } else {
    p.start_pfn = 0;
    p.end_pfn = p.max_mapnr;
  }
}

void read_bitmaps(Part& p) {
  ByteSource& f = *p.file;
  const uint64_t bs = p.block_size();
  auto bitmap_at = checked_mul(1 + static_cast<uint64_t>(p.header.sub_hdr_size), bs);
  auto bitmap_len = checked_mul(p.header.bitmap_blocks, bs);
  auto bitmap_end = bitmap_at && bitmap_len ? checked_add(*bitmap_at, *bitmap_len) : std::nullopt;
  if (!bitmap_end || *bitmap_end > f.size()) {
    fail(f, fmt::format("truncated or corrupt: bitmaps ({} blocks after {} "
                        "sub-header blocks) end past the end of the file "
                        "(size {})",
                        p.header.bitmap_blocks, p.header.sub_hdr_size, f.size()));
  }
  // Both bitmaps share bitmap_blocks; the 2nd starts half way. An old diskdump
  // may carry only one (crash's dump_is_partial test): it then serves as both.
  uint64_t half = *bitmap_len / 2;
  uint64_t need = p.max_mapnr / 8 + (p.max_mapnr % 8 != 0);
  bool two = half >= need;
  if (!two && (p.kdump || *bitmap_len < need)) {
    fail(f, fmt::format("bitmap_blocks {} ({} bytes per bitmap) cannot hold "
                        "max_mapnr {} bits",
                        p.header.bitmap_blocks, half, hex(p.max_mapnr)));
  }
  // Load only this part's PFN range: what the file holds, checked above.
  uint64_t from = p.start_pfn / 8;
  uint64_t len = (p.end_pfn + 7) / 8 - from;
  auto first = read_exact(f, *bitmap_at + from, len, "the 1st bitmap");
  p.valid = PfnBitmap::from_bytes(first, p.start_pfn, p.end_pfn);
  if (two) {
    auto second = read_exact(f, *bitmap_at + half + from, len, "the 2nd bitmap");
    p.dumpable = PfnBitmap::from_bytes(second, p.start_pfn, p.end_pfn);
  } else {
    p.dumpable = p.valid;
  }
  p.desc_offset = *bitmap_end;
  p.desc_count = p.dumpable.count();
}

// The descriptor of the last page whose data was written, found by reading
// the table (`count` at `table`) backwards a batch at a time, past unused
// slots (offset 0) and pages that share the zero page at `zero_page`. Those
// trail a table often (high memory is free and zero), so the scan is bounded:
// nullopt when it finds nothing within kMaxTrailingDescs.
std::optional<PageDesc> last_data_desc(ByteSource& f, uint64_t table, uint64_t count,
                                       std::optional<uint64_t> zero_page) {
  constexpr uint64_t kBatch = 4096;
  constexpr uint64_t kMaxTrailingDescs = 1ull << 20;  // 24 MiB of descriptors
  std::vector<std::byte> raw;
  for (uint64_t end = count; end > 0 && count - end < kMaxTrailingDescs;) {
    uint64_t first = end > kBatch ? end - kBatch : 0;
    raw.resize((end - first) * sizeof(PageDesc));
    if (!f.read(table + first * sizeof(PageDesc), raw)) return std::nullopt;
    ByteReader r(raw, "page_desc");
    for (uint64_t i = end - first; i-- > 0;) {
      auto d = r.get<PageDesc>(i * sizeof(PageDesc));
      bool shares_zero_page = zero_page && static_cast<uint64_t>(d.offset) == *zero_page;
      if (d.offset != 0 && !shares_zero_page) return d;
    }
    end = first;
  }
  return std::nullopt;
}

void check_data_area(Part& p) {
  ByteSource& f = *p.file;
  const uint64_t bs = p.block_size();
  auto desc_end = checked_mul(p.desc_count, sizeof(PageDesc));
  if (desc_end) desc_end = checked_add(p.desc_offset, *desc_end);
  if (!desc_end) fail(f, "page descriptor table size overflows");
  if (p.header.status & kKdumpStatusIncomplete) {
    p.warnings.push_back(f.name() +
                         ": incomplete dump (the writer ran out of space): "
                         "pages it did not write read as missing");
  }
  if (*desc_end > f.size()) {
    uint64_t have = f.size() > p.desc_offset ? (f.size() - p.desc_offset) / sizeof(PageDesc) : 0;
    p.warnings.push_back(
        fmt::format("{}: truncated: page descriptors of {} of {} dumped pages "
                    "are missing; those pages read as missing",
                    f.name(), p.desc_count - have, p.desc_count));
    return;
  }
  // The shared zero page is the first thing in the data area (see the header).
  // Writers that set aside descriptor slots for the pages kept before zero
  // detection (makedumpfile's cyclic mode, kdive-dump) may leave unused slots,
  // all zero, between the last descriptor and that page: the zero bytes from
  // here on, up to the first data, are where the shared zero page can be.
  std::vector<std::byte> block(bs);
  for (uint64_t at = *desc_end; at - *desc_end < kMaxZeroRun; at += bs) {
    uint64_t n = std::min<uint64_t>(bs, f.size() > at ? f.size() - at : 0);
    if (n == 0 || !f.read(at, std::span(block).first(n))) break;
    auto nonzero = std::find_if(block.begin(), block.begin() + static_cast<ptrdiff_t>(n),
                                [](std::byte b) { return b != std::byte{0}; });
    p.zero_run_end = at + static_cast<uint64_t>(nonzero - block.begin());
    if (nonzero != block.begin() + static_cast<ptrdiff_t>(n)) break;
  }
  if (p.zero_run_end >= *desc_end + bs) p.zero_page_offset = *desc_end;
  // Data is written in PFN order: the last page written tells whether it all
  // fits.
  if (auto last = last_data_desc(f, p.desc_offset, p.desc_count, p.zero_page_offset)) {
    if (last->size <= bs && static_cast<uint64_t>(last->offset) + last->size > f.size()) {
      p.warnings.push_back(
          fmt::format("{}: truncated: page data runs to offset {} but the file ends at "
                      "{}; pages without data read as missing",
                      f.name(), static_cast<uint64_t>(last->offset) + last->size, f.size()));
    }
  }
}

void read_notes(Part& p, DumpNotes& notes) {
  ByteSource& f = *p.file;
  const KdumpSubHeader& s = p.sub;
  if (s.offset_note != 0 && s.size_note != 0) {
    if (s.size_note > kMaxNotesBytes) fail(f, fmt::format("implausible size_note {}", s.size_note));
    auto bytes = read_exact(f, s.offset_note, s.size_note, "the ELF notes");
    try {
      parse_elf_notes(bytes, notes, [&s](uint64_t at) { return s.offset_note + at; });
    } catch (const FormatError& e) {
      fail(f, std::string("in the sub-header's notes: ") + e.what());
    }
  }
  // Before version 4 (and for writers that keep it apart) VMCOREINFO is only
  // reachable through offset_vmcoreinfo, which points at the text itself.
  if (notes.vmcoreinfo.empty() && s.offset_vmcoreinfo != 0 && s.size_vmcoreinfo != 0) {
    if (s.size_vmcoreinfo > kMaxNotesBytes) fail(f, fmt::format("implausible size_vmcoreinfo {}", s.size_vmcoreinfo));
    auto bytes = read_exact(f, s.offset_vmcoreinfo, s.size_vmcoreinfo, "VMCOREINFO");
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    text.resize(strnlen(text.c_str(), text.size()));
    notes.vmcoreinfo = std::move(text);
  }
  if (p.kdump) {
    // As written. QEMU (7.2) fills this from VMCOREINFO's NUMBER(phys_base),
    // which the kernel prints in decimal, but parses it as hex: on QEMU dumps
    // the value is wrong (0xfffffffcb9fcff80 for -346030080). VMCOREINFO is
    // the one to trust.
    notes.phys_base = s.phys_base;
    notes.dump_level = s.dump_level;
  }
  // QEMU leaves the timestamp and most of utsname empty: absent, not "epoch".
  if (p.header.tv_sec != 0) notes.crash_time_sec = p.header.tv_sec;
  auto release = utsname_field(p.header, 2);
  if (!release.empty()) notes.utsname_release = std::string(release);
}

Part open_part(std::unique_ptr<ByteSource> file) {
  Part p;
  std::vector<std::byte> head(std::min<uint64_t>(file->size(), 4096));
  if (!head.empty() && !file->read(0, head)) fail(*file, "read error in the header");
  if (probe_flattened(head)) {
    file = open_flattened(std::move(file));
    p.unflattened = true;
    // A stream cut short (a full disk, a dropped connection) has no end
    // marker; what its records never wrote reads as missing below.
    if (!flattened_stats(*file)->complete) {
      p.warnings.push_back(file->name() +
                           ": the flattened stream ends without its end marker (cut short): "
                           "pages it did not carry read as missing");
    }
  }
  p.file = std::move(file);
  auto raw = read_exact(*p.file, 0, sizeof(DiskDumpHeader), "the kdump header");
  p.header = ByteReader(raw, "kdump header").get<DiskDumpHeader>(0);
  check_header(p);
  read_sub_header(p);
  read_bitmaps(p);
  check_data_area(p);
  return p;
}

// Split parts are made from one crash: the fields that describe the crash and
// the layout must agree (crash compares the whole header the same way).
void check_same_dump(const Part& a, const Part& b) {
  auto differ = [&](const char* what, const std::string& x, const std::string& y) {
    std::string values = x.empty() ? "" : fmt::format(" ({} here, {} there)", y, x);
    fail(*b.file, fmt::format("not a part of the same split dump as {}: {} differs{}", a.file->name(), what, values));
  };
  const DiskDumpHeader& x = a.header;
  const DiskDumpHeader& y = b.header;
  if (std::memcmp(x.signature, y.signature, 8) != 0) differ("signature", "", "");
  if (x.header_version != y.header_version) {
    differ("header_version", std::to_string(x.header_version), std::to_string(y.header_version));
  }
  if (std::memcmp(x.utsname, y.utsname, sizeof x.utsname) != 0) differ("utsname", "", "");
  if (x.tv_sec != y.tv_sec || x.tv_usec != y.tv_usec) {
    differ("timestamp", std::to_string(x.tv_sec), std::to_string(y.tv_sec));
  }
  if (x.block_size != y.block_size) differ("block_size", std::to_string(x.block_size), std::to_string(y.block_size));
  if (x.bitmap_blocks != y.bitmap_blocks) {
    differ("bitmap_blocks", std::to_string(x.bitmap_blocks), std::to_string(y.bitmap_blocks));
  }
  if (a.max_mapnr != b.max_mapnr) differ("max_mapnr", hex(a.max_mapnr), hex(b.max_mapnr));
}

// The dump.

class KdumpDump : public DumpSource {
 public:
  KdumpDump(std::vector<Part> parts, DumpNotes notes, std::string format, size_t cache_pages)
      : parts_(std::move(parts)),
        notes_(std::move(notes)),
        format_(std::move(format)),
        bs_(parts_.front().block_size()),
        max_mapnr_(parts_.front().max_mapnr),
        cache_(cache_pages, bs_),
        compressed_(bs_) {
    for (const Part& p : parts_) warnings_.insert(warnings_.end(), p.warnings.begin(), p.warnings.end());
    only_zero_pages_left_out_ = notes_.dump_level && *notes_.dump_level == 1;
  }

  std::string format() const override { return format_; }
  uint64_t page_size() const override { return bs_; }
  const DumpNotes& notes() const override { return notes_; }
  std::vector<std::string> warnings() const override { return warnings_; }
  PageCache& cache() { return cache_; }

  std::vector<std::string> files() const override {
    std::vector<std::string> out;
    for (const Part& p : parts_) out.push_back(p.file->name());
    return out;
  }

  std::vector<PhysRange> ranges() const override {
    std::vector<PhysRange> out;
    for (const Part& p : parts_) {
      PfnBitmap::either(p.valid, p.dumpable).for_each_run([&](uint64_t start, uint64_t end) {
        uint64_t at = start * bs_;
        if (!out.empty() && out.back().start.value() + out.back().size == at) {
          out.back().size += (end - start) * bs_;
        } else {
          out.push_back({PhysAddr{at}, (end - start) * bs_});
        }
      });
    }
    return out;
  }

  // A PFN in range whose first bitmap bit says it is no hole: Missing means
  // its descriptor or data were never written (incomplete) or were cut off.
  bool lost_from_file(PhysAddr addr) const override {
    const uint64_t pfn = addr.value() / bs_;
    if (pfn >= max_mapnr_) return false;
    const Part* part = part_of(pfn);
    return part != nullptr && part->valid.test(pfn);
  }

  PageState read_phys(PhysAddr addr, std::span<std::byte> out) override {
    check_within_page(addr, out.size(), bs_);
    if (!out.empty()) std::memset(out.data(), 0, out.size());
    uint64_t pfn = addr.value() / bs_;
    uint64_t in_page = addr.offset_in(bs_);
    if (pfn >= max_mapnr_) return PageState::Missing;
    Part* part = part_of(pfn);
    if (part == nullptr) return PageState::Missing;
    if (!part->dumpable.test(pfn)) {
      if (!part->valid.test(pfn)) return PageState::Missing;
      return only_zero_pages_left_out_ ? PageState::Zero : PageState::Excluded;
    }

    if (auto hit = cache_.find(pfn)) {
      if (!out.empty()) std::memcpy(out.data(), hit->data() + in_page, out.size());
      return PageState::Present;
    }
    auto desc = descriptor(*part, pfn);
    if (!desc || desc->offset == 0) return PageState::Missing;  // never written (incomplete/truncated)
    ByteSource& f = *part->file;
    if (desc->offset < 0) corrupt(*part, pfn, fmt::format("negative data offset {}", desc->offset));
    if (desc->size > bs_) {
      corrupt(*part, pfn, fmt::format("descriptor size {} is larger than the block size {}", desc->size, bs_));
    }
    auto codec = codec_from_kdump_flags(desc->flags);
    if (!codec) corrupt(*part, pfn, fmt::format("unknown compression flags {:#x}", desc->flags));
    if (*codec == PageCodec::Raw && desc->size != bs_) {
      corrupt(*part, pfn, fmt::format("raw page of {} bytes (block size {})", desc->size, bs_));
    }
    uint64_t data_at = static_cast<uint64_t>(desc->offset);
    if (*codec == PageCodec::Raw && part->zero_page_offset && data_at >= *part->zero_page_offset &&
        data_at + bs_ <= part->zero_run_end) {
      return PageState::Zero;
    }
    if (data_at + desc->size > f.size()) return PageState::Missing;  // truncated file

    auto page = cache_.insert(pfn, [&](std::span<std::byte> buf) {
      auto stored = stored_data(*part, pfn, data_at, desc->size);
      if (!decompress_page(*codec, stored, buf)) {
        corrupt(*part, pfn,
                fmt::format("{} data ({} bytes at offset {}) does not "
                            "decompress to a {}-byte page",
                            to_string(*codec), desc->size, data_at, bs_));
      }
    });
    if (!out.empty()) std::memcpy(out.data(), page.data() + in_page, out.size());
    return PageState::Present;
  }

 private:
  [[noreturn]] static void corrupt(const Part& p, uint64_t pfn, const std::string& why) {
    fail(*p.file, fmt::format("PFN {:#x}: {}", pfn, why));
  }

  Part* part_of(uint64_t pfn) { return const_cast<Part*>(std::as_const(*this).part_of(pfn)); }
  const Part* part_of(uint64_t pfn) const {
    auto it =
        std::upper_bound(parts_.begin(), parts_.end(), pfn, [](uint64_t v, const Part& p) { return v < p.start_pfn; });
    if (it == parts_.begin()) return nullptr;
    --it;
    return pfn < it->end_pfn ? &*it : nullptr;
  }

  // The stored bytes of a page. Page data lies in PFN order, so a read that
  // starts where the previous one ended is part of a scan: it fills a window
  // and the next pages come from memory. Random reads read just their bytes.
  std::span<const std::byte> stored_data(const Part& part, uint64_t pfn, uint64_t at, uint64_t size) {
    if (&part == window_part_ && at >= window_at_ && at + size <= window_at_ + window_.size()) {
      last_end_ = at + size;
      return std::span<const std::byte>(window_).subspan(at - window_at_, size);
    }
    bool sequential = &part == window_part_ && at == last_end_ && size != 0;
    window_part_ = &part;
    last_end_ = at + size;
    if (sequential) {
      window_.resize(std::min<uint64_t>(kReadAhead, part.file->size() - at));
      if (part.file->read(at, window_)) {
        window_at_ = at;
        return std::span<const std::byte>(window_).subspan(0, size);
      }
    }
    window_.clear();
    std::span<std::byte> stored(compressed_.data(), size);
    if (!part.file->read(at, stored)) corrupt(part, pfn, fmt::format("read error at offset {}", at));
    return stored;
  }

  // The descriptor of a dumpable pfn, or nullopt when the file ends before it.
  std::optional<PageDesc> descriptor(Part& part, uint64_t pfn) {
    uint64_t index = part.dumpable.rank(pfn);
    uint64_t batch = index / kDescBatch;
    if (&part != batch_part_ || batch != batch_index_ || batch_.empty()) {
      batch_part_ = nullptr;
      uint64_t first = batch * kDescBatch;
      uint64_t count = std::min(kDescBatch, part.desc_count - first);
      uint64_t at = part.desc_offset + first * sizeof(PageDesc);
      uint64_t size = part.file->size();
      // A truncated table: keep the descriptors that are there.
      uint64_t avail = size > at ? (size - at) / sizeof(PageDesc) : 0;
      count = std::min(count, avail);
      batch_.resize(count * sizeof(PageDesc));
      if (count > 0 && !part.file->read(at, batch_)) return std::nullopt;
      batch_part_ = &part;
      batch_index_ = batch;
    }
    uint64_t in_batch = (index % kDescBatch) * sizeof(PageDesc);
    if (in_batch + sizeof(PageDesc) > batch_.size()) return std::nullopt;
    return ByteReader(batch_, "page_desc").get<PageDesc>(in_batch);
  }

  std::vector<Part> parts_;  // sorted by start_pfn
  DumpNotes notes_;
  std::string format_;
  uint64_t bs_;
  uint64_t max_mapnr_;
  bool only_zero_pages_left_out_ = false;  // dump level 1: a left-out page was all zeros
  std::vector<std::string> warnings_;
  PageCache cache_;
  std::vector<std::byte> compressed_;  // one page of stored data
  const Part* window_part_ = nullptr;  // read-ahead of page data for scans
  uint64_t window_at_ = 0;
  uint64_t last_end_ = 0;
  std::vector<std::byte> window_;
  // batch_ holds descriptors [batch_index_ * kDescBatch, ...) of this part.
  const Part* batch_part_ = nullptr;
  uint64_t batch_index_ = 0;
  std::vector<std::byte> batch_;
};

std::string codec_name(uint32_t status) {
  for (PageCodec c : {PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd}) {
    if (status & kdump_codec_flag(c)) return std::string(to_string(c));
  }
  return "raw";
}

}  // namespace

bool probe_kdump(std::span<const std::byte> head) {
  if (head.size() < 8) return false;
  return std::memcmp(head.data(), kKdumpSignature, 8) == 0 || std::memcmp(head.data(), kDiskdumpSignature, 8) == 0;
}

std::unique_ptr<DumpSource> open_kdump(std::vector<std::unique_ptr<ByteSource>> files, KdumpOptions options) {
  if (files.empty()) throw FormatError("kdump: no files given");
  std::vector<Part> parts;
  parts.reserve(files.size());
  for (auto& f : files) parts.push_back(open_part(std::move(f)));

  if (parts.size() == 1 && parts[0].split) {
    fail(*parts[0].file, fmt::format("one part of a split dump (PFNs {}-{} of {}): give all parts",
                                     hex(parts[0].start_pfn), hex(parts[0].end_pfn), hex(parts[0].max_mapnr)));
  }
  if (parts.size() > 1) {
    for (const Part& p : parts) {
      if (!p.split) fail(*p.file, fmt::format("not a split dump part, but {} files were given", parts.size()));
    }
    for (size_t i = 1; i < parts.size(); ++i) check_same_dump(parts[0], parts[i]);
    std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) {
      return a.start_pfn < b.start_pfn || (a.start_pfn == b.start_pfn && a.end_pfn < b.end_pfn);
    });
    uint64_t covered = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      const Part& p = parts[i];
      if (p.start_pfn > covered) {
        fail(*p.file, fmt::format("split dump parts leave PFNs {}-{} "
                                  "uncovered: a part is missing",
                                  hex(covered), hex(p.start_pfn)));
      }
      if (p.start_pfn < covered) {
        fail(*p.file, fmt::format("split part covers PFNs {}-{}, overlapping {}", hex(p.start_pfn), hex(p.end_pfn),
                                  parts[i - 1].file->name()));
      }
      covered = p.end_pfn;
    }
    if (covered != parts[0].max_mapnr) {
      fail(*parts.back().file, fmt::format("split dump parts end at PFN {}, short of max_mapnr {}: "
                                           "a part is missing",
                                           hex(covered), hex(parts[0].max_mapnr)));
    }
  }

  DumpNotes notes;
  read_notes(parts.front(), notes);

  bool flattened = options.flattened;
  for (const Part& p : parts) flattened = flattened || p.unflattened;
  std::string format = fmt::format("{}-{}", parts[0].kdump ? "kdump" : "diskdump", codec_name(parts[0].header.status));
  if (flattened) format += " (flattened)";
  if (parts.size() > 1) format += fmt::format(" (split, {} files)", parts.size());
  return std::make_unique<KdumpDump>(std::move(parts), std::move(notes), std::move(format), options.cache_pages);
}

PageCache* kdump_page_cache(DumpSource& source) {
  auto* k = dynamic_cast<KdumpDump*>(&source);
  return k ? &k->cache() : nullptr;
}

}  // namespace kdive
