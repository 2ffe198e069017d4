// kmem ADDRESS: what an address is, for addresses whose answer another source
// gives — a workload's task_struct (ps; the roles in truth.txt), init_task
// (the guest's /proc/kallsyms), a sleeping task's saved stack pointer (ps), a
// vmalloc area and a free page (kmem -v and kmem -F), a non-canonical address
// — and the page struct against vtop's; on bullseye the slab-object answer
// against crash's own `kmem ADDRESS`, line by line.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

std::string vmlinux() { return shell_quote((fixture_dir(suite()) / "vmlinux").string()); }
std::string vmcore() { return shell_quote((fixture_dir(suite()) / "vmcore.kdump-zlib").string()); }

json run_json(const std::string& command) {
  KdiveRun r = run_kdive_args("--json -b -c " + shell_quote(command) + " " + vmlinux() + " " + vmcore());
  INFO(command << ": " << r.err);
  REQUIRE(r.status == 0);
  json j = json::parse(lines_of(r.out).at(0));
  REQUIRE(j.contains("result"));
  return j["result"];
}

uint64_t hex(const json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }
std::string hex_text(uint64_t v) { return fmt::format("{:x}", v); }
std::string json_hex_of(uint64_t v) { return fmt::format("{:#x}", v); }

// kmem of one address: its element of the result list.
json kmem_of(const std::string& address) {
  const json r = run_json("kmem " + address);
  REQUIRE(r.is_array());
  REQUIRE(r.size() == 1);
  CHECK(hex(r[0]["address"]) == std::stoull(address, nullptr, 16));
  return r[0];
}

json ps_of(int64_t pid) {
  const json r = run_json("ps " + std::to_string(pid));
  REQUIRE(r.size() == 1);
  return r[0];
}

}  // namespace

TEST_CASE("kmem of a task_struct address: an allocated object of the task_struct cache", "[kmem_address]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const std::string role : {"sleeper", "threaded", "memory"}) {
    const int64_t pid = truth.role(role);
    const uint64_t task = hex(ps_of(pid)["task"]);
    INFO(role << " pid " << pid << " task " << hex_text(task));
    const json k = kmem_of(hex_text(task));
    REQUIRE(k["kind"] == "slab");
    CHECK(k["name"] == "task_struct");
    CHECK(hex(k["object"]) == task);
    CHECK(k["offset"] == 0);
    CHECK(k["allocated"] == true);
    CHECK(k["task"]["pid"] == pid);
    // The object lies in its slab's memory, at a whole number of slots.
    const uint64_t memory = hex(k["memory"]);
    REQUIRE(task >= memory);
    CHECK((task - memory) % k["size"].get<uint64_t>() == 0);
    // An address inside the object names the same object.
    const json inside = kmem_of(hex_text(task + 0x100));
    REQUIRE(inside["kind"] == "slab");
    CHECK(hex(inside["object"]) == task);
    CHECK(inside["offset"] == 0x100);
    // The page struct is the page of the address, as vtop finds it.
    const json v = run_json("vtop " + hex_text(task + 0x100));
    REQUIRE(v.size() == 1);
    CHECK(hex(inside["page"]["page"]) == hex(v[0]["page"]["page"]));
    CHECK(hex(inside["page"]["physical"]) == (hex(v[0]["physical"]) & ~uint64_t{0xfff}));
  }
}

TEST_CASE("kmem of init_task: the kernel data symbol, and its page as vtop's", "[kmem_address]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(truth.ksym.contains("init_task"));
  const uint64_t init_task = truth.ksym.at("init_task");  // the guest's /proc/kallsyms
  const json k = kmem_of(hex_text(init_task));
  REQUIRE(k["kind"] == "symbol");
  CHECK(k["symbol"] == "init_task");
  CHECK(k["offset"] == 0);
  const json plus = kmem_of(hex_text(init_task + 0x18));
  CHECK(plus["symbol"] == "init_task");
  CHECK(plus["offset"] == 0x18);
  const json v = run_json("vtop " + hex_text(init_task));
  REQUIRE(v.size() == 1);
  CHECK(hex(k["page"]["page"]) == hex(v[0]["page"]["page"]));
  CHECK(hex(k["page"]["physical"]) == (hex(v[0]["physical"]) & ~uint64_t{0xfff}));
}

