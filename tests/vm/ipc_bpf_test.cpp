// ipcs, bpf and sbitmapq on real crashed kernels: the SysV objects against
// the guest's own /proc/sysvipc/* (the truth's `sysvipc` lines), the BPF
// program and map against the ids and attributes the bpf workload got from
// the kernel (`bpf` lines), a blk-mq tag bitmap of the guest's virtio disk
// against its own members read through `p`, the JSON of each, and on
// bullseye the text against the crash utility line by line.
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "crash_compare.hpp"
#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

Truth truth() { return Truth::load(fixture_dir(suite()) / "truth.txt"); }

// The truth's /proc/sysvipc line of that kind and key; a fixture built
// before the truth had them has none (the test case then skips).
const TruthSysvipc* sysv(const Truth& t, const std::string& kind, uint32_t key) { return t.sysvipc_object(kind, key); }

// The one JSON object of `kind` with this key.
json ipc_object(const json& r, const std::string& kind, uint32_t key) {
  REQUIRE(r[kind].is_array());
  json found;
  int n = 0;
  for (const json& o : r[kind]) {
    if (o["key"].get<uint32_t>() == key) {
      found = o;
      ++n;
    }
  }
  REQUIRE(n == 1);
  return found;
}

// The text row of an object: "<address> <key %08x> <id> <uid> <perms> ...".
std::vector<std::string> text_row(const std::string& text, uint32_t key) {
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", key);
  for (const std::string& line : lines_of(text)) {
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string word; in >> word;) w.push_back(word);
    if (w.size() >= 2 && w[1] == hex) return w;
  }
  FAIL("no row with key " << hex << " in:\n" << text);
  return {};
}

// A value of `p EXPR` ("$1 = 256" or "$1 = (struct x *) 0xffff...").
uint64_t p_value(const std::string& expr) {
  const std::string out = kdive_ok("p " + expr);
  static const std::regex number(R"(= (?:\([^)]*\) )?(0x[0-9a-f]+|-?[0-9]+))");
  std::smatch m;
  INFO("p " << expr << ": " << out);
  REQUIRE(std::regex_search(out, m, number));
  return std::stoull(m[1].str(), nullptr, 0);
}

std::string fmt_hex(uint64_t v) {
  std::ostringstream o;
  o << std::hex << v;
  return o.str();
}

// The struct sbitmap_queue of the guest's virtio disk's first hardware
// queue's tags. The newest inode of the block device superblock is in the
// struct bdev_inode of the guest's (last) virtio disk, whose
// bd_disk's queue's tag set has the tags. bitmap_tags is a pointer (to
// __bitmap_tags or a shared one) in 5.10 and the structure itself from 5.16.
const std::string kDisk =
    "((struct bdev_inode *)((char *)blockdev_superblock->s_inodes.next - (unsigned long)&((struct bdev_inode *)0)"
    "->vfs_inode.i_sb_list))->bdev.bd_disk";
const std::string kTags = kDisk + "->queue->tag_set->tags[0]";
uint64_t disk_sbitmap_queue() {
  if (kdive_ok("whatis " + kTags + "->bitmap_tags").find('*') != std::string::npos) {
    return p_value(kTags + "->bitmap_tags");
  }
  return p_value("&" + kTags + "->bitmap_tags");
}

}  // namespace

