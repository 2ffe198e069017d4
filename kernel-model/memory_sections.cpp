#include "kernel-model/memory_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

// The flag bits of section_mem_map. Since 5.19 (ed7802dd48f7, "mm:
// memory_hotplug: enumerate all supported section flags") they are an
// enum of SECTION_*_BIT values ending in SECTION_MAP_LAST_BIT, which the
// DWARF names; before, include/linux/mmzone.h #defines them, which DWARF does
// not keep, so the 5.10 set (present, has mem_map, online, early: bits 0-3,
// SECTION_MAP_LAST_BIT 1<<4) is what is used then.
std::vector<SectionFlag> section_flags(const Kernel& k) {
  static constexpr std::array<const char*, 6> kNames = {"SECTION_MARKED_PRESENT",    "SECTION_HAS_MEM_MAP",
                                                        "SECTION_IS_ONLINE",         "SECTION_IS_EARLY",
                                                        "SECTION_TAINT_ZONE_DEVICE", "SECTION_CANNOT_OPTIMIZE_VMEMMAP"};
  std::vector<SectionFlag> out;
  TypeSystem& types = k.types();
  const std::optional<int64_t> last = types.enumerator("SECTION_MAP_LAST_BIT");
  if (last) {
    for (const char* name : kNames) {
      const std::optional<int64_t> bit = types.enumerator(std::string(name) + "_BIT");
      if (bit && *bit >= 0 && *bit < *last) out.push_back({static_cast<int>(*bit), name});
    }
    std::sort(out.begin(), out.end(), [](const SectionFlag& a, const SectionFlag& b) { return a.bit < b.bit; });
    // A bit the enum has but this list does not know still masks the mem_map.
    for (int b = 0; b < *last; ++b) {
      if (std::none_of(out.begin(), out.end(), [&](const SectionFlag& f) { return f.bit == b; }))
        out.push_back({b, fmt::format("SECTION_BIT_{}", b)});
    }
    std::sort(out.begin(), out.end(), [](const SectionFlag& a, const SectionFlag& b) { return a.bit < b.bit; });
    return out;
  }
  for (int b = 0; b < 4; ++b) out.push_back({b, kNames[static_cast<size_t>(b)]});
  return out;
}

uint64_t read_u64(const Kernel& k, VirtAddr at) {
  uint64_t v = 0;
  std::array<std::byte, 8> b{};
  k.memory().read(at, b);
  std::memcpy(&v, b.data(), 8);
  return v;
}

}  // namespace

MemorySections read_memory_sections(const Kernel& k) {
  const VmcoreInfo& info = k.vmcoreinfo();
  const Symbol* sym = k.find_symbol("mem_section");
  if (sym == nullptr) throw Error(Error::Kind::Lookup, "no mem_section: the kernel is not SPARSEMEM");
  const Type& section_type = k.types().require("struct mem_section");
  const uint64_t section_size = section_type.size();
  const uint64_t map_offset = section_type.require_member("section_mem_map").offset;

  MemorySections s;
  // x86_64's SECTION_SIZE_BITS is 27 on every kernel kdive reads
  // (arch/x86/include/asm/sparsemem.h); VMCOREINFO says so since 2.6.x.
  s.section_size_bits = static_cast<int>(info.number("SECTION_SIZE_BITS").value_or(27));
  s.pages_per_section = (uint64_t{1} << s.section_size_bits) / kPageSize;
  // MAX_PHYSMEM_BITS: 46 with 4-level paging, 52 with 5-level.
  const int64_t physmem_bits = info.number("MAX_PHYSMEM_BITS").value_or(k.layout().levels == 5 ? 52 : 46);
  s.section_count = uint64_t{1} << (physmem_bits - s.section_size_bits);
  s.flags = section_flags(k);
  const int last_bit = s.flags.empty() ? 0 : s.flags.back().bit + 1;
  const uint64_t flag_mask = (uint64_t{1} << last_bit) - 1;

  // CONFIG_SPARSEMEM_EXTREME: struct mem_section **mem_section, each root a
  // page of sections (SECTIONS_PER_ROOT = PAGE_SIZE / sizeof(struct
  // mem_section)); otherwise a static two-dimensional array.
  Object table = k.object("mem_section");
  const bool extreme = table.type().strip().kind() == TypeKind::Pointer;
  const uint64_t per_root =
      extreme ? kPageSize / section_size : table.type().strip().target()->strip().count().value_or(1);
  const uint64_t roots = (s.section_count + per_root - 1) / per_root;
  const VirtAddr base = extreme ? table.pointer() : table.address();
  if (extreme && base.value() == 0) throw Error(Error::Kind::BadData, "mem_section is NULL");

  std::vector<std::byte> page(per_root * section_size);
  for (uint64_t r = 0; r < roots; ++r) {
    VirtAddr root;
    try {
      root = extreme ? VirtAddr{read_u64(k, base + r * 8)} : base + r * per_root * section_size;
      if (root.value() == 0) continue;  // no memory in this root's range
      k.memory().read(root, page);
    } catch (const ModelError& e) {
      s.breaks.push_back(
          {s.sections.size(), extreme ? base + r * 8 : root, fmt::format("section root {}: {}", r, e.what())});
      continue;
    }
    for (uint64_t i = 0; i < per_root; ++i) {
      uint64_t word = 0;
      std::memcpy(&word, page.data() + i * section_size + map_offset, 8);
      if (word == 0) continue;
      MemorySection m;
      m.nr = r * per_root + i;
      m.address = root + i * section_size;
      m.flags = word & flag_mask;
      m.coded_mem_map = word & ~flag_mask;
      m.start_pfn = m.nr * s.pages_per_section;
      m.mem_map = VirtAddr{m.coded_mem_map + m.start_pfn * k.types().require("struct page").size()};
      s.sections.push_back(m);
    }
  }
  return s;
}

std::vector<NodeSpan> read_node_spans(const Kernel& k) {
  std::vector<Object> pgdats;
  if (k.find_symbol("node_data") != nullptr) {
    Object data = k.object("node_data");
    const uint64_t count = data.type().strip().count().value_or(1);
    for (uint64_t i = 0; i < count; ++i) {
      Object p = data.at(i);
      if (!p.is_null()) pgdats.push_back(p.deref());
    }
  } else {
    pgdats.push_back(k.object("contig_page_data"));
  }
  std::vector<NodeSpan> out;
  for (const Object& p : pgdats) {
    NodeSpan n;
    n.node = static_cast<int>(p.has_member("node_id") ? p["node_id"].as_i64() : 0);
    n.pgdat = p.address();
    n.start_pfn = p["node_start_pfn"].as_u64();
    n.spanned_pages = p["node_spanned_pages"].as_u64();
    n.present_pages = p["node_present_pages"].as_u64();
    Object zones = p["node_zones"];
    const uint64_t nz = zones.type().strip().count().value_or(0);
    for (uint64_t z = 0; z < nz; ++z) n.zones.push_back(zones.at(z).address());
    out.push_back(std::move(n));
  }
  return out;
}

bool MemorySections::holds_pfn(uint64_t pfn) const {
  return std::any_of(sections.begin(), sections.end(), [&](const MemorySection& m) {
    return pfn >= m.start_pfn && pfn - m.start_pfn < pages_per_section;
  });
}

}  // namespace kdive