TEST_CASE("kmem of a sleeping task's stack pointer: that task's kernel stack", "[kmem_address]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const std::string role : {"sleeper", "threaded"}) {
    const int64_t pid = truth.role(role);
    const json ps = ps_of(pid);
    REQUIRE(ps.contains("kstackp"));
    const uint64_t sp = hex(ps["kstackp"]);  // thread.sp: where the task switched out
    INFO(role << " pid " << pid << " sp " << hex_text(sp));
    const json k = kmem_of(hex_text(sp));
    REQUIRE(k["kind"] == "stack");
    CHECK(k["pid"] == pid);
    CHECK(hex(k["task"]) == hex(ps["task"]));
    CHECK(hex(k["stack"]) <= sp);
    CHECK(sp < hex(k["stack_end"]));
    REQUIRE(k["page"].is_object());
    const json v = run_json("vtop " + hex_text(sp));
    CHECK(hex(k["page"]["physical"]) == (hex(v[0]["physical"]) & ~uint64_t{0xfff}));
  }
}

TEST_CASE("kmem of an address in a vmalloc area: that area, with its caller", "[kmem_address]") {
  const json areas = run_json("kmem -v")["areas"];
  REQUIRE(areas.size() > 10);
  // Some areas are vmapped kernel stacks or modules (kmem names the task or
  // the module's symbol then, and the area beside it); the others must come
  // back as their own vmalloc area.
  std::string command = "kmem";
  std::vector<json> picked;
  for (size_t i = 0; i < areas.size() && picked.size() < 12; i += 1 + areas.size() / 12) {
    picked.push_back(areas[i]);
    command += " " + hex_text(hex(areas[i]["start"]) + 0x10);
  }
  const json r = run_json(command);
  REQUIRE(r.size() == picked.size());
  size_t as_vmalloc = 0;
  for (size_t i = 0; i < picked.size(); ++i) {
    INFO("area " << picked[i].dump() << "\nkmem: " << r[i].dump());
    const json& a = picked[i];
    if (r[i]["kind"] == "stack" || r[i]["kind"] == "symbol") {
      REQUIRE(r[i].contains("vmalloc"));
      CHECK(r[i]["vmalloc"]["start"] == a["start"]);
      CHECK(r[i]["vmalloc"]["caller"] == a["caller"]);
      continue;
    }
    REQUIRE(r[i]["kind"] == "vmalloc");
    CHECK(r[i]["start"] == a["start"]);
    CHECK(r[i]["end"] == a["end"]);
    CHECK(r[i]["vmap_area"] == a["vmap_area"]);
    CHECK(r[i]["caller"] == a["caller"]);
    ++as_vmalloc;
  }
  CHECK(as_vmalloc > 0);
}

TEST_CASE("kmem of a free page: its zone and the order of its free block", "[kmem_address]") {
  const json zones = run_json("kmem -F")["zones"];
  // One block of each (zone, order) that has one: a few dozen lookups.
  struct Pick {
    std::string page, zone;
    int order;
    std::string free_area;
  };
  std::vector<Pick> picks;
  for (const json& z : zones) {
    int last_order = -1;
    for (const json& area : z["areas"]) {
      if (!area.contains("block_pages") || area["block_pages"].empty()) continue;
      const int order = area["order"].get<int>();
      if (order == last_order) continue;
      last_order = order;
      picks.push_back({area["block_pages"][0].get<std::string>(), z["name"].get<std::string>(), order,
                       area["free_area"].get<std::string>()});
    }
  }
  REQUIRE(picks.size() >= 3);
  std::string command = "kmem";
  for (const Pick& p : picks) command += " " + p.page;
  const json r = run_json(command);
  REQUIRE(r.size() == picks.size());
  for (size_t i = 0; i < picks.size(); ++i) {
    INFO("page " << picks[i].page << " zone " << picks[i].zone << " order " << picks[i].order
                 << "\nkmem: " << r[i].dump());
    REQUIRE(r[i]["kind"] == "free_page");
    CHECK(r[i]["zone"] == picks[i].zone);
    CHECK(r[i]["order"] == picks[i].order);
    CHECK(r[i]["block_page"] == picks[i].page);
    CHECK(r[i]["free_area"] == picks[i].free_area);
    CHECK(r[i]["page"]["page"] == picks[i].page);
  }
}

TEST_CASE("kmem of a non-canonical address says so; of an unknown word, a one-line error", "[kmem_address]") {
  const json k = kmem_of("8000000000000000");
  CHECK(k["kind"] == "unknown");
  CHECK(k.contains("error"));
  CHECK(k["page"].is_null());

  KdiveRun r = run_kdive_args("-b -c " + shell_quote("kmem no_such_symbol_here") + " " + vmlinux() + " " + vmcore());
  CHECK(r.status != 0);
  CHECK(lines_of(r.err).size() == 1);
}