TEST_CASE("ipcs lists the guest's SysV objects as /proc/sysvipc shows them", "[ipc_bpf]") {
  const Truth t = truth();
  if (!sysv(t, "shm", system_state::kShmKey) || !sysv(t, "sem", system_state::kSemKey) ||
      !sysv(t, "msg", system_state::kMsgKey)) {
    KDIVE_SKIP("this fixture's truth has no /proc/sysvipc lines (built before they were added)");
  }
  const TruthSysvipc& shm = *sysv(t, "shm", system_state::kShmKey);
  const TruthSysvipc& sem = *sysv(t, "sem", system_state::kSemKey);
  const TruthSysvipc& msg = *sysv(t, "msg", system_state::kMsgKey);

  const json r = json_result_of(suite(), "ipcs");
  for (const char* key : {"namespace", "shm", "sem", "msg"}) REQUIRE(r.contains(key));
  const std::string text = kdive_ok("ipcs");

  // /proc/sysvipc/shm: perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap
  {
    INFO("shm: " << shm.rest);
    const auto c = shm.columns();
    const json o = ipc_object(r, "shm", shm.key);
    CHECK(o["error"].is_null());
    CHECK(o["id"].get<int64_t>() == shm.id);
    CHECK(o["perms"].get<uint32_t>() == std::stoul(c.at(0), nullptr, 8));
    CHECK(o["bytes"].get<uint64_t>() == std::stoull(c.at(1)));
    CHECK(o["nattch"].get<uint64_t>() == std::stoull(c.at(4)));
    CHECK(o["uid"].get<uint64_t>() == std::stoull(c.at(5)));
    CHECK(o["gid"].get<uint64_t>() == std::stoull(c.at(6)));
    // rss and swap are in bytes in /proc (shm_add_rss_swap); the workload
    // touched every page before the truth was taken and nothing runs after.
    if (c.size() >= 14) {
      CHECK(o["pages_resident"].get<uint64_t>() * 4096 == std::stoull(c.at(12)));
      CHECK(o["pages_swapped"].get<uint64_t>() * 4096 == std::stoull(c.at(13)));
    }
    const auto row = text_row(text, shm.key);
    REQUIRE(row.size() >= 7);
    CHECK(row[0] == o["object"].get<std::string>().substr(2));
    CHECK(row[2] == std::to_string(shm.id));
    CHECK(row[4] == c.at(0));
    CHECK(row[5] == c.at(1));
    CHECK(row[6] == c.at(4));
  }
  // /proc/sysvipc/sem: perms nsems uid gid cuid cgid otime ctime
  {
    INFO("sem: " << sem.rest);
    const auto c = sem.columns();
    const json o = ipc_object(r, "sem", sem.key);
    CHECK(o["id"].get<int64_t>() == sem.id);
    CHECK(o["perms"].get<uint32_t>() == std::stoul(c.at(0), nullptr, 8));
    CHECK(o["nsems"].get<uint64_t>() == std::stoull(c.at(1)));
    CHECK(o["nsems"].get<uint64_t>() == static_cast<uint64_t>(system_state::kSemCount));
    CHECK(o["uid"].get<uint64_t>() == std::stoull(c.at(2)));
    const auto row = text_row(text, sem.key);
    REQUIRE(row.size() == 6);
    CHECK(row[2] == std::to_string(sem.id));
    CHECK(row[5] == c.at(1));
  }
  // /proc/sysvipc/msg: perms cbytes qnum lspid lrpid uid gid cuid cgid ...
  {
    INFO("msg: " << msg.rest);
    const auto c = msg.columns();
    const json o = ipc_object(r, "msg", msg.key);
    CHECK(o["id"].get<int64_t>() == msg.id);
    CHECK(o["perms"].get<uint32_t>() == std::stoul(c.at(0), nullptr, 8));
    CHECK(o["used_bytes"].get<uint64_t>() == std::stoull(c.at(1)));
    CHECK(o["messages"].get<uint64_t>() == std::stoull(c.at(2)));
    CHECK(o["uid"].get<uint64_t>() == std::stoull(c.at(5)));
    const auto row = text_row(text, msg.key);
    REQUIRE(row.size() == 7);
    CHECK(row[5] == c.at(1));
    CHECK(row[6] == c.at(2));
  }
}

