// Processes' memory maps against the guest's own /proc: `vm PID` lists the
// VMAs of /proc/PID/maps (truth `map` lines), `vm -p` finds the memory
// workload's pages where /proc/self/pagemap saw them — in memory at the same
// PFN, or on the swap device at the same type and offset — `swap` shows
// /proc/swaps' device, `pte` decodes a swapped page's raw PTE, and a damaged
// VMA tree still shows every VMA it can reach, with a marker and exit 3.
// On bullseye, `vm` is compared with crash line by line.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using kdive::VirtAddr;
using nlohmann::json;

namespace {

Truth load_truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

// One /proc/PID/maps line: "start-end perms offset dev inode   path".
struct MapLine {
  uint64_t start, end, offset;
  std::string perms, path;
};

MapLine parse_map(const std::string& line) {
  std::istringstream in(line);
  std::string range, dev, inode;
  MapLine m;
  in >> range >> m.perms >> std::hex >> m.offset >> dev >> inode;
  std::getline(in, m.path);
  m.path.erase(0, m.path.find_first_not_of(' '));
  while (!m.path.empty() && m.path.back() == ' ') m.path.pop_back();
  const auto dash = range.find('-');
  m.start = std::stoull(range.substr(0, dash), nullptr, 16);
  m.end = std::stoull(range.substr(dash + 1), nullptr, 16);
  return m;
}

std::vector<MapLine> truth_maps(const Truth& t, int64_t pid) {
  std::vector<MapLine> out;
  auto [from, to] = t.maps.equal_range(pid);
  for (auto it = from; it != to; ++it) out.push_back(parse_map(it->second));
  return out;
}

// kdive --json on this suite's kdump dump; `command` is one command.
json run_json(const std::string& command, int expected_status = 0) {
  const auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(command) + " " + shell_quote((dir / "vmlinux").string()) +
                              " " + shell_quote((dir / "vmcore.kdump-zlib").string()));
  INFO(command << "\n" << r.err);
  REQUIRE(r.status == expected_status);
  json j = json::parse(r.out, nullptr, false);
  REQUIRE(!j.is_discarded());
  return j;
}

// The VMAs of a `vm` JSON result for one task.
json vmas_of(const json& j) {
  REQUIRE(j["result"].size() == 1);
  return j["result"][0]["vmas"];
}

// A VMA as kdive shows it must be the maps line: start, end, permissions, and
// the file (/proc names special mappings in brackets: kdive has no file for them).
void check_vma(const json& v, const MapLine& m) {
  INFO("VMA " << v.dump() << " vs maps " << fmt::format("{:x}-{:x} {} {}", m.start, m.end, m.perms, m.path));
  REQUIRE(!v.contains("error"));
  CHECK(hex(v["start"]) == m.start);
  CHECK(hex(v["end"]) == m.end);
  CHECK(v["permissions"] == m.perms);
  if (m.path.empty() || m.path.front() == '[') {
    CHECK(v["file"].is_null());
  } else {
    CHECK(v["file"] == m.path);
    CHECK(v["pgoff"].get<uint64_t>() * 4096 == m.offset);
  }
}

std::set<int64_t> workload_pids(const Truth& t) {
  std::set<int64_t> pids;
  for (const auto& [role, pid] : t.roles) {
    if (role != "panic" && t.maps.count(pid)) pids.insert(pid);
  }
  return pids;
}

}  // namespace

TEST_CASE("vm lists each workload process's VMAs as its /proc/PID/maps", "[vmas]") {
  const Truth t = load_truth();
  const auto pids = workload_pids(t);
  REQUIRE(!pids.empty());
  for (int64_t pid : pids) {
    SECTION("pid " + std::to_string(pid)) {
      const auto maps = truth_maps(t, pid);
      json vmas = vmas_of(run_json(fmt::format("vm {}", pid)));
      if (t.roles.count("oom") && t.roles.at("oom") == pid) {
        // The OOM workload maps the memory that exhausts the guest after its
        // maps were printed: each printed VMA must be there, with more beside.
        size_t next = 0;
        for (const MapLine& m : maps) {
          while (next < vmas.size() && hex(vmas[next]["start"]) != m.start) ++next;
          REQUIRE(next < vmas.size());
          check_vma(vmas[next], m);
        }
        CHECK(vmas.size() > maps.size());
      } else {
        REQUIRE(vmas.size() == maps.size());
        for (size_t i = 0; i < maps.size(); ++i) check_vma(vmas[i], maps[i]);
      }
    }
  }
}