namespace {}  // namespace

TEST_CASE("kmem of a task_struct matches crash line by line", "[kmem_address]") {
  if (const std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::string task = hex_text(hex(ps_of(truth.role("sleeper"))["task"]));
  const std::vector<std::string> expected = crash_lines("kmem " + task);
  REQUIRE(expected.size() > 8);
  KdiveRun r = run_kdive(suite(), "elf", "kmem " + task);
  REQUIRE(r.status == 0);
  // Cache line, slab line, the object [allocated], the task, the page struct.
  CHECK(trimmed_lines(r.out) == expected);
}

TEST_CASE("kmem of per-CPU data: the CPU and the per-CPU variable", "[kmem_address]") {
  if (!have_tool("nm")) KDIVE_SKIP("binutils (nm) is not installed");
  // runqueues' offset in the per-CPU area, from the vmlinux file by binutils.
  const std::string nm = shell_output("nm " + quoted(fixture_dir(suite()) / "vmlinux") + " | grep ' runqueues$'");
  REQUIRE_FALSE(nm.empty());
  const uint64_t link = std::stoull(nm.substr(0, nm.find(' ')), nullptr, 16);
  const json offsets = run_json("kmem -o")["per_cpu_offsets"];
  REQUIRE(offsets.size() >= 2);
  std::string command = "kmem";
  for (const json& o : offsets) command += " " + hex_text(hex(o["offset"]) + link + 0x8);
  const json r = run_json(command);
  REQUIRE(r.size() == offsets.size());
  for (size_t cpu = 0; cpu < offsets.size(); ++cpu) {
    INFO("cpu " << cpu << ": " << r[cpu].dump());
    REQUIRE(r[cpu]["kind"] == "percpu");
    CHECK(r[cpu]["cpu"] == offsets[cpu]["cpu"]);
    CHECK(r[cpu]["symbol"] == "runqueues");
    CHECK(r[cpu]["offset"] == 8);
  }
}

TEST_CASE("kmem of a free slab object: free, in its cache and slab", "[kmem_address]") {
  const json caches = run_json("kmem -S kmalloc-64");
  REQUIRE(caches.size() == 1);
  const json& c = caches[0];
  // A free object and an allocated one of each kind of slab that has them.
  std::vector<std::pair<std::string, bool>> picks;  // object, allocated
  std::vector<json> slabs;
  for (const json& s : c["slab_list"]) {
    if (!s["free_objects"].empty()) {
      picks.emplace_back(s["free_objects"].back().get<std::string>(), false);
      slabs.push_back(s);
    }
    if (!s["allocated_objects"].empty()) {
      picks.emplace_back(s["allocated_objects"].front().get<std::string>(), true);
      slabs.push_back(s);
    }
    if (picks.size() >= 10) break;
  }
  REQUIRE(picks.size() >= 2);
  std::string command = "kmem";
  for (const auto& p : picks) command += " " + hex_text(hex(json(p.first)) + 8);
  const json r = run_json(command);
  REQUIRE(r.size() == picks.size());
  size_t free = 0;
  for (size_t i = 0; i < picks.size(); ++i) {
    INFO("object " << picks[i].first << " of slab " << slabs[i].dump() << "\nkmem: " << r[i].dump());
    REQUIRE(r[i]["kind"] == "slab");
    CHECK(r[i]["name"] == "kmalloc-64");
    CHECK(r[i]["cache"] == c["cache"]);
    CHECK(r[i]["object"] == picks[i].first);
    CHECK(r[i]["offset"] == 8);
    CHECK(r[i]["slab"] == slabs[i]["slab"]);
    CHECK(r[i]["allocated"] == picks[i].second);
    free += picks[i].second ? 0 : 1;
  }
  CHECK(free > 0);
}

TEST_CASE("kmem of a page of a mapped file: a page-cache page, its inode and index", "[kmem_address]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  // The files workload maps /tmp/kdive/mapped.bin at 0x7f0000000000 (3 pages,
  // offset 0, all touched): the second page is the file's page 1.
  const std::string command = "set " + std::to_string(truth.role("files")) + " > /dev/null; vtop 0x7f0000001000";
  KdiveRun v = run_kdive_args("--json -b -c " + shell_quote(command) + " " + vmlinux() + " " + vmcore());
  REQUIRE(v.status == 0);
  const json vt = json::parse(lines_of(v.out).back())["result"][0];
  REQUIRE(vt.contains("page"));
  const uint64_t physical = hex(vt["physical"]);
  REQUIRE(truth.kvar.contains("page_offset_base"));
  const uint64_t direct = truth.kvar.at("page_offset_base") + physical + 0x20;  // the guest's own direct map
  const json r = run_json("kmem " + vt["page"]["page"].get<std::string>() + " " + hex_text(direct));
  REQUIRE(r.size() == 2);
  for (const json& k : r) {
    INFO(k.dump());
    REQUIRE(k["kind"] == "page_cache");
    CHECK(k["name"] == "mapped.bin");
    CHECK(k["index"] == 1);
    CHECK(hex(k["mapping"]) == hex(vt["page"]["mapping"]));
    CHECK(k["page"]["page"] == vt["page"]["page"]);
    CHECK(hex(k["page"]["physical"]) == (physical & ~uint64_t{0xfff}));
  }
}

namespace {

std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

TEST_CASE("kmem of a free page agrees with crash on zone, free area, block and page", "[kmem_address]") {
  if (const std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  // The last order-0 block of the first zone with one, and an order >= 1 block.
  std::vector<std::string> pages;
  const json free_lists = run_json("kmem -F");
  for (const json& z : free_lists["zones"]) {
    for (const json& area : z["areas"]) {
      if (!area.contains("block_pages") || area["block_pages"].empty()) continue;
      if (pages.size() == 0 && area["order"] == 0) pages.push_back(area["block_pages"].back().get<std::string>());
      if (pages.size() == 1 && area["order"] >= 1) pages.push_back(area["block_pages"].front().get<std::string>());
    }
  }
  REQUIRE(pages.size() == 2);
  // And the second page of the larger block, by its direct-map address.
  REQUIRE(truth.kvar.contains("page_offset_base"));
  const uint64_t block_physical = hex(run_json("kmem " + pages[1])[0]["page"]["physical"]);
  pages.push_back(json_hex_of(truth.kvar.at("page_offset_base") + block_physical + 4096 + 0x40));
  for (const std::string& p : pages) {
    const std::string page = hex_text(hex(json(p)));
    INFO("page " << page);
    const std::vector<std::string> expected = crash_lines("kmem " + page);
    KdiveRun r = run_kdive(suite(), "elf", "kmem " + page);
    REQUIRE(r.status == 0);
    const std::vector<std::string> got = trimmed_lines(r.out);
    INFO("kdive said:\n" << r.out);
    // crash: ZONE header, zone line, AREA header, area line, block page, "", PAGE header, page line.
    REQUIRE(expected.size() == 8);
    REQUIRE(got.size() == 8);
    const auto zone_c = words_of(expected[1]), zone_k = words_of(got[1]);
    REQUIRE(zone_c.size() >= 5);
    REQUIRE(zone_k.size() >= 5);
    // Index, name, SIZE, FREE, MEM_MAP (START_PADDR/START_MAPNR: crash counts from the zone's first page).
    CHECK(std::vector(zone_k.begin(), zone_k.begin() + 5) == std::vector(zone_c.begin(), zone_c.begin() + 5));
    const auto area_c = words_of(expected[3]), area_k = words_of(got[3]);
    REQUIRE(area_k.size() >= 3);
    CHECK(std::vector(area_k.begin(), area_k.begin() + 3) == area_c);
    CHECK(got[4] == expected[4]);  // the block's first page ("is 2nd of 8 pages" for a later one)
    CHECK(got[6] == expected[6]);
    CHECK(got[7] == expected[7]);
  }
}

TEST_CASE("kmem of an object whose slab names no cache: not a slab object, and no other guess", "[kmem_address]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::string task = hex_text(hex(ps_of(truth.role("sleeper"))["task"]));
  const json before = kmem_of(task);
  REQUIRE(before["kind"] == "slab");
  const kdive::VirtAddr slab{hex(before["slab"])};
  // struct slab from 5.17, the slab fields of struct page before.
  uint64_t offset = 0;
  try {
    offset = member_offset(suite(), "struct slab", "slab_cache");
  } catch (const std::runtime_error&) {
    offset = member_offset(suite(), "struct page", "slab_cache");
  }
  DamagedDump d = DamagedDump::copy_of(suite(), "elf");
  // Another kernel object's address: readable, but no cache on slab_caches.
  d.write_u64(slab + offset, truth.ksym.at("init_task"));
  KdiveRun r = d.run("kmem " + task, "--json");
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const json after = json::parse(lines_of(r.out).at(0))["result"][0];
  CHECK(after["kind"] == "unknown");
  CHECK(after["page"]["page"] == before["page"]["page"]);
}