TEST_CASE("ipcs: one kind, -M page counts, an id, an address, another task's namespace", "[ipc_bpf]") {
  const Truth t = truth();
  if (!sysv(t, "shm", system_state::kShmKey) || !sysv(t, "sem", system_state::kSemKey)) {
    KDIVE_SKIP("this fixture's truth has no /proc/sysvipc lines (built before they were added)");
  }
  const TruthSysvipc& shm = *sysv(t, "shm", system_state::kShmKey);
  const TruthSysvipc& sem = *sysv(t, "sem", system_state::kSemKey);

  const json m = json_result_of(suite(), "ipcs -m");
  CHECK(m["sem"].is_null());
  CHECK(m["msg"].is_null());
  const json o = ipc_object(m, "shm", shm.key);

  // -M: the segment's pages — allocated is the size in pages, resident is
  // its inode's page cache — and that inode, which `files`-style reading of
  // the shm_file must reach: shm_file->f_inode is the same inode.
  const std::string verbose = kdive_ok("ipcs -M");
  const uint64_t pages = (std::stoull(shm.columns().at(1)) + 4095) / 4096;
  const std::regex line("PAGES ALLOCATED/RESIDENT/SWAPPED: " + std::to_string(pages) + "/" +
                        std::to_string(o["pages_resident"].get<uint64_t>()) + "/[0-9]+");
  CHECK(std::regex_search(verbose, line));
  const std::string inode = o["inode"].get<std::string>();
  CHECK(verbose.find("INODE: " + inode.substr(2)) != std::string::npos);
  // The inode is the shm file's own, as the kernel's struct file says.
  const std::string object = o["object"].get<std::string>();
  CHECK(p_value("((struct shmid_kernel *)" + object + ")->shm_file->f_inode") == json_hex(o["inode"]));

  // By id: that one object of each kind asked for; by address: the same.
  const json by_id = json_result_of(suite(), "ipcs -s " + std::to_string(sem.id));
  REQUIRE(by_id["sem"].size() == 1);
  CHECK(by_id["sem"][0]["key"].get<uint32_t>() == sem.key);
  const json by_address = json_result_of(suite(), "ipcs -m " + object.substr(2));
  REQUIRE(by_address["shm"].size() == 1);
  CHECK(by_address["shm"][0]["id"].get<int64_t>() == shm.id);
  CHECK(kdive_ok("ipcs -q 99999").find("invalid id or address: 99999") != std::string::npos);

  // The ipc workload lives in the initial IPC namespace: -n PID names it.
  const int64_t pid = t.role("ipc");
  const json n = json_result_of(suite(), "ipcs -n " + std::to_string(pid));
  CHECK(n["namespace"] == m["namespace"]);
  CHECK(json_hex(n["namespace"]) == p_value("&init_ipc_ns"));
  CHECK(ipc_object(n, "shm", shm.key)["object"] == o["object"]);
}

