// kmem -n, -p, -m, -g and kmem -s ADDRESS: the sections and nodes against the
// guest's own numbers (meminfo, the vmemmap base it read through /proc/kcore),
// page structs of the memory workload's pages against its pagemap, -m against
// -p, the flag names against the kernel's enum pageflags as ptype prints it,
// kmem -s of a task_struct against kmem ADDRESS, one unreadable stretch of
// the vmemmap in a damaged copy, and on bullseye crash's own output line by line.
//
// Deliberate differences from crash 8.0.2 (not compared):
// - kmem -n: crash ends with the memory block devices (MEM_BLOCK lines, from
//   the driver core's device lists); kdive stops after the sections.
// - kmem -m: crash prints a signed member's hex value with no blank after it,
//   so the next column runs into it; kdive separates every column.
// - kmem -p ADDRESS inside a struct page: crash prints only the header; kdive
//   shows the struct page that holds the address.
// - kmem -s PHYSICAL: crash moves a physical address to the direct map; kdive
//   takes kernel addresses only (a word below the kernel half is a cache name).
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "kernel-model/kernel.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

std::string vmlinux() { return shell_quote((fixture_dir(suite()) / "vmlinux").string()); }
std::string vmcore() { return shell_quote((fixture_dir(suite()) / "vmcore.elf").string()); }

// The results of several commands, one kdive run (--json: one line per command).
std::vector<json> run_json(const std::vector<std::string>& commands) {
  std::string script;
  for (const std::string& c : commands) script += (script.empty() ? "" : "; ") + c;
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(script) + " " + vmlinux() + " " + vmcore());
  INFO(script << r.err);
  REQUIRE(r.status == 0);
  std::vector<json> out;
  for (const std::string& line : lines_of(r.out)) {
    if (line.empty()) continue;
    json j = json::parse(line);
    REQUIRE(j.contains("result"));
    out.push_back(j["result"]);
  }
  REQUIRE(out.size() == commands.size());
  return out;
}

uint64_t hex(const json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }
std::string hex_text(uint64_t v) { return fmt::format("{:x}", v); }

std::vector<TruthPage> present_pages(const Truth& truth) {
  std::vector<TruthPage> out;
  for (const TruthPage& p : truth.pagemap) {
    // The small pages of the 16-page mapping (the huge page is a compound page's tail rows).
    if (p.kind == TruthPage::Kind::Present && p.address < 0x7f0000400000) out.push_back(p);
  }
  return out;
}

constexpr uint64_t kPage = 4096;

// The pages of the capture kernel's reservation as the crashed kernel
// recorded it (its crashk_res and crashk_low_res resources; each is empty,
// end below start or both zero, without one).
uint64_t crash_reservation_pages() {
  const auto dir = fixture_dir(suite());
  auto k = kdive::Kernel::open(dir / "vmlinux", {(dir / "vmcore.elf").string()});
  uint64_t bytes = 0;
  for (const char* name : {"crashk_res", "crashk_low_res"}) {
    if (!k->symbols().find(name)) continue;
    kdive::Object r = k->object(name);
    const uint64_t start = r["start"].as_u64(), end = r["end"].as_u64();
    if (end > start) bytes += end - start + 1;
  }
  return bytes / kPage;
}

}  // namespace

