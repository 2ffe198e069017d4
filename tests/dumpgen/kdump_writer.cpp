#include "tests/dumpgen/kdump_writer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "readers/page_codec.hpp"
#include "tests/dumpgen/notes_writer.hpp"
#include "tests/dumpgen/page_content.hpp"

namespace kdive::dumpgen {
namespace {

// Offsets in disk_dump_header and kdump_sub_header (LP64); the reader's
// structs have the static_asserts, the writer spells the numbers out so a
// mistake in one does not hide in the other.
struct Field {
  const char* name;
  uint64_t offset;
  uint32_t size;
};
constexpr Field kHeaderFields[] = {
    {"header_version", 8, 4},     {"tv_sec", 408, 8},        {"tv_usec", 416, 8},        {"status", 424, 4},
    {"block_size", 428, 4},       {"sub_hdr_size", 432, 4},  {"bitmap_blocks", 436, 4},  {"max_mapnr", 440, 4},
    {"total_ram_blocks", 444, 4}, {"device_blocks", 448, 4}, {"written_blocks", 452, 4}, {"current_cpu", 456, 4},
    {"nr_cpus", 460, 4},
};
constexpr uint64_t kUtsname = 12;
constexpr uint64_t kUtsnameField = 65;
constexpr uint64_t kHeaderSize = 464;
constexpr Field kSubFields[] = {
    {"phys_base", 0, 8},   {"dump_level", 8, 4},         {"split", 12, 4},           {"start_pfn", 16, 8},
    {"end_pfn", 24, 8},    {"offset_vmcoreinfo", 32, 8}, {"size_vmcoreinfo", 40, 8}, {"offset_note", 48, 8},
    {"size_note", 56, 8},  {"offset_eraseinfo", 64, 8},  {"size_eraseinfo", 72, 8},  {"start_pfn_64", 80, 8},
    {"end_pfn_64", 88, 8}, {"max_mapnr_64", 96, 8},
};
constexpr uint64_t kSubHeaderSize = 104;
constexpr uint64_t kDescSize = 24;
constexpr uint32_t kStatusIncomplete = 0x8;

void put(std::vector<std::byte>& b, uint64_t at, uint64_t v, uint32_t size) {
  if (at + size > b.size()) b.resize(at + size);
  std::memcpy(b.data() + at, &v, size);  // little-endian host
}

uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

[[noreturn]] void bad(const std::string& why) { throw std::invalid_argument(why); }

struct Bitmaps {
  std::vector<std::byte> valid, dumpable;  // half-size each
};

Bitmaps make_bitmaps(const DumpDescription& d, uint64_t max_mapnr, uint64_t half) {
  Bitmaps b{std::vector<std::byte>(half), std::vector<std::byte>(half)};
  auto set = [](std::vector<std::byte>& m, uint64_t pfn) { m[pfn / 8] |= static_cast<std::byte>(1u << (pfn % 8)); };
  for (const auto& [pfn, spec] : d.pages) {
    if (pfn >= max_mapnr) continue;
    set(b.valid, pfn);
    if (spec.kind != PageKind::Excluded) set(b.dumpable, pfn);
  }
  return b;
}

GeneratedFile write_part(const DumpDescription& d, uint64_t max_mapnr, uint64_t start, uint64_t end, bool split) {
  const uint64_t bs = d.block_size;
  const bool kdump = d.signature == "KDUMP   ";
  const int v = d.version;
  GeneratedFile out;
  KdumpLayout& L = out.layout;
  L.start_pfn = start;
  L.end_pfn = end;

  // Sub-header area: the sub-header, then the notes, then VMCOREINFO as text
  // when it is kept outside the notes.
  bool notes_ok = kdump && v >= 4;
  bool vmci_ok = kdump && v >= 3;
  VmcoreinfoPlace place = d.vmcoreinfo_place;
  if (place == VmcoreinfoPlace::Default) place = notes_ok ? VmcoreinfoPlace::Default : VmcoreinfoPlace::Text;
  NoteStream notes = notes_ok ? write_notes(d, place != VmcoreinfoPlace::Text) : NoteStream{};
  L.sub_header = bs;
  std::vector<std::byte> area(kSubHeaderSize);
  uint64_t offset_vmcoreinfo = 0, size_vmcoreinfo = 0;
  if (!notes.bytes.empty()) {
    L.notes = bs + area.size();
    L.notes_size = notes.bytes.size();
    area.insert(area.end(), notes.bytes.begin(), notes.bytes.end());
    if (notes.vmcoreinfo_text && place == VmcoreinfoPlace::Default) {
      offset_vmcoreinfo = L.notes + *notes.vmcoreinfo_text;
      size_vmcoreinfo = notes.vmcoreinfo_size;
    }
  }
  if (vmci_ok && place == VmcoreinfoPlace::Text && !d.vmcoreinfo.empty()) {
    offset_vmcoreinfo = bs + area.size();
    size_vmcoreinfo = d.vmcoreinfo.size();
    for (char c : d.vmcoreinfo) area.push_back(static_cast<std::byte>(c));
  }
  L.vmcoreinfo = offset_vmcoreinfo;
  uint64_t sub_hdr_size = std::max<uint64_t>(1, round_up(area.size(), bs) / bs);

  uint64_t half = round_up((max_mapnr + 7) / 8, bs);
  uint64_t bitmap_blocks = 2 * half / bs;
  L.bitmap1 = (1 + sub_hdr_size) * bs;
  L.bitmap2 = L.bitmap1 + half;
  L.descs = L.bitmap1 + 2 * half;
  Bitmaps maps = make_bitmaps(d, max_mapnr, half);

  std::vector<std::byte>& f = out.bytes;
  f.assign(L.descs, std::byte{0});

  // Header.
  std::memcpy(f.data(), d.signature.data(), 8);
  put(f, 8, static_cast<uint32_t>(v), 4);
  for (int i = 0; i < 6; ++i) {
    const std::string& s = d.utsname[i];
    std::memcpy(f.data() + kUtsname + i * kUtsnameField, s.data(), std::min<size_t>(s.size(), kUtsnameField - 1));
  }
  uint32_t status = kdump_codec_flag(d.compression) | (d.incomplete ? kStatusIncomplete : 0);
  put(f, 408, static_cast<uint64_t>(d.timestamp), 8);
  put(f, 424, status, 4);
  put(f, 428, bs, 4);
  put(f, 432, sub_hdr_size, 4);
  put(f, 436, bitmap_blocks, 4);
  put(f, 440, std::min<uint64_t>(max_mapnr, UINT32_MAX), 4);
  put(f, 460, static_cast<uint32_t>(d.nr_cpus), 4);
  if (kHeaderSize + 8ull * std::max(d.nr_cpus, 0) > bs) bad("nr_cpus too large for the header block");

  // Sub-header, by version.
  std::vector<std::byte> sub(kSubHeaderSize);
  if (kdump) {
    put(sub, 0, d.phys_base, 8);
    put(sub, 8, static_cast<uint32_t>(d.dump_level), 4);
    if (v >= 2 && split) {
      put(sub, 12, 1, 4);
      put(sub, 16, start, 8);
      put(sub, 24, end, 8);
    }
    if (v >= 3) {
      put(sub, 32, offset_vmcoreinfo, 8);
      put(sub, 40, size_vmcoreinfo, 8);
    }
    if (v >= 4 && L.notes) {
      put(sub, 48, L.notes, 8);
      put(sub, 56, L.notes_size, 8);
    }
    if (v >= 6) {
      if (split) {
        put(sub, 80, start, 8);
        put(sub, 88, end, 8);
      }
      put(sub, 96, max_mapnr, 8);
    }
  }
  std::memcpy(area.data(), sub.data(), sub.size());
  std::memcpy(f.data() + bs, area.data(), area.size());
  std::memcpy(f.data() + L.bitmap1, maps.valid.data(), half);
  std::memcpy(f.data() + L.bitmap2, maps.dumpable.data(), half);

  // Descriptors, then data: the zero page first.
  std::vector<uint64_t> pfns;
  for (const auto& [pfn, spec] : d.pages) {
    if (pfn >= start && pfn < end && spec.kind != PageKind::Excluded) pfns.push_back(pfn);
  }
  L.data = L.descs + pfns.size() * kDescSize;
  f.resize(L.data + bs, std::byte{0});  // the shared zero page
  for (size_t i = 0; i < pfns.size(); ++i) {
    uint64_t pfn = pfns[i];
    const PageSpec& spec = d.pages.at(pfn);
    uint64_t at = L.descs + i * kDescSize;
    L.desc_at[pfn] = at;
    uint64_t offset = 0, size = 0;
    uint32_t flags = 0;
    if (spec.kind == PageKind::Zero) {
      offset = L.data;
      size = bs;
    } else if (spec.kind == PageKind::Data) {
      auto page = page_bytes(d, pfn);
      PageCodec codec = spec.codec.value_or(d.compression);
      auto packed = compress_page(codec, page);
      if (packed) {
        flags = kdump_codec_flag(codec);
      } else {
        packed = page;  // stored raw when compression does not shrink it
      }
      offset = f.size();
      size = packed->size();
      f.insert(f.end(), packed->begin(), packed->end());
      L.data_at[pfn] = offset;
    }  // Lost: an all-zero descriptor
    L.flags[pfn] = flags;
    put(f, at, offset, 8);
    put(f, at + 8, size, 4);
    put(f, at + 12, flags, 4);
    put(f, at + 16, 0, 8);
  }

  for (const DescOverride& o : d.desc_overrides) {
    if (o.pfn < start || o.pfn >= end) continue;
    auto it = L.desc_at.find(o.pfn);
    if (it == L.desc_at.end()) bad(fmt::format("desc: PFN {:#x} has no descriptor", o.pfn));
    uint64_t rel = o.field == "offset" ? 0 : o.field == "size" ? 8 : o.field == "flags" ? 12 : 16;
    put(f, it->second + rel, o.value, rel == 0 || rel == 16 ? 8 : 4);
  }
  for (const auto& [name, value] : d.header_sets) {
    auto pos = kdump_field(name, d.block_size);
    if (!pos) bad(fmt::format("set: unknown field '{}'", name));
    put(f, pos->offset, value, pos->size);
  }
  return out;
}

}  // namespace

std::optional<FieldPos> kdump_field(const std::string& name, uint32_t block_size) {
  auto dot = name.find('.');
  if (dot == std::string::npos) return std::nullopt;
  std::string group = name.substr(0, dot), field = name.substr(dot + 1);
  if (group == "header") {
    for (const Field& f : kHeaderFields) {
      if (field == f.name) return FieldPos{f.offset, f.size};
    }
  } else if (group == "sub") {
    for (const Field& f : kSubFields) {
      if (field == f.name) return FieldPos{block_size + f.offset, f.size};
    }
  }
  return std::nullopt;
}

std::vector<GeneratedFile> write_kdump(const DumpDescription& d) {
  if (d.signature != "KDUMP   " && d.signature != "DISKDUMP") bad("bad signature");
  if (d.block_size < 512 || (d.block_size & (d.block_size - 1)) != 0) bad("block_size must be a power of two >= 512");
  uint64_t highest = d.pages.empty() ? 0 : d.pages.rbegin()->first + 1;
  uint64_t max_mapnr = d.max_mapnr.value_or(highest);
  if (max_mapnr < highest) bad(fmt::format("max_mapnr {:#x} leaves out pages up to PFN {:#x}", max_mapnr, highest - 1));
  for (const Poke& k : d.pokes) {
    for (uint64_t a = k.paddr; a < k.paddr + k.bytes.size(); ++a) {
      auto it = d.pages.find(a / d.block_size);
      if (it == d.pages.end() || it->second.kind != PageKind::Data) {
        bad(fmt::format("poke at {:#x}: not inside a data page", a));
      }
    }
  }

  std::vector<uint64_t> bounds = d.split_bounds;
  if (d.split_parts > 1) {
    for (int i = 1; i < d.split_parts; ++i) bounds.push_back(max_mapnr * i / d.split_parts);
  }
  bool split = !bounds.empty() || d.split_parts == 1;
  if (split && d.version < 2) bad("split dumps need header version 2 or later");
  std::sort(bounds.begin(), bounds.end());
  bounds.insert(bounds.begin(), 0);
  bounds.push_back(max_mapnr);
  std::vector<GeneratedFile> files;
  for (size_t i = 0; i + 1 < bounds.size(); ++i) {
    if (bounds[i] > bounds[i + 1]) bad("split boundary past max_mapnr");
    files.push_back(write_part(d, max_mapnr, bounds[i], bounds[i + 1], split));
  }
  return files;
}

}  // namespace kdive::dumpgen