TEST_CASE("bpf lists the loaded program and map by id", "[ipc_bpf]") {
  const Truth t = truth();
  const TruthBpf* prog = t.bpf_object(false, system_state::kBpfProg);
  const TruthBpf* map = t.bpf_object(true, system_state::kBpfMap);
  if (prog == nullptr || map == nullptr)
    KDIVE_SKIP("this fixture's truth has no bpf lines (built before they were added)");

  const json r = json_result_of(suite(), "bpf");
  REQUIRE(r["programs"].is_array());
  REQUIRE(r["maps"].is_array());
  json p, m;
  for (const json& e : r["programs"]) {
    if (e["id"].get<uint32_t>() == prog->id) p = e;
  }
  for (const json& e : r["maps"]) {
    if (e["id"].get<uint32_t>() == map->id) m = e;
  }
  REQUIRE(p.is_object());
  REQUIRE(m.is_object());
  CHECK(p["error"].is_null());
  CHECK(p["type_name"] == prog->type);
  CHECK(p["name"] == prog->name);
  CHECK(p["tag"].get<std::string>().size() == 16);
  // The filter looks its map up: the map is among the ones it uses.
  REQUIRE(p["used_maps"].size() == 1);
  CHECK(p["used_maps"][0].get<uint32_t>() == map->id);
  CHECK(m["error"].is_null());
  CHECK(m["type_name"] == map->type);
  CHECK(m["name"] == map->name);
  CHECK(m["key_size"].get<uint32_t>() == map->key_size);
  CHECK(m["value_size"].get<uint32_t>() == map->value_size);
  CHECK(m["max_entries"].get<uint32_t>() == map->max_entries);
  // The structures are the kernel's: their own id members say so.
  CHECK(p_value("((struct bpf_prog *)" + p["bpf_prog"].get<std::string>() + ")->aux->id") == prog->id);
  CHECK(p_value("((struct bpf_map *)" + m["bpf_map"].get<std::string>() + ")->id") == map->id);

  // The text rows: "<id> <bpf_prog> <aux> <type> <tag> <maps>" and "<id> <bpf_map> <type> <flags>".
  const std::string text = kdive_ok("bpf");
  const std::regex prog_row("^ *" + std::to_string(prog->id) + " +" + p["bpf_prog"].get<std::string>().substr(2) +
                            " +" + p["bpf_prog_aux"].get<std::string>().substr(2) + " +" + prog->type + " +" +
                            p["tag"].get<std::string>() + " +" + std::to_string(map->id) + " *$");
  const std::regex map_row("^ *" + std::to_string(map->id) + " +" + m["bpf_map"].get<std::string>().substr(2) + " +" +
                           map->type + " +[0-9a-f]{8} *$");
  bool prog_seen = false, map_seen = false;
  for (const std::string& line : lines_of(text)) {
    prog_seen = prog_seen || std::regex_match(line, prog_row);
    map_seen = map_seen || std::regex_match(line, map_row);
  }
  CHECK(prog_seen);
  CHECK(map_seen);

  // -m ID: the sizes; -p ID: the name.
  const std::string detail = kdive_ok("bpf -m " + std::to_string(map->id));
  CHECK(detail.find("KEY_SIZE: " + std::to_string(map->key_size) + "  VALUE_SIZE: " + std::to_string(map->value_size) +
                    "  MAX_ENTRIES: " + std::to_string(map->max_entries)) != std::string::npos);
  CHECK(detail.find("NAME: \"" + map->name + "\"") != std::string::npos);
  const json pd = json_result_of(suite(), "bpf -p " + std::to_string(prog->id));
  CHECK(pd["maps"].is_null());
  REQUIRE(pd["programs"].size() == 1);
  CHECK(pd["programs"][0]["gpl_compatible"].is_boolean());
  // XLATED is the verifier's instruction count in bytes: len * 8.
  CHECK(pd["programs"][0]["xlated"].get<uint64_t>() ==
        p_value("((struct bpf_prog *)" + p["bpf_prog"].get<std::string>() + ")->len") * 8);
  CHECK(kdive_ok("bpf -p " + std::to_string(prog->id)).find("NAME: \"" + prog->name + "\"") != std::string::npos);
  // -s: the structures' JSON, as the kernel holds them.
  const json ps = json_result_of(suite(), "bpf -s -p " + std::to_string(prog->id));
  CHECK(ps["programs"][0]["structs"]["bpf_prog_aux"]["id"].get<uint32_t>() == prog->id);
  CHECK(ps["programs"][0]["structs"]["bpf_prog"]["len"].get<uint64_t>() * 8 ==
        pd["programs"][0]["xlated"].get<uint64_t>());
  const json ms = json_result_of(suite(), "bpf -s -m " + std::to_string(map->id));
  CHECK(ms["maps"][0]["structs"]["bpf_map"]["max_entries"].get<uint32_t>() == map->max_entries);
  CHECK(run_kdive(suite(), "elf", "bpf -s").err.find("-s option requires") != std::string::npos);
  const KdiveRun bad = run_kdive(suite(), "elf", "bpf -m 4242");
  CHECK(bad.err.find("invalid map ID: 4242") != std::string::npos);
}

