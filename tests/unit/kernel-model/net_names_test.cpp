// The text forms of network values the net command prints: IPv4 addresses
// as the kernel stores them (__be32, first byte in memory first), hardware
// addresses, NUD states and socket families and types in crash's names.
#include <catch2/catch.hpp>

#include "kernel-model/neighbours.hpp"
#include "kernel-model/net_devices.hpp"
#include "kernel-model/sockets.hpp"

using namespace kdive;

TEST_CASE("IPv4 addresses read from memory print first byte first", "[net_names]") {
  // 127.0.0.1 in memory is 7f 00 00 01: a little-endian load gives 0x0100007f.
  CHECK(ipv4_text(0x0100007fu) == "127.0.0.1");
  CHECK(ipv4_text(0x01004d0au) == "10.77.0.1");
  CHECK(ipv4_text(0) == "0.0.0.0");
  CHECK(ipv4_text(0xffffffffu) == "255.255.255.255");
}

TEST_CASE("hardware addresses are two hex digits a byte", "[net_names]") {
  CHECK(hwaddr_text({0x02, 0x00, 0x00, 0x00, 0x77, 0x02}) == "02:00:00:00:77:02");
  CHECK(hwaddr_text({0xab, 0x0c}, ' ') == "ab 0c");
  CHECK(hwaddr_text({}).empty());
}

TEST_CASE("NUD states are named in the kernel's bit order", "[net_names]") {
  CHECK(nud_state_names(0).empty());
  CHECK(nud_state_names(0x02) == "REACHABLE");
  CHECK(nud_state_names(0x40) == "NOARP");
  CHECK(nud_state_names(0x80) == "PERMANENT");
  CHECK(nud_state_names(0x81) == "INCOMPLETE|PERMANENT");
}

TEST_CASE("socket families and types in crash's names", "[net_names]") {
  CHECK(family_name(1) == "UNIX");
  CHECK(family_name(2) == "INET");
  CHECK(family_name(10) == "INET6");
  CHECK(family_name(16) == "NETLINK/ROUTE");
  CHECK(family_name(15) == "15");  // AF_KEY: crash has no name for it
  CHECK(family_name(44) == "44");
  CHECK(socket_type_name(1) == "STREAM");
  CHECK(socket_type_name(2) == "DGRAM");
  CHECK(socket_type_name(5) == "SEQPACKET");
  CHECK(socket_type_name(6) == "6");
}
