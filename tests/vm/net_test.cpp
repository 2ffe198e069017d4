// net on real crashed kernels, against the guest's own view recorded in the
// truth: /proc/net/dev and `ip -4 addr` (net), /proc/net/arp (net -a), and the
// net workload's TCP listener, connection and UNIX socketpair with their
// /proc/PID/fd inodes (net -s, -S, -R, foreach net); the JSON says the same;
// and on bullseye the text matches the crash utility line by line.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "crash_compare.hpp"
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
json result(const std::string& command) { return json_result_of(suite(), command); }

std::vector<std::string> words_of(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  for (std::string word; in >> word;) w.push_back(word);
  return w;
}

// The line of `text` whose first word is `first` (the fd, the device's
// address, ...) and that holds `word` as a word; "" when none.
std::string line_with(const std::string& text, const std::string& word) {
  for (const std::string& line : lines_of(text)) {
    auto w = words_of(line);
    if (std::find(w.begin(), w.end(), word) != w.end()) return line;
  }
  return "";
}

const json* socket_by_fd(const json& sockets, int fd) {
  for (const json& s : sockets) {
    if (s["fd"] == fd) return &s;
  }
  return nullptr;
}

void require_net_workload(const Truth& t) {
  if (t.tcp_listen.empty()) KDIVE_SKIP("this fixture's truth has no net workload (built before it was added)");
}

}  // namespace

TEST_CASE("net: every interface of /proc/net/dev with its IPv4 addresses", "[net]") {
  const Truth t = truth();
  if (t.netdevs.empty()) KDIVE_SKIP("this fixture's truth has no /proc/net/dev lines (built before they were added)");
  const std::string text = kdive_ok("net");
  const json r = result("net");
  REQUIRE(r["devices"].size() == t.netdevs.size());
  for (const TruthNetdev& d : t.netdevs) {
    INFO(d.name);
    const std::string line = line_with(text, d.name);
    REQUIRE(!line.empty());
    const json* dev = nullptr;
    for (const json& j : r["devices"]) {
      if (j["name"] == d.name) dev = &j;
    }
    REQUIRE(dev != nullptr);
    // The text row starts with the same struct net_device the JSON names.
    CHECK(json_hex((*dev)["net_device"]) == std::stoull(words_of(line)[0], nullptr, 16));
    std::vector<std::string> expected;
    for (const TruthNetAddr& a : t.netaddrs) {
      if (a.dev != d.name) continue;
      expected.push_back(a.addr);
      CHECK(line.find(a.addr) != std::string::npos);
      bool found = false;
      for (const json& ja : (*dev)["addresses"]) {
        if (ja["address"] == a.addr) {
          found = true;
          CHECK(ja["prefix"] == a.prefix);
        }
      }
      CHECK(found);
    }
    CHECK((*dev)["addresses"].size() == expected.size());
  }
  // IPv6 (JSON only): a loopback with IPv6 up always holds ::1/128
  // (addrconf's init_loopback), whatever else the guest configured.
  for (const json& j : r["devices"]) {
    if (j["name"] != "lo" || j["ipv6"].empty()) continue;
    bool loopback = false;
    for (const json& a : j["ipv6"]) loopback = loopback || (a["address"] == "::1" && a["prefix"] == 128);
    CHECK(loopback);
  }
  // init_net is the namespace shown, and every task of the workload lives in it.
  CHECK(json_hex(r["namespace"]) == json_hex(result("sym init_net")[0]["address"]));
  if (!t.tcp_listen.empty()) {
    CHECK(result("net -n " + std::to_string(t.tcp_listen[0].pid))["namespace"] == r["namespace"]);
  }
}