TEST_CASE("bpf -t/-T/-j: the filter's xlated instructions and JITed code", "[ipc_bpf]") {
  const Truth t = truth();
  const TruthBpf* prog = t.bpf_object(false, system_state::kBpfProg);
  const TruthBpf* map = t.bpf_object(true, system_state::kBpfMap);
  if (prog == nullptr || map == nullptr)
    KDIVE_SKIP("this fixture's truth has no bpf lines (built before they were added)");
  const std::string id = std::to_string(prog->id);
  const json r = json_result_of(suite(), "bpf -p " + id + " -t -j");
  REQUIRE(r["programs"].size() == 1);
  const json& p = r["programs"][0];
  const std::string bpf_prog = "((struct bpf_prog *)" + p["bpf_prog"].get<std::string>() + ")";

  // The xlated code: as many 8-byte slots as bpf_prog.len says (an ld_imm64
  // takes two), each instruction where the previous one ended, the last an
  // exit; the filter loads its map's address, named by the map's id.
  CHECK(p["xlated_error"].is_null());
  const json& insns = p["xlated_insns"];
  REQUIRE(insns.is_array());
  REQUIRE_FALSE(insns.empty());
  const uint64_t len = p_value(bpf_prog + "->len");
  uint64_t slot = 0;
  bool map_named = false;
  for (const json& i : insns) {
    INFO(i.dump());
    CHECK(i["index"].get<uint64_t>() == slot);
    const size_t bytes = (i["bytes"].get<std::string>().size() + 1) / 3;
    CHECK((bytes == 8 || (bytes == 16 && i["code"] == 0x18)));
    slot += bytes / 8;
    map_named = map_named || i["text"] == "r1 = map[id:" + std::to_string(map->id) + "]";
  }
  CHECK(slot == len);
  CHECK(insns.back()["text"] == "exit");
  CHECK(map_named);
  // Jumps stay inside the program.
  for (const json& i : insns) {
    if (!i["target"].is_null()) CHECK(i["target"].get<int64_t>() < static_cast<int64_t>(len));
  }

  // The JITed code: instructions one after the other from bpf_func, covering
  // exactly jited_len bytes, the last a return.
  CHECK(p["jited_error"].is_null());
  const json& jit = p["jited_insns"];
  REQUIRE(jit.is_array());
  REQUIRE_FALSE(jit.empty());
  const uint64_t start = json_hex(p["bpf_func"]);
  CHECK(start == p_value("(unsigned long)" + bpf_prog + "->bpf_func"));
  const uint64_t jited_len = p_value(bpf_prog + "->jited_len");
  REQUIRE(jited_len == p["jited"].get<uint64_t>());
  uint64_t at = start;
  for (const json& i : jit) {
    INFO(i.dump());
    CHECK(json_hex(i["address"]) == at);
    at += (i["bytes"].get<std::string>().size() + 1) / 3;
    CHECK(at <= start + jited_len);
  }
  CHECK(at == start + jited_len);
  // The last instruction before any int3 (the 6.1 and 6.12 JITs end the
  // image with one, inside jited_len) returns.
  auto last = std::find_if(jit.rbegin(), jit.rend(), [](const json& i) { return i["text"] != "int3"; });
  REQUIRE(last != jit.rend());
  CHECK((*last)["text"].get<std::string>().rfind("ret", 0) == 0);

  // -T: each instruction's line, then its bytes as the JSON has them.
  const std::vector<std::string> text = lines_of(kdive_ok("bpf -p " + id + " -T"));
  auto first = std::find_if(text.begin(), text.end(), [](const std::string& l) { return l.find("   0: (") == 0; });
  REQUIRE(first != text.end());
  REQUIRE(static_cast<size_t>(text.end() - first) == 2 * insns.size());
  for (size_t n = 0; n < insns.size(); ++n) {
    CHECK(first[static_cast<std::ptrdiff_t>(2 * n + 1)] == "       " + insns[n]["bytes"].get<std::string>());
  }
  // -t and -j want a program.
  CHECK(run_kdive(suite(), "elf", "bpf -t").err.find("-t option only applicable with -p or -P") != std::string::npos);
  CHECK(run_kdive(suite(), "elf", "bpf -m 1 -j").err.find("-j option only applicable") != std::string::npos);
}

