// The system-state commands on real crashed kernels, against the guest's own
// view (truth.txt: /proc/mounts, /proc/PID/fd and, where the fixture has them,
// /proc/PID/status signal masks), the kernel's own structures read through
// `p`, the console's "Tainted:" line, and on bullseye the crash utility:
// mount, sig, waitq, mach, sys -t / -c, and the refusals of wr and sys -panic.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "console_log.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

std::filesystem::path dir() { return fixture_dir(suite()); }
Truth truth() { return Truth::load(dir() / "truth.txt"); }

json result(const std::string& command) { return json_result_of(suite(), command); }

// The truth lines that start with `key` and a space, split into words.
std::vector<std::vector<std::string>> truth_lines(const std::string& key) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(slurp(dir() / "truth.txt"));
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with(key + " ")) continue;
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    out.push_back(std::move(w));
  }
  return out;
}

// /proc/mounts escapes blanks and backslashes as \ooo octal.
std::string unescape_mounts(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() + 0 && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct ProcMount {
  std::string dev, dir, type;
};

std::vector<ProcMount> truth_mounts() {
  std::vector<ProcMount> out;
  for (const auto& w : truth_lines("mount")) {
    REQUIRE(w.size() >= 4);
    out.push_back({unescape_mounts(w[1]), unescape_mounts(w[2]), w[3]});
  }
  return out;
}

// A value `p -x` prints for an expression, as a number.
uint64_t p_value(const std::string& expression) {
  json r = result("p -x " + expression);
  REQUIRE(r.is_array());
  REQUIRE(r.size() == 1);
  const json& v = r[0]["value"];
  if (v.is_number()) return v.get<uint64_t>();
  return json_hex(v);
}

}  // namespace

