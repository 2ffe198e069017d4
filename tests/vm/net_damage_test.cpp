// net over a damaged dump: in a copy of the fixture (dump_edit.hpp) the
// static neighbour's chain is made to loop, the test device's dev_list link
// is cut, and the TCP listener's struct socket points at no sock. Each net
// form must still show what it can reach (the devices behind the cut are
// reached backwards, the other sockets keep their ports), mark the damage
// where it is, and exit with status 3 (data lost).
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>

#include "dump_edit.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Catch::Matchers::Contains;
using kdive::VirtAddr;
using nlohmann::json;

namespace {

json result_of(const KdiveRun& r) {
  INFO(r.out << r.err);
  json j = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.contains("result"));
  return j["result"];
}

// The fixture's own answer, before any damage.
json original(const std::string& command) { return json_result_of(suite(), command); }

}  // namespace

TEST_CASE("net over a looping neighbour chain, a cut device list and a socket without its sock", "[net_damage]") {
  const Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (truth.arp.empty() || truth.tcp_listen.empty() || truth.netdevs.size() < 2) {
    KDIVE_SKIP("this fixture's truth has no net workload (built before it was added)");
  }
  const std::string s = suite();
  const TruthArp& arp = truth.arp[0];
  const TruthTcpListen& listen = truth.tcp_listen[0];

  // The objects to damage, found on the fixture's own dump.
  VirtAddr neighbour, device, socket;
  const json arp_before = original("net -a");
  const json net_before = original("net");
  for (const json& n : arp_before["arp"]) {
    if (n["ip"] == arp.ip) neighbour = VirtAddr{json_hex(n["neighbour"])};
  }
  for (const json& d : net_before["devices"]) {
    if (d["name"] == arp.device) device = VirtAddr{json_hex(d["net_device"])};
  }
  const json before = original(fmt::format("net -s {}", listen.pid))["tasks"][0]["sockets"];
  int listener_fd = -1;
  for (const json& so : before) {
    if (so["ino"] == listen.inode) {
      socket = VirtAddr{json_hex(so["socket"])};
      listener_fd = so["fd"];
    }
  }
  REQUIRE_FALSE(neighbour.is_null());
  REQUIRE_FALSE(device.is_null());
  REQUIRE_FALSE(socket.is_null());

  DamagedDump d = DamagedDump::copy_of(s);
  // The neighbour's chain link points at itself (before 6.13 a next pointer,
  // from 6.13 an hlist_node whose next is the node itself).
  std::optional<uint64_t> hash;
  try {
    hash = member_offset(s, "struct neighbour", "hash");
  } catch (const std::runtime_error&) {
    // no neighbour.hash: the chains are next pointers
  }
  if (hash) {
    const VirtAddr node = neighbour + *hash;
    d.write_u64(node, node.value());
  } else {
    d.write_u64(neighbour + member_offset(s, "struct neighbour", "next"), neighbour.value());
  }
  d.write_u64(device + member_offset(s, "struct net_device", "dev_list.next"), 0);
  constexpr uint64_t kNowhere = 0xdead000000000000;  // non-canonical: no read can succeed
  d.write_u64(socket + member_offset(s, "struct socket", "sk"), kNowhere);

  {  // net -a: the entry is still listed, the loop is marked after it
    KdiveRun r = d.run("net -a");
    INFO(r.out << r.err);
    CHECK(r.status == kDataLost);
    CHECK_THAT(r.out, Contains(fmt::format("{:<16x} {:<16}", neighbour.value(), arp.ip)));
    CHECK_THAT(r.out, Contains("loops"));
    json j = result_of(d.run("net -a", "--json"));
    bool found = false;
    for (const json& n : j["arp"]) found = found || (n["ip"] == arp.ip && n["hwaddr"] == arp.hwaddr);
    CHECK(found);
  }
  {  // net: every device is still listed, reached backwards behind the cut
    KdiveRun r = d.run("net", "--json");
    INFO(r.out << r.err);
    CHECK(r.status == kDataLost);
    json j = result_of(r);
    for (const TruthNetdev& n : truth.netdevs) {
      bool found = false;
      for (const json& dev : j["devices"]) found = found || dev["name"] == n.name;
      CHECK(found);
    }
    KdiveRun text = d.run("net");
    CHECK_THAT(text.out, Contains("(damaged: "));
  }
  {  // net -s: the listener is marked, the other sockets keep their ports
    KdiveRun r = d.run(fmt::format("net -s {}", listen.pid));
    INFO(r.out << r.err);
    CHECK(r.status == kDataLost);
    CHECK_THAT(r.out, Contains(fmt::format("{:2} {:16x} {:16x} (damaged: ", listener_fd, socket.value(), kNowhere)));
    json j = result_of(d.run(fmt::format("net -s {}", listen.pid), "--json"));
    const json& after = j["tasks"][0]["sockets"];
    REQUIRE(after.size() == before.size());
    for (size_t i = 0; i < before.size(); ++i) {
      INFO("fd " << before[i]["fd"]);
      if (before[i]["fd"] == listener_fd) {
        CHECK(after[i].contains("error"));
      } else {
        CHECK(after[i] == before[i]);
      }
    }
  }
}