TEST_CASE("sbitmapq on the virtio disk's blk-mq tags agrees with the structure's members", "[ipc_bpf]") {
  const Truth t = truth();
  if (!t.diskstats) KDIVE_SKIP("this fixture's truth has no diskstats line (no virtio disk)");
  // A virtio disk: vda, or vdb where the kdump suite adds its dump disk.
  REQUIRE(std::regex_search(kdive_ok("p " + kDisk + "->disk_name"), std::regex("= \"vd[a-z]\\\\000")));
  const uint64_t sbq = disk_sbitmap_queue();
  REQUIRE(sbq != 0);
  const std::string addr = fmt_hex(sbq);
  const uint64_t depth = p_value("((struct sbitmap_queue *)0x" + addr + ")->sb.depth");
  const uint64_t shift = p_value("((struct sbitmap_queue *)0x" + addr + ")->sb.shift");
  const uint64_t map_nr = p_value("((struct sbitmap_queue *)0x" + addr + ")->sb.map_nr");

  const json q = json_result_of(suite(), "sbitmapq " + addr);
  CHECK(q["depth"].get<uint64_t>() == depth);
  CHECK(q["bits_per_word"].get<uint64_t>() == (1ULL << shift));
  CHECK(q["map_nr"].get<uint64_t>() == map_nr);
  REQUIRE(q["words"].size() == map_nr);
  CHECK(q["problems"].empty());
  // Every word as the kernel holds it: sb.map[i].word and .cleared, and the
  // busy count is the set bits less the cleared ones, over every word.
  uint64_t busy = 0;
  for (uint64_t i = 0; i < map_nr; ++i) {
    const std::string w = "((struct sbitmap_queue *)0x" + addr + ")->sb.map[" + std::to_string(i) + "]";
    const uint64_t word = p_value(w + ".word");
    CHECK(json_hex(q["words"][i]["word"]) == word);
    uint64_t cleared = 0;
    if (!q["cleared"].is_null()) {
      cleared = p_value(w + ".cleared");
      CHECK(json_hex(q["words"][i]["cleared"]) == cleared);
    }
    busy += static_cast<uint64_t>(std::popcount(word & ~cleared));
  }
  CHECK(q["busy"].get<uint64_t>() == busy);
  CHECK(q["busy_bits"].size() == busy);
  REQUIRE(q["ws"].size() == 8);

  const std::string text = kdive_ok("sbitmapq " + addr);
  CHECK(text.find("depth = " + std::to_string(depth) + "\n") != std::string::npos);
  CHECK(text.find("map_nr = " + std::to_string(map_nr) + "\n") != std::string::npos);
  CHECK(text.find("busy = " + std::to_string(busy) + "\n") != std::string::npos);
  // The bitmap dump covers depth bits: ceil(depth / 8) bytes.
  size_t bytes = 0;
  static const std::regex dump_line(R"(^[0-9a-f]{8}:((?: [0-9a-f]{2,4})+)$)");
  for (const std::string& line : lines_of(text)) {
    std::smatch m;
    if (!std::regex_match(line, m, dump_line)) continue;
    std::string hex = m[1].str();
    hex.erase(std::remove(hex.begin(), hex.end(), ' '), hex.end());
    bytes += hex.size() / 2;
  }
  CHECK(bytes == (depth + 7) / 8);

  // The same queue named by an expression: the structure (5.16+) or the
  // pointer to it (5.10) both lead to it.
  CHECK(json_result_of(suite(), "sbitmapq " + kTags + "->bitmap_tags")["sbitmap_queue"] == q["sbitmap_queue"]);

  // -s/-a -p: each busy bit N indexes slot N of the tags' static_rqs[]
  // (struct request pointers), 8 bytes apart.
  const uint64_t rqs = p_value(kTags + "->static_rqs");
  const json e = json_result_of(suite(), "sbitmapq -s request -p -a " + fmt_hex(rqs) + " " + addr);
  REQUIRE(e["elements"].size() == busy);
  for (size_t i = 0; i < e["elements"].size(); ++i) {
    const uint64_t bit = q["busy_bits"][i].get<uint64_t>();
    CHECK(json_hex(e["elements"][i]["address"]) == rqs + bit * 8);
  }
}

TEST_CASE("sbitmapq matches crash line by line", "[ipc_bpf]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  compare_with_crash({"sbitmapq " + fmt_hex(disk_sbitmap_queue())});
}