TEST_CASE("vm text: one row per VMA with start, end and file", "[vmas]") {
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  KdiveRun r = run_kdive(suite(), "kdump-zlib", fmt::format("vm {}", pid));
  REQUIRE(r.status == 0);
  const std::regex row(R"(^([0-9a-f]{16}) +([0-9a-f]+) +([0-9a-f]+) ([0-9a-f]+) (.*)$)");
  std::vector<std::smatch> rows;
  std::vector<std::string> lines = lines_of(r.out);
  size_t matched = 0;
  const auto maps = truth_maps(t, pid);
  for (const std::string& line : lines) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    REQUIRE(matched < maps.size());
    const MapLine& want = maps[matched++];
    CHECK(std::stoull(m[2], nullptr, 16) == want.start);
    CHECK(std::stoull(m[3], nullptr, 16) == want.end);
    CHECK(m[5] == ((want.path.empty() || want.path.front() == '[') ? "" : want.path));
  }
  CHECK(matched == maps.size());
}

TEST_CASE("vm -p finds the memory workload's pages where pagemap saw them", "[vmas]") {
  const Truth t = load_truth();
  if (t.pagemap.empty()) KDIVE_SKIP("this fixture's truth has no pagemap records");
  const int64_t pid = t.role("memory");
  std::map<uint64_t, json> pages;  // virtual -> page
  for (const TruthPage& p : t.pagemap) {
    if (pages.count(p.address)) continue;
    json vmas = vmas_of(run_json(fmt::format("vm -p -R {:x} {}", p.address, pid)));
    REQUIRE(vmas.size() == 1);
    for (const json& page : vmas[0]["pages"]) pages[hex(page["virtual"])] = page;
  }
  size_t swapped = 0;
  for (const TruthPage& p : t.pagemap) {
    INFO(fmt::format("page {:x}", p.address));
    REQUIRE(pages.count(p.address));
    const json& page = pages[p.address];
    switch (p.kind) {
      case TruthPage::Kind::Present:
        REQUIRE(!page["physical"].is_null());
        CHECK(hex(page["physical"]) == p.pfn << 12);
        break;
      case TruthPage::Kind::Swap: {
        ++swapped;
        CHECK(page["physical"].is_null());
        REQUIRE(page.contains("swap"));
        CHECK(page["swap"]["type"] == p.swap_type);
        CHECK(page["swap"]["offset"] == p.swap_offset);
        REQUIRE(p.swap_type < t.swaps.size());  // /proc/swaps lists the devices in swap_info order
        CHECK(page["swap"]["device"] == t.swaps[p.swap_type].path);
        break;
      }
      case TruthPage::Kind::None:
        CHECK(page["physical"].is_null());
        CHECK(!page.contains("swap"));
        break;
    }
  }
  // A fixture without swap has its pages present: nothing to find on a device.
  if (t.swaps.empty()) CHECK(swapped == 0);
}

// /proc/PID/smaps counts a mapping's resident and swapped pages by walking
// its page table, as vm -p does: the two must agree page for page.
TEST_CASE("vm -p: each mapping's present and swapped pages are smaps' Rss and Swap", "[vmas]") {
  const Truth t = load_truth();
  if (t.smaps.empty()) KDIVE_SKIP("this fixture's truth has no smaps records");
  // smaps' Rss counts only pages vm_normal_page() accepts: never the shared
  // zero page (a read fault of untouched anonymous memory maps it), so pages
  // at its physical address are left out of kdive's count too.
  const json zero = run_json("vtop empty_zero_page");
  REQUIRE(!zero["result"][0]["physical"].is_null());
  const uint64_t zero_page = hex(zero["result"][0]["physical"]);
  constexpr uint64_t kVmIo = 0x4000, kVmPfnmap = 0x400, kVmHugetlb = 0x400000;
  size_t compared = 0;
  for (const auto& [pid, mappings] : t.smaps) {
    json vmas = vmas_of(run_json(fmt::format("vm -p {}", pid)));
    for (const json& v : vmas) {
      const std::string range = fmt::format("{:x}-{:x}", hex(v["start"]), hex(v["end"]));
      INFO("pid " << pid << " " << range);
      REQUIRE(!v.contains("error"));
      // hugetlb pages count in smaps' Private_Hugetlb, not Rss; a PFN or I/O
      // mapping ([vvar]) has no struct pages for smaps to count.
      const uint64_t flags = hex(v["flags"]);
      if ((flags & (kVmIo | kVmPfnmap | kVmHugetlb)) != 0) continue;
      // smaps pads the start and end to 8 digits at least.
      std::string key = fmt::format("{:08x}-{:08x}", hex(v["start"]), hex(v["end"]));
      REQUIRE(mappings.count(key));
      uint64_t present = 0, swapped = 0;
      for (const json& page : v["pages"]) {
        if (page.contains("swap")) ++swapped;
        if (!page["physical"].is_null() && hex(page["physical"]) != zero_page) ++present;
      }
      CHECK(present * 4 == mappings.at(key).at("Rss"));
      CHECK(swapped * 4 == mappings.at(key).at("Swap"));
      ++compared;
    }
  }
  CHECK(compared > 0);
}

