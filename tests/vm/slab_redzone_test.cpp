// SLUB caches with left red zones (slub_debug=Z) and `set redzone on|off`.
// No fixture kernel was booted with slub_debug, so: every cache's red_left_pad
// is checked against its own kmem_cache as `struct` reads it (0 everywhere),
// and a copy of the dump is edited so that one small cache looks red-zoned —
// SLAB_RED_ZONE in its flags, a left pad, and every freelist rewritten the way
// the kernel would have built it — and kdive must then find the same free and
// allocated objects as on the unedited dump, with no breaks, and print each
// object shifted by exactly the pad with `set redzone off`.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "dump_edit.hpp"
#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using kdive::VirtAddr;
using nlohmann::json;

namespace {

uint64_t hex(const json& v) {
  if (v.is_number()) return v.get<uint64_t>();
  return std::stoull(v.get<std::string>(), nullptr, 16);
}

// kdive --json on the fixture's ELF dump: one result per command (JSON Lines).
std::vector<json> results_of(const std::string& commands) { return json_results_of(suite(), commands); }

// SLAB_RED_ZONE in this kernel. From 6.9 the SLAB_ flags are bits numbered by
// enum _slab_flag_bits, which the DWARF carries; before, include/linux/slab.h
// defines it as 0x400.
uint64_t red_zone_flag() {
  try {
    return uint64_t{1} << print_value(suite(), "(int)_SLAB_RED_ZONE");
  } catch (const std::runtime_error&) {
    return 0x400;
  }
}

// The object lines of kmem -S text: "  [addr]" allocated, "   addr" free
// (with "  (cpu N cache)" on a CPU's freelist). Returns the address and the
// line with the address cut out, or nullopt for any other line.
std::optional<std::pair<uint64_t, std::string>> object_line(const std::string& line) {
  static const std::regex allocated(R"(^  \[([0-9a-f]{16})\]$)");
  static const std::regex free(R"(^   ([0-9a-f]{16})(  \(cpu [0-9]+ cache\))?$)");
  std::smatch m;
  if (std::regex_match(line, m, allocated)) return std::pair{std::stoull(m[1], nullptr, 16), std::string("[]")};
  if (std::regex_match(line, m, free)) return std::pair{std::stoull(m[1], nullptr, 16), "free" + m[2].str()};
  return std::nullopt;
}

}  // namespace

TEST_CASE("every cache's red_left_pad is what its kmem_cache says", "[slab_redzone]") {
  const json caches = results_of("kmem -s").at(0);
  REQUIRE(caches.size() > 50);
  std::string commands;
  for (const json& c : caches) {
    REQUIRE_FALSE(c.contains("error"));
    commands += fmt::format("struct kmem_cache.flags,red_left_pad {}; ", c["cache"].get<std::string>());
  }
  const std::vector<json> structs = results_of(commands);
  REQUIRE(structs.size() == caches.size());
  const uint64_t flag = red_zone_flag();
  size_t red_zoned = 0;
  for (size_t i = 0; i < caches.size(); ++i) {
    INFO("cache " << caches[i]["name"] << " " << caches[i]["cache"]);
    const json& v = structs[i].at(0)["value"];
    // A pad counts only under SLAB_RED_ZONE (mm/slub.c fixup_red_left).
    const uint64_t expected = (hex(v["flags"]) & flag) != 0 ? hex(v["red_left_pad"]) : 0;
    red_zoned += expected != 0;
    CHECK(caches[i]["red_left_pad"].get<uint64_t>() == expected);
  }
  INFO(red_zoned << " red-zoned caches");
  // The fixture kernels run without slub_debug: no cache has a red zone.
  CHECK(red_zoned == 0);

  // Without red zones set redzone changes nothing kmem prints.
  KdiveRun r = run_kdive(suite(), "elf", "kmem -S kmalloc-256; set redzone off; kmem -S kmalloc-256");
  REQUIRE(r.status == 0);
  const std::string separator = "redzone: off\n";
  const size_t at = r.out.find(separator);
  REQUIRE(at != std::string::npos);
  CHECK(r.out.substr(0, at) == r.out.substr(at + separator.size()));
  CHECK(lines_of(r.out.substr(0, at)).size() > 20);
}

