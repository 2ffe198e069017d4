// `search` against what the guest knew: a task_struct address is found in the
// real_parent and parent fields of each of its children (the truth's task
// lines) and in the group_leader field of each of its threads; the workloads'
// user memory patterns (truth `pattern` lines) are found at exactly the
// addresses where the pattern puts their first word or their text, across page
// boundaries; the huge page's physical address (truth `pagemap`) holds the
// huge pattern's first word; -m masks, -s/-e/-l limits and bad input.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

Truth load_truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

uint64_t hex(const json& j) { return std::stoull(j.get<std::string>(), nullptr, 16); }

// pid -> task_struct address, from kdive's ps.
std::map<int64_t, uint64_t> task_addresses() {
  std::map<int64_t, uint64_t> out;
  for (const json& t : json_result_of(suite(), "ps")) out[t["pid"].get<int64_t>()] = hex(t["task"]);
  return out;
}

uint64_t member_offset(const std::string& member) {
  for (const json& m : json_result_of(suite(), "struct task_struct -o")) {
    if (m["member"] == member) return m["offset"].get<uint64_t>();
  }
  FAIL("task_struct has no member " << member);
  return 0;
}

std::set<uint64_t> json_hit_addresses(const std::string& command) {
  std::set<uint64_t> out;
  for (const json& h : json_result_of(suite(), command)) out.insert(hex(h["address"]));
  return out;
}

// The addresses of the "ADDRESS: VALUE" lines of a text search.
std::set<uint64_t> text_hit_addresses(const std::string& output) {
  static const std::regex hit(R"(^([0-9a-f]+): \S.*$)");
  std::set<uint64_t> out;
  std::smatch m;
  for (const std::string& line : lines_of(output)) {
    if (std::regex_match(line, m, hit)) out.insert(std::stoull(m[1], nullptr, 16));
  }
  return out;
}

// The bytes a pattern line describes: its text repeated, the last copy cut short.
std::string pattern_bytes(const TruthPattern& p) {
  std::string s;
  while (s.size() < p.bytes) s += p.text;
  s.resize(p.bytes);
  return s;
}

uint64_t first_word(const std::string& text) {
  uint64_t w = 0;
  std::memcpy(&w, text.data(), 8);
  return w;
}

// Where in the pattern's range an 8-byte aligned word equals `word`.
std::set<uint64_t> expected_word_hits(const TruthPattern& p, uint64_t word) {
  const std::string bytes = pattern_bytes(p);
  std::set<uint64_t> out;
  for (size_t off = 0; off + 8 <= bytes.size(); off += 8) {
    if (first_word(bytes.substr(off, 8)) == word) out.insert(p.address + off);
  }
  return out;
}

std::set<uint64_t> in_range(const std::set<uint64_t>& hits, uint64_t start, uint64_t end) {
  std::set<uint64_t> out;
  for (uint64_t a : hits) {
    if (a >= start && a < end) out.insert(a);
  }
  return out;
}

KdiveRun search_in(int64_t pid, const std::string& search) {
  KdiveRun r = run_kdive(suite(), "elf", fmt::format("set {}; {}", pid, search));
  REQUIRE(r.status == 0);
  return r;
}

}  // namespace

TEST_CASE("search -k finds a task's address in its children's parent fields and its threads' group_leader",
          "[search]") {
  const Truth t = load_truth();
  const auto tasks = task_addresses();
  const uint64_t real_parent = member_offset("real_parent");
  const uint64_t parent = member_offset("parent");
  const uint64_t group_leader = member_offset("group_leader");

  // init's children: every task whose parent is pid 1 (the workloads and their threads).
  const std::set<uint64_t> init_hits = json_hit_addresses(fmt::format("search -k {:x}", tasks.at(1)));
  int children = 0;
  for (const TruthTask& task : t.tasks) {
    if (task.ppid != 1) continue;
    INFO("child " << task.pid << " " << task.comm);
    const uint64_t child = tasks.at(task.pid);
    CHECK(init_hits.count(child + real_parent) == 1);
    CHECK(init_hits.count(child + parent) == 1);
    ++children;
  }
  CHECK(children >= 5);

  // The threaded workload's threads point at their leader.
  const int64_t leader = t.roles.at("threaded");
  const std::set<uint64_t> leader_hits = json_hit_addresses(fmt::format("search -K {:x}", tasks.at(leader)));
  int threads = 0;
  for (const TruthTask& task : t.tasks) {
    if (task.tgid != leader || task.pid == leader) continue;
    CHECK(leader_hits.count(tasks.at(task.pid) + group_leader) == 1);
    ++threads;
  }
  CHECK(threads == t.threads.at(leader) - 1);

  // -V leaves out the direct map, where every task_struct lives.
  const std::set<uint64_t> no_direct = json_hit_addresses(fmt::format("search -V {:x}", tasks.at(1)));
  for (const TruthTask& task : t.tasks) {
    if (task.ppid == 1) CHECK(no_direct.count(tasks.at(task.pid) + real_parent) == 0);
  }
}