TEST_CASE("a damaged shm segment and BPF program are marked; the other objects are still listed", "[ipc_bpf]") {
  const Truth t = truth();
  if (!sysv(t, "shm", system_state::kShmKey) || !t.bpf_object(false, system_state::kBpfProg)) {
    KDIVE_SKIP("this fixture's truth has no /proc/sysvipc or bpf lines");
  }
  const json ipcs = json_result_of(suite(), "ipcs");
  const json bpf = json_result_of(suite(), "bpf");
  const json shm = ipc_object(ipcs, "shm", system_state::kShmKey);
  const std::string segment = shm["object"].get<std::string>();
  const std::string prog = bpf["programs"][0]["bpf_prog"].get<std::string>();
  // A shm_file pointer and a bpf_prog.aux pointer into nothing: a
  // non-canonical address no page table maps.
  constexpr uint64_t kNowhere = 0xdead000000000000ULL;
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write_u64(kdive::VirtAddr{json_hex(shm["object"]) + member_offset(suite(), "struct shmid_kernel", "shm_file")},
              kNowhere);
  d.write_u64(
      kdive::VirtAddr{json_hex(bpf["programs"][0]["bpf_prog"]) + member_offset(suite(), "struct bpf_prog", "aux")},
      kNowhere);

  const KdiveRun text = d.run("ipcs; bpf");
  INFO(text.out << text.err);
  CHECK(text.status == kDataLost);
  // The segment's row is its address and a marker; the semaphores and
  // queues are listed as before.
  CHECK(std::regex_search(text.out, std::regex("(^|\n)" + segment.substr(2) + R"( \(damaged: )")));
  char sem_key[9];
  std::snprintf(sem_key, sizeof sem_key, "%08x", system_state::kSemKey);
  CHECK(text.out.find(sem_key) != std::string::npos);
  // The program's row keeps what was read before its aux (address, type,
  // tag), and the marker follows it.
  CHECK(std::regex_search(text.out, std::regex(prog.substr(2) + R"([^\n]*\n +\(damaged: )")));
  const KdiveRun j = d.run("ipcs; bpf", "--json");
  REQUIRE(j.status == kDataLost);
  std::vector<json> results;
  for (const std::string& line : lines_of(j.out)) results.push_back(json::parse(line)["result"]);
  REQUIRE(results.size() == 2);
  CHECK(ipc_object(results[0], "shm", system_state::kShmKey)["error"].is_string());
  CHECK(ipc_object(results[0], "sem", system_state::kSemKey)["error"].is_null());
  CHECK(results[1]["programs"][0]["error"].is_string());
  REQUIRE(results[1]["maps"].size() == bpf["maps"].size());
  CHECK(results[1]["maps"][0]["error"].is_null());
}

TEST_CASE("ipcs and bpf match crash line by line", "[ipc_bpf]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  const Truth t = truth();
  if (!sysv(t, "shm", system_state::kShmKey)) KDIVE_SKIP("this fixture's truth has no /proc/sysvipc lines");
  const TruthSysvipc& shm = *sysv(t, "shm", system_state::kShmKey);
  // The one deliberate difference: bpf -p/-P LOAD_TIME — crash adds the load
  // time to the boot time of the machine it runs on; kdive to the crashed
  // machine's (its clock at the crash less its uptime).
  compare_with_crash({"ipcs", "ipcs -s", "ipcs -m", "ipcs -q", "ipcs -M", "ipcs " + std::to_string(shm.id), "bpf",
                      "bpf -M", "bpf -m 1", "bpf -m 1 -s"});
  // bpf -P and -p: every line but LOAD_TIME, which must instead name a
  // moment of the crashed machine's own run: after the guest's SysV segment
  // was created (the workloads start together) less a few seconds, and not
  // after the crash.
  // -t, -T and -j: the xlated instructions and the JITed code read the same
  // as crash's, line for line (no deliberate difference).
  const std::vector<std::string> detailed = {"bpf -P",      "bpf -p 1",    "bpf -p 1 -s",    "bpf -p 1 -t",
                                             "bpf -p 1 -T", "bpf -p 1 -j", "bpf -p 1 -t -j", "bpf -P -T"};
  const auto crash = crash_outputs(detailed);
  const auto kdive = kdive_outputs(detailed);
  const json r = json_result_of(suite(), "bpf -p 1");
  const int64_t loaded = r["programs"][0]["load_time"].get<int64_t>();
  const int64_t crashed = json_result_of(suite(), "sys")["crash_time"].get<int64_t>();
  const int64_t shm_ctime = std::stoll(shm.columns().at(11));
  CHECK(loaded <= crashed);
  CHECK(loaded >= shm_ctime - 10);
  for (size_t c = 0; c < detailed.size(); ++c) {
    INFO(detailed[c]);
    REQUIRE(kdive[c].size() == crash[c].size());
    for (size_t i = 0; i < crash[c].size(); ++i) {
      INFO("line " << i);
      if (crash[c][i].find("LOAD_TIME:") != std::string::npos) {
        CHECK(kdive[c][i].find("     LOAD_TIME: ") == 0);
        continue;
      }
      CHECK(kdive[c][i] == crash[c][i]);
    }
  }
}