namespace {

// A small cache (few slabs) with free objects, whose slots have room for an
// 8-byte left pad before the object and its free pointer, preferably with a
// CPU's lockless freelist in use, and everything kdive knows of its slabs.
struct RedZoneVictim {
  static constexpr uint64_t kPad = 8;
  std::string name;
  uint64_t cache = 0, size = 0, offset = 0, flags = 0;
  std::optional<uint64_t> random;  // CONFIG_SLAB_FREELIST_HARDENED
  json detail;                     // kmem -S NAME --json
  std::vector<uint64_t> cpu_freelists;

  RedZoneVictim() {
    const json caches = results_of("kmem -s").at(0);
    std::vector<json> small;
    for (const json& c : caches) {
      const uint64_t slabs = c["slabs"], total = c["total"], allocated = c["allocated"];
      if (slabs >= 1 && slabs <= 8 && total > allocated && total - allocated >= 2) small.push_back(c);
    }
    REQUIRE(small.size() >= 3);
    std::string commands;
    for (const json& c : small) {
      commands += fmt::format("struct kmem_cache.size,offset,flags,red_left_pad {}; ", c["cache"].get<std::string>());
    }
    const std::vector<json> fields = results_of(commands);
    const uint64_t flag = red_zone_flag();
    std::vector<size_t> fit;
    for (size_t i = 0; i < small.size(); ++i) {
      const json& v = fields.at(i).at(0)["value"];
      // The free pointer must stay inside the slot once the object moves by the
      // pad (caches with a constructor or RCU keep it past the object).
      if (hex(v["offset"]) + 8 + kPad <= hex(v["size"]) && (hex(v["flags"]) & flag) == 0) fit.push_back(i);
    }
    REQUIRE_FALSE(fit.empty());
    // Among the first few that fit, one whose CPU freelist holds objects.
    std::optional<size_t> chosen;
    for (size_t n = 0; n < fit.size() && n < 6 && !chosen; ++n) {
      const json d = results_of("kmem -S " + small[fit[n]]["name"].get<std::string>()).at(0).at(0);
      std::string reads;
      for (const json& kcc : d["kmem_cache_cpu"])
        reads += "struct kmem_cache_cpu.freelist " + kcc.get<std::string>() + "; ";
      for (const json& f : results_of(reads)) {
        if (hex(f.at(0)["value"]["freelist"]) != 0) chosen = fit[n];
      }
    }
    const size_t i = chosen.value_or(fit[0]);
    name = small[i]["name"];
    cache = hex(small[i]["cache"]);
    const json& v = fields.at(i).at(0)["value"];
    size = hex(v["size"]);
    offset = hex(v["offset"]);
    flags = hex(v["flags"]);
    try {
      member_offset(suite(), "struct kmem_cache", "random");
      random = print_value(suite(), fmt::format("((struct kmem_cache *){:#x})->random", cache));
    } catch (const std::runtime_error&) {
    }
    detail = results_of("kmem -S " + name).at(0).at(0);
    REQUIRE_FALSE(detail.contains("error"));
    REQUIRE(detail["red_left_pad"] == 0);
  }

  // A free pointer as the kernel stores it at `at` (freelist_ptr / freelist_ptr_encode).
  uint64_t encode(uint64_t target, uint64_t at) const {
    return random ? target ^ *random ^ __builtin_bswap64(at) : target;
  }
  uint64_t decode(uint64_t stored, uint64_t at) const { return encode(stored, at); }  // xor is its own inverse
};

// The member offset of the slab's freelist: struct slab from 5.17, struct page before.
uint64_t slab_freelist_offset() {
  try {
    return member_offset(suite(), "struct slab", "freelist");
  } catch (const std::runtime_error&) {
    return member_offset(suite(), "struct page", "freelist");
  }
}

}  // namespace