TEST_CASE("net -a: the static neighbour entry of /proc/net/arp", "[net]") {
  const Truth t = truth();
  if (t.arp.empty()) KDIVE_SKIP("this fixture's truth has no /proc/net/arp lines (built before they were added)");
  const std::string text = kdive_ok("net -a");
  const json r = result("net -a");
  for (const TruthArp& a : t.arp) {
    INFO(a.ip);
    const std::string line = line_with(text, a.ip);
    REQUIRE(!line.empty());
    CHECK(line.find(a.hwaddr) != std::string::npos);
    CHECK(words_of(line).size() >= 6);
    const json* e = nullptr;
    for (const json& j : r["arp"]) {
      if (j["ip"] == a.ip && j["device"] == a.device) e = &j;
    }
    REQUIRE(e != nullptr);
    CHECK((*e)["hwaddr"] == a.hwaddr);
    CHECK((*e)["arphrd"] == a.hwtype);
    CHECK(line.find(" " + a.device + " ") != std::string::npos);
    if (a.hwtype == 1) CHECK(line.find("ETHER") != std::string::npos);
    // ATF_PERM (0x4) in /proc/net/arp is NUD_PERMANENT (0x80) in the kernel.
    const bool permanent = (a.flags & 0x4) != 0;
    CHECK((((*e)["nud_state"].get<int>() & 0x80) != 0) == permanent);
    CHECK((line.find("PERMANENT") != std::string::npos) == permanent);
  }
}

TEST_CASE("net -s PID: the listener, the connected pair and the UNIX socketpair", "[net]") {
  const Truth t = truth();
  require_net_workload(t);
  const TruthTcpListen& l = t.tcp_listen[0];
  const std::string pid = std::to_string(l.pid);
  const std::string text = kdive_ok("net -s " + pid);
  const json r = result("net -s " + pid);
  REQUIRE(r["tasks"].size() == 1);
  CHECK(r["tasks"][0]["pid"] == l.pid);
  const json& sockets = r["tasks"][0]["sockets"];

  // The listener: found by its inode, bound to the truth's address and port.
  const json* listener = nullptr;
  for (const json& s : sockets) {
    if (s["ino"] == l.inode) listener = &s;
  }
  REQUIRE(listener != nullptr);
  CHECK((*listener)["family"] == "INET");
  CHECK((*listener)["type"] == "STREAM");
  CHECK((*listener)["source"] == l.addr);
  CHECK((*listener)["source_port"] == l.port);
  CHECK((*listener)["state"] == 10);  // TCP_LISTEN
  const std::string row = line_with(text, l.addr + "-" + std::to_string(l.port));
  REQUIRE(!row.empty());
  CHECK(words_of(row)[0] == std::to_string((*listener)["fd"].get<int>()));
  CHECK(row.find("INET:STREAM") != std::string::npos);

  // Both ends of the connection, by fd: inode and ports as /proc shows them.
  REQUIRE(!t.tcp_conns.empty());
  for (const TruthTcpConn& c : t.tcp_conns) {
    INFO("fd " << c.fd);
    const json* s = socket_by_fd(sockets, c.fd);
    REQUIRE(s != nullptr);
    CHECK((*s)["ino"] == c.inode);
    CHECK((*s)["source_port"] == c.local_port);
    CHECK((*s)["destination_port"] == c.remote_port);
    CHECK((*s)["state"] == 1);  // TCP_ESTABLISHED
    CHECK(text.find(fmt::format("-{} {}", c.local_port, (*s)["destination"].get<std::string>())) != std::string::npos);
  }

  // The socketpair: each end's inode, and its peer is the other end.
  REQUIRE(!t.unix_pairs.empty());
  const TruthUnixPair& u = t.unix_pairs[0];
  for (int i = 0; i < 2; ++i) {
    INFO("fd " << u.fd[i]);
    const json* s = socket_by_fd(sockets, u.fd[i]);
    REQUIRE(s != nullptr);
    CHECK((*s)["family"] == "UNIX");
    CHECK((*s)["ino"] == u.inode[i]);
    CHECK((*s)["peer_ino"] == u.inode[1 - i]);
    CHECK(text.find(fmt::format("*-{} *-{}", u.inode[i], u.inode[1 - i])) != std::string::npos);
  }
}