TEST_CASE("kmem -n: nodes, zones and sections against the guest's memory", "[kmem_pages]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const json n = run_json({"kmem -n"})[0];
  REQUIRE(n["nodes"].size() >= 1);
  const uint64_t per_section = n["pages_per_section"].get<uint64_t>();
  CHECK(per_section == (uint64_t{1} << n["section_size_bits"].get<int>()) / kPage);
  // Present sections and the pfns they cover.
  std::set<uint64_t> present;
  for (const json& s : n["sections"]) {
    if (s["state"].get<std::string>().find('P') != std::string::npos) present.insert(s["pfn"].get<uint64_t>());
  }
  REQUIRE(!present.empty());
  uint64_t node_present = 0;
  for (const json& node : n["nodes"]) {
    INFO(node.dump());
    const uint64_t start = node["start_mapnr"].get<uint64_t>(), spanned = node["size"].get<uint64_t>();
    // Every pfn the node spans lies in a present section.
    for (uint64_t pfn = start / per_section * per_section; pfn < start + spanned; pfn += per_section)
      CHECK(present.contains(pfn));
    // A node's present pages are its zones' (the kernel sums them so in
    // calculate_node_totalpages()).
    uint64_t zones_present = 0;
    for (const json& z : node["zones"]) zones_present += z["present_pages"].get<uint64_t>();
    CHECK(node["present_pages"].get<uint64_t>() == zones_present);
    CHECK(node["present_pages"].get<uint64_t>() <= spanned);
    node_present += node["present_pages"].get<uint64_t>();
  }
  // MemTotal counts managed pages: the present ones minus what memblock kept
  // at boot (the kernel image, the mem_map itself, firmware areas, and the
  // crashkernel= reservation the capture kernel owns), so present pages are at
  // least MemTotal. Without the reservation, whose size the dump holds
  // (crashk_res, and crashk_low_res for a ",low" part), the difference is
  // what boot kept: under an eighth of the guest (this kernel image and its
  // mem_map take ~40 MiB of a 512 MiB one).
  REQUIRE(truth.meminfo.contains("MemTotal"));
  const uint64_t managed = truth.meminfo.at("MemTotal") / 4;
  const uint64_t reserved = crash_reservation_pages();
  CHECK((reserved > 0) == recipe(suite()).kexec);
  CHECK(reserved * 4 == crashkernel_kib(truth.cmdline));
  CHECK(node_present >= managed + reserved);
  CHECK(node_present - managed - reserved < node_present / 8);
  // Each present section's mem_map is the guest's vmemmap_base plus its first
  // pfn's struct page; kmem -p of its first physical address finds the same page.
  REQUIRE(truth.kvar.contains("vmemmap_base"));
  std::vector<std::string> commands;
  std::vector<json> sections;
  for (const json& s : n["sections"]) {
    if (s["state"].get<std::string>().find('P') == std::string::npos) continue;
    CHECK(hex(s["mem_map"]) == truth.kvar.at("vmemmap_base") + s["pfn"].get<uint64_t>() * 64);
    commands.push_back("kmem -p " + hex_text(s["pfn"].get<uint64_t>() * kPage));
    sections.push_back(s);
  }
  const std::vector<json> pages = run_json(commands);
  for (size_t i = 0; i < pages.size(); ++i) {
    REQUIRE(pages[i].size() == 1);
    CHECK(pages[i][0]["page"] == sections[i]["mem_map"]);
  }
}

TEST_CASE("kmem -p: the memory workload's pages, and one row per pfn of the sections", "[kmem_pages]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::vector<TruthPage> pages = present_pages(truth);
  REQUIRE(pages.size() >= 4);
  std::vector<std::string> commands = {"kmem -n"};
  std::string some = "kmem -p";
  for (const TruthPage& p : pages) some += " " + hex_text(p.pfn * kPage);
  commands.push_back(some);
  const std::vector<json> r = run_json(commands);
  REQUIRE(r[1].size() == pages.size());
  for (size_t i = 0; i < pages.size(); ++i) {
    const json& row = r[1][i];
    INFO("pfn " << hex_text(pages[i].pfn) << ": " << row.dump());
    CHECK(hex(row["physical"]) == pages[i].pfn * kPage);
    // An anonymous page: mapping is its anon_vma with PAGE_MAPPING_ANON (bit 0).
    CHECK((hex(row["mapping"]) & 1) == 1);
    // A private anonymous mapping's page index is its address in pages (vm_pgoff is the start's).
    CHECK(row["index"].get<uint64_t>() == pages[i].address / kPage);
    CHECK(row["count"].get<int64_t>() >= 1);
  }
  // The whole listing: one row per pfn of every section listed by -n.
  const uint64_t span = r[0]["sections"].size() * r[0]["pages_per_section"].get<uint64_t>();
  KdiveRun all = run_kdive(suite(), "elf", "kmem -p");
  REQUIRE(all.status == 0);
  const std::vector<std::string> lines = lines_of(all.out);
  REQUIRE(!lines.empty());
  CHECK(lines[0].find("PAGE") != std::string::npos);
  CHECK(lines.size() - 1 == span);
  // The workload's first page's row is the one the address form printed.
  const std::string page = hex_text(hex(r[1][0]["page"]));
  bool found = false;
  for (const std::string& l : lines) {
    if (l.starts_with(page + " ")) {
      found = true;
      CHECK(l.find(hex_text(pages[0].pfn * kPage)) != std::string::npos);
    }
  }
  CHECK(found);
}