TEST_CASE("the hugetlb page maps to pagemap's PFN with a 2 MiB page", "[vmas]") {
  const Truth t = load_truth();
  if (t.hugepages.empty()) KDIVE_SKIP("this fixture's truth has no hugepage record");
  for (const TruthHugePage& h : t.hugepages) {
    const auto p =
        std::find_if(t.pagemap.begin(), t.pagemap.end(), [&](const TruthPage& p) { return p.address == h.address; });
    REQUIRE(p != t.pagemap.end());
    REQUIRE(p->kind == TruthPage::Kind::Present);
    json j = run_json(fmt::format("vtop -c {} {:x}", h.pid, h.address));
    const json& r = j["result"][0];
    CHECK(r["page_size"].get<uint64_t>() == h.kb * 1024);
    CHECK(hex(r["physical"]) == p->pfn << 12);
    CHECK(hex(r["vma"]["start"]) == h.address);
    CHECK(r["vma"]["file"].get<std::string>().find("anon_hugepage") != std::string::npos);
  }
}

TEST_CASE("swap lists the swap devices of /proc/swaps", "[vmas]") {
  const Truth t = load_truth();
  json j = run_json("swap");
  const json& devices = j["result"];
  REQUIRE(devices.size() == t.swaps.size());
  for (size_t i = 0; i < t.swaps.size(); ++i) {
    const TruthSwap& want = t.swaps[i];
    const json& d = devices[i];
    INFO(d.dump());
    CHECK(d["filename"] == want.path);
    CHECK(d["type"] == (want.type == "partition" ? "PARTITION" : "FILE"));
    CHECK(d["size"].get<uint64_t>() == want.size_kb);
    CHECK(d["priority"].get<int64_t>() == want.priority);
    // Used pages may change between the guest's print and the crash: reclaim
    // may push out more, a fault may bring a page back in (freeing its slot
    // only under pressure). The workloads are idle by then; allow 1 MiB.
    const auto used = d["used"].get<int64_t>();
    CHECK(std::llabs(used - static_cast<int64_t>(want.used_kb)) <= 1024);
    // The memory workload's own pages are on the device at least.
    size_t swapped = std::count_if(t.pagemap.begin(), t.pagemap.end(), [&](const TruthPage& p) {
      return p.kind == TruthPage::Kind::Swap && p.swap_type == i;
    });
    CHECK(used >= static_cast<int64_t>(swapped * 4));
  }
}

TEST_CASE("pte decodes a swapped page's raw PTE to its swap entry", "[vmas]") {
  const Truth t = load_truth();
  const auto p = std::find_if(t.pagemap.begin(), t.pagemap.end(),
                              [](const TruthPage& p) { return p.kind == TruthPage::Kind::Swap; });
  if (p == t.pagemap.end()) KDIVE_SKIP("no page of this fixture's truth is swapped out");
  json vtop = run_json(fmt::format("vtop -c {} {:x}", p->pid, p->address));
  const json& r = vtop["result"][0];
  REQUIRE(r.contains("swap"));
  const std::string pte = r["levels"].back()["entry"];
  json j = run_json("pte " + pte);
  const json& d = j["result"][0];
  CHECK(d["pte"] == pte);
  REQUIRE(d.contains("swap"));
  CHECK(d["swap"]["type"] == p->swap_type);
  CHECK(d["swap"]["offset"] == p->swap_offset);
  CHECK(d["swap"]["device"] == t.swaps.at(p->swap_type).path);
  // The text names the device and offset as vtop's SWAP line does.
  KdiveRun text = run_kdive(suite(), "kdump-zlib", fmt::format("vtop -c {} {:x}", p->pid, p->address));
  CHECK(text.out.find(fmt::format("SWAP: {}  OFFSET: {}", t.swaps[p->swap_type].path, p->swap_offset)) !=
        std::string::npos);
}