TEST_CASE("a red-zoned cache: same objects, no breaks, set redzone off shifts them by the pad", "[slab_redzone]") {
  const RedZoneVictim v;
  constexpr uint64_t pad = RedZoneVictim::kPad;
  INFO("cache " << v.name << " size " << v.size << " offset " << v.offset);
  const std::string before = run_kdive(suite(), "elf", "kmem -S " + v.name).out;

  DamagedDump d = DamagedDump::copy_of(suite());
  // Read every value to rewrite before writing any.
  std::vector<std::pair<uint64_t, uint64_t>> writes;  // (address, 8-byte value)
  size_t free_objects = 0;
  for (const json& s : v.detail["slab_list"]) {
    std::set<uint64_t> slab_free;
    for (const json& o : s["free_objects"]) slab_free.insert(hex(o));
    for (uint64_t object : slab_free) {
      // The next free object, decoded from where the kernel stored it...
      const uint64_t old_at = object + v.offset;
      const uint64_t next = v.decode(d.read_u64(VirtAddr{old_at}), old_at);
      INFO("free object " << std::hex << object << " next " << next);
      // ...is another free object of the slab, or the end (a check of the decoding).
      REQUIRE((next == 0 || slab_free.contains(next)));
      // ...stored again from the object's new start, pointing at the next one's.
      const uint64_t new_at = object + pad + v.offset;
      writes.emplace_back(new_at, v.encode(next == 0 ? 0 : next + pad, new_at));
      ++free_objects;
    }
    if (hex(s["freelist"]) != 0) writes.emplace_back(hex(s["slab"]) + slab_freelist_offset(), hex(s["freelist"]) + pad);
  }
  REQUIRE(free_objects >= 2);
  const uint64_t cpu_freelist = member_offset(suite(), "struct kmem_cache_cpu", "freelist");
  std::optional<std::pair<uint64_t, uint64_t>> cpu_head;  // a CPU's freelist head: where, and the new value
  for (const json& kcc : v.detail["kmem_cache_cpu"]) {
    const uint64_t at = hex(kcc) + cpu_freelist;
    if (const uint64_t head = d.read_u64(VirtAddr{at}); head != 0) {
      writes.emplace_back(at, head + pad);
      cpu_head = writes.back();
    }
  }
  for (const auto& [at, value] : writes) d.write_u64(VirtAddr{at}, value);
  // slab_flags_t and red_left_pad are unsigned ints.
  d.write_u32(VirtAddr{v.cache + member_offset(suite(), "struct kmem_cache", "flags")},
              static_cast<uint32_t>(v.flags | red_zone_flag()));
  d.write_u32(VirtAddr{v.cache + member_offset(suite(), "struct kmem_cache", "red_left_pad")}, pad);

  // set redzone on (the default) prints slot starts: exactly what the unedited
  // dump printed, every count and every free or [allocated] mark the same.
  KdiveRun on = d.run("kmem -S " + v.name);
  INFO(on.err);
  CHECK(on.status == 0);
  CHECK(on.out == before);

  const json edited = json::parse(lines_of(d.run("kmem -S " + v.name, "--json").out).at(0))["result"].at(0);
  CHECK_FALSE(edited.contains("error"));
  CHECK(edited["red_left_pad"] == pad);
  CHECK(edited["allocated"] == v.detail["allocated"]);
  CHECK(edited["total"] == v.detail["total"]);
  REQUIRE(edited["slab_list"].size() == v.detail["slab_list"].size());
  for (size_t i = 0; i < edited["slab_list"].size(); ++i) {
    const json &e = edited["slab_list"][i], &o = v.detail["slab_list"][i];
    CHECK(e["slab"] == o["slab"]);
    CHECK(e["free_objects"] == o["free_objects"]);
    CHECK(e["allocated_objects"] == o["allocated_objects"]);
    CHECK(e["free"] == o["free"]);
  }

  // set redzone off: every object line moves by exactly the pad, nothing else changes.
  KdiveRun off = d.run("set redzone off; kmem -S " + v.name);
  CHECK(off.status == 0);
  std::vector<std::string> got = lines_of(off.out), want = lines_of(before);
  REQUIRE(!got.empty());
  CHECK(got[0] == "redzone: off");
  got.erase(got.begin());
  REQUIRE(got.size() == want.size());
  uint64_t objects = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    INFO(want[i] << " / " << got[i]);
    const auto w = object_line(want[i]), g = object_line(got[i]);
    REQUIRE(w.has_value() == g.has_value());
    if (!w) {
      CHECK(got[i] == want[i]);
      continue;
    }
    CHECK(g->first == w->first + pad);
    CHECK(g->second == w->second);
    ++objects;
  }
  CHECK(objects == v.detail["total"].get<uint64_t>());

  // kmem ADDRESS: the kernel's pointer to a free object and a byte of its left
  // red zone both name the object by its slot start; the text follows set redzone.
  const json& slab = v.detail["slab_list"].at(0);
  uint64_t free_slot = 0;
  for (const json& s : v.detail["slab_list"]) {
    if (!s["free_objects"].empty()) {
      free_slot = hex(s["free_objects"][0]);
      break;
    }
  }
  REQUIRE(free_slot != 0);
  for (const uint64_t address : {free_slot + pad, free_slot + 1}) {
    INFO("kmem " << std::hex << address << " (slab " << slab["slab"] << ")");
    KdiveRun j = d.run(fmt::format("kmem {:x}", address), "--json");
    CHECK(j.status == 0);
    const json found = json::parse(lines_of(j.out).at(0))["result"].at(0);
    CHECK(found["kind"] == "slab");
    CHECK(hex(found["object"]) == free_slot);
    CHECK(found["red_left_pad"] == pad);
    CHECK(found["offset"] == address - free_slot);
    CHECK(found["allocated"] == false);
  }
  const std::string slot_text = fmt::format("   {:016x}", free_slot);
  const std::string pointer_text = fmt::format("   {:016x}", free_slot + pad);
  const std::string as_on = d.run(fmt::format("kmem {:x}; kmem -s {:x}", free_slot + pad, free_slot + pad)).out;
  const std::string as_off =
      d.run(fmt::format("set redzone off; kmem {:x}; kmem -s {:x}", free_slot + pad, free_slot + pad)).out;
  CHECK(as_on.find(slot_text) != std::string::npos);
  CHECK(as_on.find(pointer_text) == std::string::npos);
  CHECK(as_off.find(pointer_text) != std::string::npos);
  CHECK(as_off.find(slot_text) == std::string::npos);

  // rd -SS: a CPU's freelist head points at an object as the kernel does
  // (past the pad): named without "@object", whatever set redzone says.
  if (cpu_head) {
    const auto [at, head] = *cpu_head;
    const std::string label = fmt::format("[{:x}:{}]", head, v.name);
    CHECK_THAT(d.run(fmt::format("rd -SS {:x} 1", at)).out, Catch::Matchers::Contains(label));
    CHECK_THAT(d.run(fmt::format("set redzone off; rd -SS {:x} 1", at)).out, Catch::Matchers::Contains(label));
    // One byte into the object: "@" names the object, as set redzone shows it.
    d.write_u64(VirtAddr{at}, head + 1);
    CHECK_THAT(d.run(fmt::format("rd -SS {:x} 1", at)).out,
               Catch::Matchers::Contains(fmt::format("[{:x}:{}@{:x}]", head + 1, v.name, head - pad)));
    CHECK_THAT(d.run(fmt::format("set redzone off; rd -SS {:x} 1", at)).out,
               Catch::Matchers::Contains(fmt::format("[{:x}:{}@{:x}]", head + 1, v.name, head)));
  }
}
