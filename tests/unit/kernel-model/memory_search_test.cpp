// memory_search on hand-built page tables: mappings found in address order
// with sign-extended kernel addresses, 2 MiB pages clipped to the range,
// values matched at their alignment with a mask, strings across a page
// boundary (and not across a page the dump lacks), and ranges clipped.
#include "kernel-model/memory_search.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "tests/unit/support/fake_dump.hpp"

using kdive::clip_ranges;
using kdive::for_each_mapping;
using kdive::KernelLayout;
using kdive::KernelMemory;
using kdive::MappedPiece;
using kdive::PhysAddr;
using kdive::search_memory;
using kdive::SearchHit;
using kdive::SearchPattern;
using kdive::SearchRange;
using kdive::test::FakeDump;

namespace {

constexpr uint64_t kPresentRw = 0x3;
constexpr uint64_t kHuge = 0x80;

uint64_t index_of(uint64_t v, int shift) { return (v >> shift) & 0x1ff; }

KernelLayout four_level() {
  KernelLayout l;
  l.levels = 4;
  return l;
}

// A 4-level table at 0x1000 mapping one 4 KiB page at `v` to `phys`, with
// its tables at 0x2000-0x4000 (another mapping may share them).
void map_4k(FakeDump& mem, uint64_t v, uint64_t phys) {
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, uint64_t{0x2000 | kPresentRw});
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, uint64_t{0x3000 | kPresentRw});
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, uint64_t{0x4000 | kPresentRw});
  mem.put(PhysAddr{0x4000 + index_of(v, 12) * 8}, phys | kPresentRw);
}

void put_bytes(FakeDump& mem, uint64_t phys, const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) mem.put(PhysAddr{phys + i}, s[i]);
}

std::vector<uint64_t> hit_addresses(const KernelMemory& memory, const std::vector<SearchRange>& ranges,
                                    const SearchPattern& p) {
  std::vector<uint64_t> out;
  search_memory(memory, ranges, p, [&](const SearchHit& h) { out.push_back(h.address); });
  return out;
}

}  // namespace

TEST_CASE("for_each_mapping finds kernel-half pages with sign-extended addresses", "[memory_search]") {
  FakeDump mem;
  const uint64_t v = 0xffffc90000123000ull;
  map_4k(mem, v, 0xabc000);
  KernelMemory memory(mem, four_level());
  std::vector<MappedPiece> pieces;
  for_each_mapping(memory, PhysAddr{0x1000}, 0xffff800000000000ull, 0,
                   [&](const MappedPiece& m) { pieces.push_back(m); });
  REQUIRE(pieces.size() == 1);
  CHECK(pieces[0].virt == v);
  CHECK(pieces[0].phys.value() == 0xabc000);
  CHECK(pieces[0].size == 4096);
  // The user half holds nothing.
  pieces.clear();
  for_each_mapping(memory, PhysAddr{0x1000}, 0, 1ull << 47, [&](const MappedPiece& m) { pieces.push_back(m); });
  CHECK(pieces.empty());
}

TEST_CASE("for_each_mapping clips a 2 MiB page to the range", "[memory_search]") {
  FakeDump mem;
  const uint64_t v = 0x7f0000400000ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, uint64_t{0x2000 | kPresentRw});
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, uint64_t{0x3000 | kPresentRw});
  // PAT bit 12 set in the huge entry: not part of the address.
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, uint64_t{0x40000000 | 0x1000 | kHuge | kPresentRw});
  KernelMemory memory(mem, four_level());
  std::vector<MappedPiece> pieces;
  for_each_mapping(memory, PhysAddr{0x1000}, v + 0x3000, v + 0x5000,
                   [&](const MappedPiece& m) { pieces.push_back(m); });
  REQUIRE(pieces.size() == 1);
  CHECK(pieces[0].virt == v + 0x3000);
  CHECK(pieces[0].phys.value() == 0x40003000);
  CHECK(pieces[0].size == 0x2000);
}

