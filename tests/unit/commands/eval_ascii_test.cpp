// eval and ascii need no dump: their lines are checked against crash's.
#include <catch2/catch.hpp>

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace {

std::string run(const std::string& name, const std::vector<std::string>& words) {
  kdive::Session session({});
  kdive::StringOutput out;
  const kdive::Command* c = kdive::CommandRegistry::instance().find(name);
  REQUIRE(c != nullptr);
  c->run(session, kdive::parse_args(c->spec, words), out);
  return out.str();
}

}  // namespace

TEST_CASE("eval shows a value four ways, with its size in KB/MB/GB", "[eval]") {
  CHECK(run("eval", {"4096"}) ==
        "hexadecimal: 1000  (4KB)\n"
        "    decimal: 4096\n"
        "      octal: 10000\n"
        "     binary: 0000000000000000000000000000000000000000000000000001000000000000\n");
  CHECK(run("eval", {"3g"}).rfind("hexadecimal: c0000000  (3GB)\n", 0) == 0);
  CHECK(run("eval", {"1000k"}).rfind("hexadecimal: fa000  (1000KB)\n", 0) == 0);
  CHECK(run("eval", {"10000000000"}).rfind("hexadecimal: 2540be400  (9765625KB)\n", 0) == 0);
  CHECK(run("eval", {"1g", "-", "1"}).rfind("hexadecimal: 3fffffff\n", 0) == 0);
}

TEST_CASE("eval follows C precedence and reads hex without 0x when it has letters", "[eval]") {
  CHECK(run("eval", {"0x1000 + 3 * 2"}).rfind("hexadecimal: 1006\n", 0) == 0);
  CHECK(run("eval", {"(1 << 40) | 7"}).rfind("hexadecimal: 10000000007\n", 0) == 0);
  CHECK(run("eval", {"f00f", "&", "0xff"}).rfind("hexadecimal: f\n", 0) == 0);
  CHECK(run("eval", {"(0x100 >> 4) - 1"}).rfind("hexadecimal: f\n", 0) == 0);
  CHECK(run("eval", {"17 % 5 ^ 1"}).rfind("hexadecimal: 3\n", 0) == 0);
  CHECK(run("eval", {"~5"}).find("    decimal: 18446744073709551610  (-6)\n") != std::string::npos);
  CHECK(run("eval", {"-1"}).find("binary: " + std::string(64, '1')) != std::string::npos);
}

TEST_CASE("eval -b lists the set bits, highest first", "[eval]") {
  CHECK(run("eval", {"-b", "0xf00f"}).find("   bits set: 15 14 13 12 3 2 1 0\n") != std::string::npos);
  CHECK(run("eval", {"-lb", "64g"}).find("   bits set: 36\n") != std::string::npos);
}

TEST_CASE("eval rejects bad expressions in one line", "[eval]") {
  CHECK_THROWS_AS(run("eval", {"5 5"}), kdive::CommandError);
  CHECK_THROWS_AS(run("eval", {"(3"}), kdive::CommandError);
  CHECK_THROWS_WITH(run("eval", {"3 / 0"}), "divide by zero");
  CHECK_THROWS_AS(run("eval", {"nosuchsymbol"}), kdive::CommandError);
  CHECK_THROWS_AS(run("eval", {}), kdive::CommandError);
}

TEST_CASE("ascii shows the bytes of a value in memory order", "[ascii]") {
  CHECK(run("ascii", {"62696c2f7273752f"}) == "62696c2f7273752f: /usr/lib\n");
  CHECK(run("ascii", {"0x41424344", "414243440a45"}) ==
        "0000000041424344: DCBA<NUL><NUL><NUL><NUL>\n"
        "0000414243440a45: E<LF>DCBA<NUL><NUL>\n");
  CHECK(run("ascii", {"7f80ff41"}) == "000000007f80ff41: A<ff><80><DEL><NUL><NUL><NUL><NUL>\n");
  CHECK_THROWS_AS(run("ascii", {"zz"}), kdive::CommandError);
  CHECK_THROWS_AS(run("ascii", {"12345678901234567"}), kdive::CommandError);
}

TEST_CASE("ascii without a value prints the chart", "[ascii]") {
  std::string chart = run("ascii", {});
  CHECK(chart.find("  0 | NUL DLE  SP  0   @   P   `   p\n") != std::string::npos);
  CHECK(chart.find("  F |  SI  US  /   ?   O   _   o  DEL\n") != std::string::npos);
}