TEST_CASE("kmem -p with a stretch of the vmemmap missing: those rows damaged, the rest intact", "[kmem_pages]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::vector<json> r = run_json({"kmem -n"});
  const json& sections = r[0]["sections"];
  REQUIRE(sections.size() >= 2);
  const uint64_t per_section = r[0]["pages_per_section"].get<uint64_t>();
  // The second section's page structs: unmap the page-table entry that maps
  // the first of them (a 2 MiB vmemmap page, or a 4 KiB one), so they cannot
  // be read at all, as when the dump lacks that part of the vmemmap.
  const json& victim = sections[1];
  const uint64_t first = hex(victim["mem_map"]);
  const json vt = run_json({"vtop " + hex_text(first)})[0][0];
  REQUIRE(truth.kvar.contains("page_offset_base"));
  const json& last = vt["levels"].back();
  const uint64_t entry = truth.kvar.at("page_offset_base") + hex(last["entry_address"]);
  const uint64_t mapped = vt["page_size"].get<uint64_t>();  // what that entry maps
  DamagedDump d = DamagedDump::copy_of(suite(), "elf");
  d.zero(kdive::VirtAddr{entry}, 8);
  const uint64_t lost = mapped / 64;  // struct pages in the unmapped page
  const uint64_t victim_pfn = victim["pfn"].get<uint64_t>();
  const uint64_t good_pfn = sections[0]["pfn"].get<uint64_t>() + 0x100;

  KdiveRun text = d.run("kmem -p");
  INFO(text.err);
  CHECK(text.status == kDataLost);
  const std::vector<std::string> lines = lines_of(text.out);
  uint64_t span = sections.size() * per_section, damaged = 0;
  for (const std::string& l : lines) damaged += l.find("(damaged: ") != std::string::npos ? 1 : 0;
  CHECK(lines.size() - 1 == span);  // every pfn still has its row
  CHECK(damaged == lost);

  KdiveRun j = d.run("kmem -p " + hex_text(victim_pfn * kPage) + " " + hex_text(good_pfn * kPage), "--json");
  CHECK(j.status == kDataLost);
  const json rows = json::parse(lines_of(j.out).at(0))["result"];
  REQUIRE(rows.size() == 2);
  CHECK(hex(rows[0]["page"]) == first);
  CHECK(rows[0].contains("error"));
  CHECK_FALSE(rows[1].contains("error"));
  CHECK(hex(rows[1]["physical"]) == good_pfn * kPage);
}