TEST_CASE("net -S and -R: the struct dumps of one socket, and foreach finds its owner", "[net]") {
  const Truth t = truth();
  require_net_workload(t);
  const TruthTcpListen& l = t.tcp_listen[0];
  const std::string pid = std::to_string(l.pid);
  const json listener = result("net -s -R " + std::to_string(l.inode) + " " + pid)["tasks"];
  REQUIRE(listener.size() == 1);
  REQUIRE(listener[0]["sockets"].size() == 1);
  const json& s = listener[0]["sockets"][0];
  CHECK(s["ino"] == l.inode);

  // -S by the sock's address: the struct command's own dumps of that socket.
  const std::string sock = s["sock"].get<std::string>();
  const std::string full = kdive_ok("net -S -x -R " + sock + " " + pid);
  CHECK(full.find("struct socket {") != std::string::npos);
  CHECK(full.find("struct inet_sock {") != std::string::npos);
  CHECK(full.find(fmt::format("sk = {}", sock)) != std::string::npos);
  const json j = result("net -S -R " + sock + " " + pid)["tasks"][0]["sockets"][0];
  CHECK(!j["socket_struct"].is_null());
  CHECK(!j["sock_struct"].is_null());

  // A UNIX end is dumped as struct unix_sock.
  if (!t.unix_pairs.empty()) {
    const std::string unix_full = kdive_ok("net -S -R " + std::to_string(t.unix_pairs[0].inode[0]) + " " + pid);
    CHECK(unix_full.find("struct unix_sock {") != std::string::npos);
  }

  // foreach net -s -R: only the listener's task prints, with only that socket.
  const std::string found = kdive_ok("foreach net -s -R " + std::to_string(l.inode));
  int headers = 0;
  for (const std::string& line : lines_of(found)) {
    if (line.starts_with("PID: ")) {
      ++headers;
      CHECK(words_of(line)[1] == pid);
    }
  }
  CHECK(headers == 1);
  CHECK(found.find(l.addr + "-" + std::to_string(l.port)) != std::string::npos);
}

TEST_CASE("net -N and argument errors", "[net]") {
  // 16777343 is 0x0100007f: the first byte in memory is 127.
  CHECK(result("net -N 16777343")["address"] == "127.0.0.1");
  CHECK(result("net -N 0x0100007f")["address"] == "127.0.0.1");
  KdiveRun bad = run_kdive(suite(), "elf", "net -s -S");
  CHECK(bad.err.find("exclude") != std::string::npos);
  KdiveRun no_s = run_kdive(suite(), "elf", "net -R 3");
  CHECK(no_s.err.find("-R") != std::string::npos);
}

TEST_CASE("net matches crash line by line", "[net]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  const Truth t = truth();
  require_net_workload(t);
  const std::vector<std::string> commands = {"net", "net -a", "net -s " + std::to_string(t.tcp_listen[0].pid)};
  const auto crash = crash_outputs(commands);
  const auto kdive = kdive_outputs(commands);
  for (size_t c = 0; c < commands.size(); ++c) {
    INFO(commands[c]);
    REQUIRE(kdive[c].size() == crash[c].size());
    for (size_t i = 0; i < crash[c].size(); ++i) {
      INFO("line " << i);
      // The one deliberate difference: crash prints nothing after a UNIX
      // socket's FAMILY:TYPE; kdive adds its inode and its peer's (the names
      // /proc/PID/fd and ss -x give it), so crash's line is where ours starts.
      if (crash[c][i].ends_with("UNIX:STREAM") || crash[c][i].ends_with("UNIX:DGRAM")) {
        CHECK(kdive[c][i].starts_with(crash[c][i] + " "));
      } else {
        CHECK(kdive[c][i] == crash[c][i]);
      }
    }
  }
}