TEST_CASE("value search: alignment, several values and the mask", "[memory_search]") {
  FakeDump mem;
  mem.put(PhysAddr{0x10008}, uint64_t{0x1122334455667788});
  mem.put(PhysAddr{0x10014}, uint64_t{0x1122334455667788});  // not 8-byte aligned
  mem.put(PhysAddr{0x10020}, uint64_t{0x11223344556677ff});
  mem.put(PhysAddr{0x10030}, uint64_t{0x42});
  KernelMemory memory(mem, four_level());
  const std::vector<SearchRange> all{SearchRange::physical(0, 0)};
  CHECK(hit_addresses(memory, all, SearchPattern::value(0x1122334455667788)) == std::vector<uint64_t>{0x10008});
  CHECK(hit_addresses(memory, all, SearchPattern::value(0x1122334455667788, 8, 0xff)) ==
        std::vector<uint64_t>{0x10008, 0x10020});
  SearchPattern two{{0x42, 0x11223344556677ff}, 8, 0, {}};
  CHECK(hit_addresses(memory, all, two) == std::vector<uint64_t>{0x10020, 0x10030});
  // 32-bit words at 4-byte alignment find the unaligned copy's low half too.
  CHECK(hit_addresses(memory, all, SearchPattern::value(0x55667788, 4)) == std::vector<uint64_t>{0x10008, 0x10014});
  // Ranges exclude and include.
  CHECK(hit_addresses(memory, clip_ranges(all, 0x10010, 0), SearchPattern::value(0x42)) ==
        std::vector<uint64_t>{0x10030});
  CHECK(hit_addresses(memory, clip_ranges(all, 0x10000, 0x10030), SearchPattern::value(0x42)).empty());
}

TEST_CASE("string search runs across a page boundary, not across a missing page", "[memory_search]") {
  FakeDump mem;
  put_bytes(mem, 0x20ffc, "KDIVE-PATTERN");  // pages 0x20000 and 0x21000
  put_bytes(mem, 0x23ff8, "KDIVE-PATTERN");  // 0x24000 excluded below: PATTERN cut
  mem.exclude(PhysAddr{0x24000});
  KernelMemory memory(mem, four_level());
  std::vector<uint64_t> hits = hit_addresses(memory, {SearchRange::physical(0, 0)}, SearchPattern::string("KDIVE"));
  CHECK(hits == std::vector<uint64_t>{0x20ffc, 0x23ff8});
  hits = hit_addresses(memory, {SearchRange::physical(0, 0)}, SearchPattern::string("PATTERN"));
  CHECK(hits == std::vector<uint64_t>{0x21002});
}

TEST_CASE("clip_ranges keeps the top of the address space open-ended", "[memory_search]") {
  auto r = clip_ranges({SearchRange::physical(0x1000, 0)}, 0, 0x5000);
  REQUIRE(r.size() == 1);
  CHECK(r[0].start == 0x1000);
  CHECK(r[0].end == 0x5000);
  CHECK(clip_ranges({SearchRange::physical(0x1000, 0x2000)}, 0x3000, 0).empty());
  r = clip_ranges({SearchRange::physical(0x1000, 0)}, 0x8000, 0);
  REQUIRE(r.size() == 1);
  CHECK(r[0].end == 0);
}

TEST_CASE("several strings: hits in address order, a short one inside the carried tail reported once",
          "[memory_search]") {
  FakeDump mem;
  // The long text crosses into page 0x21000; AB lies in the 12 bytes carried over.
  put_bytes(mem, 0x20ff4, "AB");
  put_bytes(mem, 0x20ff8, "LONGER-STRING");
  put_bytes(mem, 0x21010, "AB");
  KernelMemory memory(mem, four_level());
  SearchPattern p{{}, 1, 0, {"LONGER-STRING", "AB"}};
  std::vector<SearchHit> hits;
  search_memory(memory, {SearchRange::physical(0, 0)}, p, [&](const SearchHit& h) { hits.push_back(h); });
  REQUIRE(hits.size() == 3);
  CHECK(hits[0].address == 0x20ff4);
  CHECK(hits[0].value_index == 1);
  CHECK(hits[1].address == 0x20ff8);
  CHECK(hits[1].value_index == 0);
  CHECK(hits[2].address == 0x21010);
}