TEST_CASE("kmem -g: the kernel's enum pageflags, and the flags of a value", "[kmem_pages]") {
  const std::vector<json> r = run_json({"kmem -g", "p (int)PG_lru", "p (int)PG_reserved", "p (int)__NR_PAGEFLAGS"});
  const json& flags = r[0]["flags"];
  // ptype's enum pageflags: the enumerators in the DWARF's order, with their values.
  KdiveRun pt = run_kdive(suite(), "elf", "ptype enum pageflags");
  REQUIRE(pt.status == 0);
  INFO(pt.out);
  std::vector<std::pair<std::string, int>> expected;
  const std::regex enumerator(R"(\b(PG_\w+|__NR_PAGEFLAGS)(?: = (\d+))?)");
  int next = 0;
  for (auto it = std::sregex_iterator(pt.out.begin(), pt.out.end(), enumerator); it != std::sregex_iterator(); ++it) {
    const int value = (*it)[2].matched ? std::stoi((*it)[2]) : next;
    next = value + 1;
    expected.emplace_back((*it)[1], value);
  }
  REQUIRE(expected.size() > 20);
  const int limit = static_cast<int>(r[3][0]["value"].get<int64_t>());
  std::vector<std::pair<std::string, int>> below;
  for (const auto& e : expected) {
    if (e.second < limit && e.first != "__NR_PAGEFLAGS") below.push_back(e);
  }
  std::vector<std::pair<std::string, int>> got;
  for (const json& f : flags) {
    got.emplace_back(f["name"].get<std::string>(), f["bit"].get<int>());
    CHECK(hex(f["value"]) == uint64_t{1} << f["bit"].get<int>());
  }
  CHECK(got == below);
  // A flags word with PG_lru and PG_reserved, and node/zone bits above the
  // flags: those two bits (with any alias the enum gives them), nothing else.
  const int lru = static_cast<int>(r[1][0]["value"].get<int64_t>());
  const int reserved = static_cast<int>(r[2][0]["value"].get<int64_t>());
  const uint64_t value = (uint64_t{0x7ffff} << 40) | (uint64_t{1} << lru) | (uint64_t{1} << reserved);
  const json v = run_json({"kmem -g " + hex_text(value)})[0];
  REQUIRE(v.size() == 1);
  CHECK(hex(v[0]["value"]) == value);
  std::vector<std::pair<std::string, int>> want;
  for (const auto& e : below) {
    if (e.second == lru || e.second == reserved) want.push_back(e);
  }
  std::vector<std::pair<std::string, int>> held;
  for (const json& f : v[0]["flags"]) held.emplace_back(f["name"].get<std::string>(), f["bit"].get<int>());
  CHECK(held == want);
  CHECK(std::find(held.begin(), held.end(), std::pair<std::string, int>("PG_lru", lru)) != held.end());
}

TEST_CASE("kmem -m: flags and _refcount as kmem -p shows them, for the same pages", "[kmem_pages]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  std::string addresses;
  for (const TruthPage& p : present_pages(truth)) addresses += " " + hex_text(p.pfn * kPage);
  for (uint64_t pfn : {0x1, 0x10, 0x1000, 0x1200}) addresses += " " + hex_text(pfn * kPage);
  const std::vector<json> r = run_json({"kmem -p" + addresses, "kmem -m flags,_refcount,mapping" + addresses});
  REQUIRE(r[0].size() == r[1].size());
  REQUIRE(r[0].size() >= 8);
  for (size_t i = 0; i < r[0].size(); ++i) {
    INFO(r[0][i].dump() << "\n" << r[1][i].dump());
    CHECK(r[1][i]["page"] == r[0][i]["page"]);
    CHECK(hex(r[1][i]["members"]["flags"]) == hex(r[0][i]["flags"]));
    CHECK(hex(r[1][i]["members"]["mapping"]) == hex(r[0][i]["mapping"]));
    // _refcount is an atomic_t: its int, shown as the 32-bit word.
    CHECK(hex(r[1][i]["members"]["_refcount"]) == static_cast<uint32_t>(r[0][i]["count"].get<int64_t>()));
  }
  // A path that struct page lacks is a one-line error naming it.
  KdiveRun bad = run_kdive(suite(), "elf", "kmem -m no_such_member");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("no_such_member") != std::string::npos);
}