TEST_CASE("search -u finds the workloads' pattern words at the pattern addresses, and only there", "[search]") {
  const Truth t = load_truth();
  REQUIRE(!t.patterns.empty());
  for (const TruthPattern& p : t.patterns) {
    INFO(p.pid << " " << p.text << " at " << std::hex << p.address);
    const uint64_t word = first_word(p.text);
    const std::set<uint64_t> expected = expected_word_hits(p, word);
    REQUIRE(!expected.empty());
    // Inside the range exactly the expected words; the whole space holds them too.
    const std::set<uint64_t> ranged = text_hit_addresses(
        search_in(p.pid, fmt::format("search -u -s {:x} -e {:x} {:x}", p.address, p.address + p.bytes, word)).out);
    CHECK(ranged == expected);
    const std::set<uint64_t> all = text_hit_addresses(search_in(p.pid, fmt::format("search -u {:x}", word)).out);
    CHECK(in_range(all, p.address, p.address + p.bytes) == expected);

    // -m: the low byte flipped is found only when the mask ignores it.
    const uint64_t flipped = word ^ 0xff;
    const std::string range = fmt::format("-s {:x} -l {}", p.address, p.bytes);
    CHECK(text_hit_addresses(search_in(p.pid, fmt::format("search -u {} -m ff {:x}", range, flipped)).out) == expected);
    CHECK(text_hit_addresses(search_in(p.pid, fmt::format("search -u {} {:x}", range, flipped)).out).empty());

    // -s one word past the first hit excludes it and keeps the next.
    const uint64_t first = *expected.begin();
    const std::set<uint64_t> after = text_hit_addresses(
        search_in(p.pid, fmt::format("search -u -s {:x} -e {:x} {:x}", first + 8, p.address + p.bytes, word)).out);
    CHECK(after.count(first) == 0);
    if (expected.size() > 1) CHECK(after.count(*std::next(expected.begin())) == 1);
  }
}

TEST_CASE("search -u -c finds every whole copy of a pattern's text, across page boundaries", "[search]") {
  const Truth t = load_truth();
  for (const TruthPattern& p : t.patterns) {
    INFO(p.pid << " " << p.text);
    std::set<uint64_t> expected;
    for (uint64_t off = 0; off + p.text.size() <= p.bytes; off += p.text.size()) expected.insert(p.address + off);
    // Copies run across 4 KiB boundaries: the text's length does not divide the page.
    REQUIRE(4096 % p.text.size() != 0);
    const KdiveRun r = search_in(p.pid, "search -u -c " + p.text);
    CHECK(in_range(text_hit_addresses(r.out), p.address, p.address + p.bytes) == expected);
  }
}

TEST_CASE("search -p finds the huge pattern's first word at the huge page's physical address", "[search]") {
  const Truth t = load_truth();
  const TruthPattern* huge = nullptr;
  for (const TruthPattern& p : t.patterns) {
    if (p.text == "KDIVE-HUGE-PATTERN") huge = &p;
  }
  const TruthPage* page = nullptr;
  for (const TruthPage& pg : t.pagemap) {
    if (huge && pg.pid == huge->pid && pg.address == huge->address && pg.kind == TruthPage::Kind::Present) page = &pg;
  }
  if (!huge || !page) KDIVE_SKIP("the fixture has no huge pattern with its page in the pagemap");
  const uint64_t phys = page->pfn * 4096;
  const uint64_t word = first_word(huge->text);
  TruthPattern first_page = *huge;
  first_page.address = phys;
  first_page.bytes = 4096;
  const std::set<uint64_t> hits = json_hit_addresses(fmt::format("search -p -s {:x} -l 4096 {:x}", phys, word));
  CHECK(hits == expected_word_hits(first_page, word));
  CHECK(hits.count(phys) == 1);
}