TEST_CASE("mount lists every mount of the guest's /proc/mounts, and no other", "[sysstate]") {
  std::vector<ProcMount> want = truth_mounts();
  REQUIRE_FALSE(want.empty());
  json rows = result("mount");
  REQUIRE(rows.is_array());
  std::multiset<std::string> listed;
  for (const json& r : rows) {
    INFO(r.dump());
    REQUIRE(r["error"].is_null());
    listed.insert(r["devname"].get<std::string>() + " " + r["dirname"].get<std::string>() + " " +
                  r["type"].get<std::string>());
    // The super block of every mount is a kernel address (0xff... on 4- and
    // 5-level kernels alike), distinct from the mount.
    CHECK(json_hex(r["superblock"]) >= 0xff00000000000000ull);
    CHECK(json_hex(r["vfsmount"]) > json_hex(r["mount"]));
  }
  std::multiset<std::string> expected;
  for (const ProcMount& m : want) expected.insert(m.dev + " " + m.dir + " " + m.type);
  // The truth is the init task's /proc/mounts, printed just before the crash;
  // the panic task lives in the same namespace and the workload mounts
  // nothing after printing it, so the two lists are the same.
  CHECK(listed == expected);

  // The text: one line per mount with its type, device and directory.
  std::string text = kdive_ok("mount");
  for (const ProcMount& m : want) {
    INFO(m.dir);
    CHECK(std::regex_search(
        text, std::regex("\n[0-9a-f]{16} [0-9a-f]{16} " + m.type + " +" + m.dev + " +" +
                         std::regex_replace(m.dir, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + "\n")));
  }
  // -n 1: init's namespace is the same one.
  CHECK(result("mount -n 1") == rows);
}

TEST_CASE("mount -f shows each open file of the workload under the mount it was opened through", "[sysstate]") {
  Truth t = truth();
  json rows = result("mount -f");
  size_t checked = 0;
  for (const TruthFd& fd : t.fds) {
    if (!fd.target.starts_with("/")) continue;  // pipes, sockets, anon inodes
    // The file is listed once, under the mount it was opened through, whose
    // directory is a prefix of its path (not always the longest such mount:
    // /dev/console was opened on rootfs before devtmpfs covered /dev).
    INFO("pid " << fd.pid << " fd " << fd.fd << " " << fd.target);
    size_t found = 0;
    for (const json& r : rows) {
      for (const json& f : r["open_files"]) {
        if (f["pid"] != fd.pid || f["fd"] != fd.fd) continue;
        ++found;
        CHECK(f["path"] == fd.target);
        const std::string d = r["dirname"];
        CHECK((d == "/" || fd.target == d || fd.target.starts_with(d + "/")));
      }
    }
    CHECK(found == 1);
    ++checked;
  }
  CHECK(checked > 0);
}

TEST_CASE("mount -i lists the dirty inodes of each super block (none on the guest's RAM file systems)", "[sysstate]") {
  json rows = result("mount -i");
  REQUIRE_FALSE(rows.empty());
  for (const json& r : rows) {
    INFO(r.dump());
    REQUIRE(r["dirty_inodes"].is_array());
    // rootfs, proc, sysfs, devtmpfs, tmpfs have no writeback (noop backing
    // device): an inode listed there would be read from the wrong lists.
    CHECK(r["dirty_inodes"].empty());
  }
}

TEST_CASE("sig shows the masks the task_struct holds, and the guest's own masks where it printed them", "[sysstate]") {
  Truth t = truth();
  size_t checked = 0;
  for (const TruthTask& task : t.tasks) {
    if (task.pid <= 1 || task.pid != task.tgid) continue;
    json r = result("sig " + std::to_string(task.pid));
    REQUIRE(r.size() == 1);
    const json& s = r[0];
    INFO("pid " << task.pid);
    REQUIRE(s["error"].is_null());
    const std::string ts = "((struct task_struct *)" + s["task"].get<std::string>() + ")";
    CHECK(json_hex(s["blocked"]) == p_value(ts + "->blocked.sig[0]"));
    CHECK(json_hex(s["pending"]["signal"]) == p_value(ts + "->pending.signal.sig[0]"));
    CHECK(json_hex(s["shared_pending"]["signal"]) == p_value(ts + "->signal->shared_pending.signal.sig[0]"));
    CHECK(s["actions"].size() == 64);
    // SigIgn / SigCgt are the handlers: signal N's bit is N-1.
    uint64_t ign = 0, cgt = 0;
    for (const json& a : s["actions"]) {
      int n = a["signo"];
      if (a["handler"] == "SIG_IGN")
        ign |= 1ull << (n - 1);
      else if (a["handler"] != "SIG_DFL")
        cgt |= 1ull << (n - 1);
    }
    CHECK(json_hex(s["ignored"]) == ign);
    CHECK(json_hex(s["caught"]) == cgt);
    if (++checked == 4) break;  // a few tasks: each costs a kdive run per p
  }
  CHECK(checked > 0);
}

TEST_CASE("sig PID matches SigPnd, ShdPnd, SigBlk, SigIgn and SigCgt of /proc/PID/status", "[sysstate]") {
  auto lines = truth_lines("sig");
  Truth t = truth();
  if (lines.empty() || !t.roles.contains("signals")) {
    KDIVE_SKIP(
        "this fixture's truth has no signal masks (sig lines and the signals role come with the "
        "fixture recipe's signal workload)");
  }
  std::map<int64_t, std::map<std::string, uint64_t>> masks;
  for (const auto& w : lines) {
    REQUIRE(w.size() == 4);
    masks[std::stoll(w[1])][w[2]] = std::stoull(w[3], nullptr, 16);
  }
  const int64_t pid = t.role("signals");
  REQUIRE(masks.contains(pid));
  json r = result("sig " + std::to_string(pid));
  REQUIRE(r.size() == 1);
  const json& s = r[0];
  const auto& m = masks[pid];
  CHECK(json_hex(s["pending"]["signal"]) == m.at("SigPnd"));
  CHECK(json_hex(s["shared_pending"]["signal"]) == m.at("ShdPnd"));
  CHECK(json_hex(s["blocked"]) == m.at("SigBlk"));
  CHECK(json_hex(s["ignored"]) == m.at("SigIgn"));
  CHECK(json_hex(s["caught"]) == m.at("SigCgt"));
  // The workload blocks and queues signals and installs a handler: a test
  // of all zeros would prove nothing.
  CHECK(m.at("SigBlk") != 0);
  CHECK(m.at("SigCgt") != 0);
  CHECK((m.at("SigPnd") | m.at("ShdPnd")) != 0);
}

TEST_CASE("sig -l and -s name the signals; sig -g shows each thread of a group", "[sysstate]") {
  json names = result("sig -l");
  REQUIRE(names.size() == 64);
  CHECK(names[8]["name"] == "SIGKILL");
  CHECK(names[14]["name"] == "SIGTERM");
  json s = result("sig -s 4001");
  CHECK(s["names"] == json::array({"SIGHUP", "SIGTERM"}));
  Truth t = truth();
  const int64_t threaded = t.role("threaded");
  size_t threads = 0;
  for (const TruthTask& task : t.tasks) threads += task.tgid == threaded;
  REQUIRE(threads > 1);
  json g = result("sig -g " + std::to_string(threaded));
  REQUIRE(g.size() == 1);
  CHECK(g[0]["threads"].size() == threads);
}

TEST_CASE("waitq lists kswapd on its node's wait queue", "[sysstate]") {
  // kswapd0 sleeps in kswapd_try_to_sleep() on pgdat->kswapd_wait unless
  // memory is short (then it is running, and the case says so as skipped).
  json ps = result("ps kswapd0");
  REQUIRE(ps.size() == 1);
  const std::string state = ps[0]["state"];
  if (state != "IN") KDIVE_SKIP("kswapd0 was not sleeping at the crash (" + state + ")");
  // node 0's pglist_data: node_data[0] on NUMA kernels (Debian's), contig_page_data else.
  json node = result("p -x node_data[0]");
  const std::string pgdat = node[0]["value"];
  json w = result("waitq pglist_data.kswapd_wait " + pgdat);
  bool found = false;
  for (const json& e : w) {
    if (!e["task"].is_null() && e["task"]["pid"] == ps[0]["pid"]) found = true;
  }
  CHECK(found);
  CHECK(kdive_ok("waitq pglist_data.kswapd_wait " + pgdat).find("COMMAND: \"kswapd0\"") != std::string::npos);
}

TEST_CASE("waitq: an address that holds no wait queue is one error line", "[sysstate]") {
  KdiveRun r = run_kdive(suite(), "elf", "waitq 0; waitq ffffffffdead0000; echo next");
  CHECK(r.err.find("waitq: invalid kernel virtual address: 0\n") != std::string::npos);
  CHECK(r.err.find("waitq: wait queue at ffffffffdead0000: cannot read") != std::string::npos);
  CHECK(r.out == "next\n");
}

TEST_CASE("mach: the memory map holds the guest's memory and each CPU's cpuinfo is its own", "[sysstate]") {
  json map = result("mach -m");
  REQUIRE_FALSE(map.empty());
  uint64_t ram = 0, last_end = 0;
  for (const json& e : map) {
    CHECK(json_hex(e["start"]) >= last_end);  // sorted, not overlapping
    CHECK(json_hex(e["end"]) > json_hex(e["start"]));
    last_end = json_hex(e["end"]);
    if (e["type"] == 1) ram += json_hex(e["end"]) - json_hex(e["start"]);
  }
  // MemTotal is the RAM the e820 map gave, less what the kernel reserved.
  Truth t = truth();
  REQUIRE(t.meminfo.contains("MemTotal"));
  CHECK(ram >= t.meminfo.at("MemTotal") * 1024);
  CHECK(ram < t.meminfo.at("MemTotal") * 1024 * 2);
  json cpus = result("mach -c");
  json summary = result("mach");
  REQUIRE(cpus.size() == summary["cpus"].get<size_t>());
  for (size_t i = 0; i < cpus.size(); ++i) {
    INFO("CPU " << i);
    if (cpus[i]["cpuinfo"].is_null()) continue;
    CHECK(cpus[i]["cpuinfo"]["cpu_index"] == i);
  }
  CHECK(summary["page_size"] == 4096);
  REQUIRE_FALSE(summary["stacks"].empty());
  CHECK(summary["stacks"][0]["name"] == "IRQ");
}

TEST_CASE("sys -t decodes the taint the kernel recorded", "[sysstate]") {
  json taint = result("sys -t");
  const uint64_t mask = json_hex(taint["tainted_mask"]);
  CHECK(mask == p_value("tainted_mask"));
  std::string letters;
  for (const json& f : taint["flags"]) {
    CHECK((mask >> f["bit"].get<int>() & 1) == 1);
    letters += f["letter"].get<std::string>();
  }
  CHECK(taint["flags"].size() == static_cast<size_t>(__builtin_popcountll(mask)));
  CHECK(letters == taint["letters"]);
  if (suite() != "bookworm-modoops") return;
  // The oops's "Tainted: G           OE" names the taint before it; the oops
  // itself then adds D (TAINT_DIE, set in oops_end() after that line).
  std::string console = slurp(dir() / "console.log");
  std::smatch m;
  REQUIRE(std::regex_search(console, m, std::regex(R"(Tainted: ([A-Z ]+?)\s+\d+\.\d+)")));
  std::string seen;
  for (char c : std::string(m[1])) {
    if (c != ' ' && c != 'G') seen += c;
  }
  REQUIRE_FALSE(seen.empty());
  for (char c : seen) CHECK(letters.find(c) != std::string::npos);
  for (char c : letters) CHECK((seen.find(c) != std::string::npos || c == 'D'));
  CHECK(letters.find('D') != std::string::npos);
  std::string text = kdive_ok("sys -t");
  CHECK(text.find("TAINT_DIE") != std::string::npos);
}

TEST_CASE("sys -c NAME|NUM selects system calls; wr and sys -panic refuse in one line", "[sysstate]") {
  json read = result("sys -c 0");
  REQUIRE(read.size() == 1);
  CHECK(read[0]["symbol"].get<std::string>().find("read") != std::string::npos);
  json reads = result("sys -c read");
  REQUIRE(reads.size() > 1);
  for (const json& e : reads) CHECK(e["symbol"].get<std::string>().find("read") != std::string::npos);
  for (const char* refused : {"wr jiffies 0", "sys -panic"}) {
    INFO(refused);
    KdiveRun r = run_kdive(suite(), "elf", refused);
    CHECK(r.status != 0);
    CHECK(lines_of(r.err).size() == 1);
    CHECK(r.err.find("never") != std::string::npos);
  }
  // repeat on a dump: the command once, and a warning why.
  KdiveRun r = run_kdive(suite(), "elf", "repeat -1 sys -t");
  CHECK(r.status == 0);
  size_t runs = 0;
  for (const std::string& l : lines_of(r.out)) runs += l.starts_with("TAINTED_MASK: ");
  CHECK(runs == 1);
  CHECK((r.out + r.err).find("runs once") != std::string::npos);
}

TEST_CASE("mount, mach -m and sig match crash line by line", "[sysstate]") {
  if (std::string why = crash_unusable(); !why.empty()) KDIVE_SKIP(why);
  // Deliberate differences, left out of this comparison:
  // - kdive writes no trailing blanks (crash pads the DIRNAME column and the
  //   sig header and flag columns): lines are compared without them.
  // - sys -c names the source file by its DWARF path, crash by a path
  //   relative to the build directory (the sys -c case of crash_oracle_test).
  // - mach names the MCE and VC2 exception stacks, which crash 8.0.2 calls
  //   "(unknown)" with size 0 or leaves out, and marks none "[unavailable]".
  // - mount -f and -i read the fd tables and writeback lists; crash refuses
  //   both on kernels without super_block.s_files / s_dirty.
  Truth t = truth();
  std::vector<std::string> commands = {"mount", "mach -m", "sig -l", "sig -s 4001", "sig 1", "sig -g 1"};
  for (const char* role : {"threaded", "sleeper", "files"}) {
    if (t.roles.contains(role)) commands.push_back("sig " + std::to_string(t.role(role)));
  }
  for (const std::string& c : commands) {
    auto crash = crash_lines(c);
    auto kdive = trimmed_lines(kdive_ok(c));
    INFO(c);
    REQUIRE(crash.size() == kdive.size());
    for (size_t i = 0; i < crash.size(); ++i) {
      INFO("line " << i);
      CHECK(kdive[i] == crash[i]);
    }
  }
}