TEST_CASE("kmem -s ADDRESS of a task_struct: the task_struct cache, as kmem ADDRESS finds it", "[kmem_pages]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const json ps = run_json({"ps " + std::to_string(truth.role("sleeper"))})[0];
  REQUIRE(ps.size() == 1);
  const uint64_t task = hex(ps[0]["task"]);
  const std::vector<json> r =
      run_json({"kmem -s " + hex_text(task + 0x40), "kmem " + hex_text(task + 0x40), "kmem -S " + hex_text(task)});
  REQUIRE(r[0].size() == 1);
  const json& s = r[0][0];
  const json& k = r[1][0];
  CHECK(s["name"] == "task_struct");
  CHECK(k["name"] == "task_struct");
  CHECK(s["cache"] == k["cache"]);
  CHECK(s["slab"] == k["slab"]);
  CHECK(hex(s["object"]) == task);
  CHECK(s["object"] == k["object"]);
  CHECK(s["allocated"] == true);
  REQUIRE(r[2][0].contains("slab_list"));
  CHECK(r[2][0]["slab_list"][0]["slab"] == k["slab"]);
}

TEST_CASE("kmem -n, -g, -p, -m and -s ADDRESS match crash line by line", "[kmem_pages]") {
  if (const std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::vector<TruthPage> pages = present_pages(truth);
  REQUIRE(!pages.empty());
  const std::string phys = hex_text(pages[0].pfn * kPage);
  const json ps = run_json({"ps " + std::to_string(truth.role("sleeper"))})[0];
  const std::string task = hex_text(hex(ps[0]["task"]));
  const std::vector<std::string> commands = {"kmem -g", "kmem -g 7ffffc0080014", "kmem -p " + phys,
                                             // _refcount last: crash puts no blank after a
                                             // signed member's value (its columns run together).
                                             "kmem -m mapping,flags,_refcount " + phys, "kmem -p | head -100",
                                             "kmem -s " + task, "kmem -S " + task};
  // One crash run and one kdive run for all of them (crash takes seconds to
  // start): a shell echo between the commands splits the output.
  // (crash's shell escape; kdive's own echo, as its -c takes one line).
  std::string script = "kmem -n", kdive_script = "kmem -n";
  for (const std::string& c : commands) {
    script += "\n!echo KDIVE-SPLIT\n" + c;
    kdive_script += "; echo KDIVE-SPLIT; " + c;
  }
  auto pieces = [](const std::vector<std::string>& lines) {
    std::vector<std::vector<std::string>> out(1);
    for (const std::string& l : lines) {
      if (l == "KDIVE-SPLIT") {
        out.emplace_back();
      } else {
        out.back().push_back(l);
      }
    }
    return out;
  };
  std::vector<std::vector<std::string>> expected = pieces(crash_lines(script));
  KdiveRun r = run_kdive(suite(), "elf", kdive_script);
  REQUIRE(r.status == 0);
  const std::vector<std::vector<std::string>> got = pieces(trimmed_lines(r.out));
  REQUIRE(expected.size() == commands.size() + 1);
  REQUIRE(got.size() == expected.size());
  // -n: crash goes on to list the memory block devices (MEM_BLOCK), which
  // kdive leaves out; everything before them is the same.
  std::vector<std::string>& n = expected[0];
  const auto blocks =
      std::find_if(n.begin(), n.end(), [](const std::string& l) { return l.find("MEM_BLOCK") != std::string::npos; });
  REQUIRE(blocks != n.end());
  n.erase(blocks - 1, n.end());  // and the blank line before them
  CHECK(got[0] == n);
  for (size_t i = 0; i < commands.size(); ++i) {
    INFO(commands[i]);
    REQUIRE(expected[i + 1].size() >= 2);
    CHECK(got[i + 1] == expected[i + 1]);
  }
}