// One link of kd-memory's VMA tree or list zeroed in a copy of the dump: vm
// prints every VMA it can still reach (each one of /proc/PID/maps), marks
// where it lost the rest, and exits with the data-lost status.
TEST_CASE("vm over a damaged VMA tree shows what it reaches and a marker", "[vmas]") {
  const Truth t = load_truth();
  const int64_t pid = t.role("memory");
  const auto maps = truth_maps(t, pid);
  const VirtAddr task = task_address(suite(), pid);
  const uint64_t mm = print_value(suite(), fmt::format("((struct task_struct *){:#x})->mm", task.value()));
  DamagedDump d = DamagedDump::copy_of(suite(), "elf");
  bool list_kernel = false;
  try {
    member_offset(suite(), "struct mm_struct", "mm_mt");
  } catch (const std::runtime_error&) {
    list_kernel = true;
  }
  if (list_kernel) {
    // 5.10: the third VMA's vm_next zeroed ends the list early; the rbtree
    // still holds the rest.
    const uint64_t first = print_value(suite(), fmt::format("((struct mm_struct *){:#x})->mmap", mm));
    const uint64_t third =
        print_value(suite(), fmt::format("((struct vm_area_struct *){:#x})->vm_next->vm_next", first));
    d.write_u64(VirtAddr{third + member_offset(suite(), "struct vm_area_struct", "vm_next")}, 0);
  } else {
    // 6.1+: the first leaf below the root node, zeroed whole (256 bytes:
    // maple nodes are 256-byte aligned).
    const uint64_t root = print_value(suite(), fmt::format("((struct mm_struct *){:#x})->mm_mt.ma_root", mm));
    REQUIRE((root & 2) == 2);  // a node, not a single entry: kd-memory has a dozen VMAs
    const uint64_t node = root & ~0xffull;
    const uint64_t leaf =
        print_value(suite(), fmt::format("((struct maple_arange_64 *){:#x})->slot[0]", node)) & ~0xffull;
    d.zero(VirtAddr{leaf}, 256);
  }
  KdiveRun r = d.run(fmt::format("vm {}", pid), "--json");
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  json j = json::parse(r.out, nullptr, false);
  REQUIRE(!j.is_discarded());
  json vmas = vmas_of(j);
  size_t markers = 0, shown = 0;
  for (const json& v : vmas) {
    if (v.contains("error")) {
      ++markers;
      continue;
    }
    const auto m = std::find_if(maps.begin(), maps.end(), [&](const MapLine& m) { return m.start == hex(v["start"]); });
    REQUIRE(m != maps.end());
    check_vma(v, *m);
    ++shown;
  }
  CHECK(markers >= 1);
  if (list_kernel) {
    CHECK(shown == maps.size());  // the rbtree gives back what the list lost
  } else {
    CHECK(shown > 0);
    CHECK(shown < maps.size());  // the zeroed leaf's VMAs are gone
  }
  KdiveRun text = d.run(fmt::format("vm {}", pid));
  CHECK(text.out.find("(damaged: ") != std::string::npos);
}

namespace {}  // namespace

// Debian's crash 8.0.2 reads only the 5.10 fixture. Deliberate differences:
//  * RSS: kdive adds the per-task counters not yet folded into the mm (5.10's
//    SPLIT_RSS_COUNTING), as its ps does; crash reads the mm's alone. The
//    MM, PGD and TOTAL_VM columns must match.
//  * vm -p: crash's line for a file page not in memory is kept; the pte
//    and vtop swap lines are crash's.
//  * A pseudo file (the hugetlb mapping) is named as /proc/PID/maps names it,
//    "/anon_hugepage (deleted)"; crash prints the dentry's name alone.
TEST_CASE("vm matches crash line by line on bullseye", "[vmas][crash]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("crash is not installed");
  const Truth t = load_truth();
  const int64_t memory = t.role("memory");
  const auto swapped = std::find_if(t.pagemap.begin(), t.pagemap.end(),
                                    [](const TruthPage& p) { return p.kind == TruthPage::Kind::Swap; });
  std::vector<std::string> commands = {fmt::format("vm {}", memory), fmt::format("vm {}", t.role("files")),
                                       fmt::format("vm -p {}", memory), "foreach vm"};
  if (swapped != t.pagemap.end()) commands.push_back(fmt::format("vtop -c {} {:x}", swapped->pid, swapped->address));
  for (const std::string& command : commands) {
    SECTION(command) {
      auto want = lines_of(run_crash(command));
      auto got = lines_of(run_kdive(suite(), "elf", command).out);
      // crash ends vtop with an empty line.
      while (!want.empty() && want.back().empty()) want.pop_back();
      while (!got.empty() && got.back().empty()) got.pop_back();
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        INFO("line " << i << "\ncrash: " << want[i] << "\nkdive: " << got[i]);
        if (i > 0 && want[i - 1].rfind("       MM ", 0) == 0) {  // MM PGD RSS TOTAL_VM
          std::istringstream w(want[i]), g(got[i]);
          std::string wmm, wpgd, wrss, wtotal, gmm, gpgd, grss, gtotal;
          w >> wmm >> wpgd >> wrss >> wtotal;
          g >> gmm >> gpgd >> grss >> gtotal;
          CHECK(gmm == wmm);
          CHECK(gpgd == wpgd);
          CHECK(gtotal == wtotal);
          continue;
        }
        if (got[i] != want[i]) {
          // Only the file name of a pseudo file may differ.
          const auto space = want[i].rfind(' ');
          const std::string name = want[i].substr(space + 1);
          CHECK(!name.empty());
          CHECK(name.front() != '/');
          CHECK(got[i] == want[i].substr(0, space + 1) + "/" + name + " (deleted)");
        }
      }
    }
  }
}