TEST_CASE("search: -w and -h widths, and bad input is a one-line error", "[search]") {
  const Truth t = load_truth();
  const TruthPattern& p = t.patterns.front();
  const std::string bytes = pattern_bytes(p);
  // 32-bit: aligned 4-byte words equal to the text's first four bytes.
  uint32_t w32 = 0;
  std::memcpy(&w32, bytes.data(), 4);
  std::set<uint64_t> expected;
  for (size_t off = 0; off + 4 <= bytes.size(); off += 4) {
    if (std::memcmp(bytes.data() + off, &w32, 4) == 0) expected.insert(p.address + off);
  }
  CHECK(text_hit_addresses(
            search_in(p.pid, fmt::format("search -u -w -s {:x} -l {} {:x}", p.address, p.bytes, w32)).out) == expected);
  uint16_t w16 = 0;
  std::memcpy(&w16, bytes.data(), 2);
  expected.clear();
  for (size_t off = 0; off + 2 <= bytes.size(); off += 2) {
    if (std::memcmp(bytes.data() + off, &w16, 2) == 0) expected.insert(p.address + off);
  }
  CHECK(text_hit_addresses(
            search_in(p.pid, fmt::format("search -u -h -s {:x} -l {} {:x}", p.address, p.bytes, w16)).out) == expected);

  for (const char* bad : {"search", "search -k -u 1", "search -w 100000000", "search -s 2000 -e 1000 -p 1",
                          "search -x zz 1", "search no_such_symbol_here"}) {
    INFO(bad);
    const KdiveRun r = run_kdive(suite(), "elf", bad);
    CHECK(r.status != 0);
    CHECK(lines_of(r.err).size() == 1);
  }
}

TEST_CASE("search -t finds values on each task's own kernel stack, -T on the active tasks' only", "[search]") {
  // init's task_struct address is on the stacks of the tasks it forked and of
  // those waiting on it; each hit must lie in the THREAD_SIZE-aligned stack
  // that holds the task's saved stack pointer (ps's kstackp). 32 KiB covers
  // THREAD_SIZE with and without KASAN.
  constexpr uint64_t kMaxThreadSize = 32768;
  // By task address: the idle tasks all have pid 0.
  std::map<uint64_t, json> ps;
  for (const json& t : json_result_of(suite(), "ps")) ps[hex(t["task"])] = t;
  uint64_t init = 0;
  for (const auto& [task, t] : ps) {
    if (t["pid"] == 1) init = task;
  }
  REQUIRE(init != 0);
  const json all = json_result_of(suite(), fmt::format("search -t {:x}", init));
  REQUIRE(!all.empty());
  std::set<uint64_t> with_hits;
  for (const json& task : all) {
    const uint64_t address = hex(task["task"]);
    INFO("pid " << task["pid"] << " task " << task["task"]);
    with_hits.insert(address);
    REQUIRE(!task["hits"].empty());
    const json& p = ps.at(address);
    for (const json& h : task["hits"]) {
      CHECK(hex(h["value"]) == init);
      if (!p["active"].get<bool>() && p["kstackp"].is_string()) {
        const uint64_t sp = hex(p["kstackp"]);
        CHECK(hex(h["address"]) / kMaxThreadSize == sp / kMaxThreadSize);
      }
    }
  }
  for (const json& task : json_result_of(suite(), fmt::format("search -T {:x}", init))) {
    const uint64_t address = hex(task["task"]);
    CHECK(ps.at(address)["active"].get<bool>());
    CHECK(with_hits.count(address) == 1);
  }
}

TEST_CASE("search -x shows the words around each hit as the pattern has them", "[search]") {
  const Truth t = load_truth();
  const TruthPattern& p = t.patterns.front();
  const std::string bytes = pattern_bytes(p);
  const uint64_t word = first_word(p.text);
  const KdiveRun r = search_in(p.pid, fmt::format("search -u -x 2 -s {:x} -l {} {:x}", p.address, p.bytes, word));
  static const std::regex context_line(R"(^    ([0-9a-f]+):  ([0-9a-f]{16})  .*$)");
  std::smatch m;
  int lines = 0;
  for (const std::string& line : lines_of(r.out)) {
    if (!std::regex_match(line, m, context_line)) continue;
    const uint64_t at = std::stoull(m[1], nullptr, 16);
    // Context may reach past the pattern's range on either side; check the words inside it.
    if (at < p.address || at + 8 > p.address + p.bytes) continue;
    CHECK(std::stoull(m[2], nullptr, 16) == first_word(bytes.substr(at - p.address, 8)));
    ++lines;
  }
  // Each hit inside the range brings itself and up to two words either side.
  CHECK(lines >= static_cast<int>(expected_word_hits(p, word).size()) * 3);
}

TEST_CASE("search values: a symbol and a C expression are the addresses the guest's kallsyms gives", "[search]") {
  const Truth t = load_truth();
  const uint64_t init_task = t.ksym.at("init_task");
  REQUIRE(init_task != 0);
  const std::set<uint64_t> by_number = json_hit_addresses(fmt::format("search -K {:x}", init_task));
  CHECK(!by_number.empty());
  CHECK(json_hit_addresses("search -K init_task") == by_number);
  CHECK(json_hit_addresses("search -K (init_task+0)") == by_number);
  const uint64_t tasks = init_task + member_offset("tasks");
  CHECK(json_hit_addresses("search -K &init_task.tasks") == json_hit_addresses(fmt::format("search -K {:x}", tasks)));
}
