// eval and ascii need no dump: their lines are checked against what crash 8.0.2
// prints for the same input.
#include <catch2/catch.hpp>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
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

kdive::Json run_json(const std::string& name, const std::vector<std::string>& words) {
  kdive::Session session({});
  kdive::StringOutput out(kdive::OutputMode::Json);
  const kdive::Command* c = kdive::CommandRegistry::instance().find(name);
  REQUIRE(c != nullptr);
  c->run(session, kdive::parse_args(c->spec, words), out);
  CHECK(out.str().empty());  // no text in JSON mode
  return out.take_result();
}

}  // namespace

TEST_CASE("eval shows a value four ways, with its size in KB/MB/GB", "[eval]") {
  CHECK(run("eval", {"4096"}) ==
        "hexadecimal: 1000  (4KB)\n"
        "    decimal: 4096\n"
        "      octal: 10000\n"
        "     binary: 0000000000000000000000000000000000000000000000000001000000000000\n");
  // k, m and g multiply; the size note takes the largest unit that divides.
  CHECK(run("eval", {"4k*3"}).rfind("hexadecimal: 3000  (12KB)\n    decimal: 12288\n      octal: 30000\n", 0) == 0);
  CHECK(run("eval", {"3g"}).rfind("hexadecimal: c0000000  (3GB)\n", 0) == 0);
  CHECK(run("eval", {"3G"}).rfind("hexadecimal: c0000000  (3GB)\n", 0) == 0);
  CHECK(run("eval", {"2m"}).rfind("hexadecimal: 200000  (2MB)\n", 0) == 0);
  CHECK(run("eval", {"4M+1G"}).rfind("hexadecimal: 40400000  (1028MB)\n", 0) == 0);
  CHECK(run("eval", {"1000k"}).rfind("hexadecimal: fa000  (1000KB)\n", 0) == 0);
  CHECK(run("eval", {"10000000000"}).rfind("hexadecimal: 2540be400  (9765625KB)\n", 0) == 0);
  CHECK(run("eval", {"1k", "+", "1"}).rfind("hexadecimal: 401\n", 0) == 0);
  CHECK(run("eval", {"1g", "-", "1"}).rfind("hexadecimal: 3fffffff\n", 0) == 0);
  CHECK(run("eval", {"0"}).rfind("hexadecimal: 0\n", 0) == 0);
}

TEST_CASE("eval reads numbers as crash does", "[eval]") {
  // A leading 0 is decimal, not octal.
  CHECK(run("eval", {"012"}).rfind("hexadecimal: c\n    decimal: 12\n", 0) == 0);
  // Hex without 0x when it has a letter, or when it is letters naming no symbol.
  CHECK(run("eval", {"ffffffff81000000"}).rfind("hexadecimal: ffffffff81000000  (17592186042384MB)\n", 0) == 0);
  CHECK(run("eval", {"deadbeef"}).rfind("hexadecimal: deadbeef\n    decimal: 3735928559\n", 0) == 0);
  CHECK(run("eval", {"abc"}).rfind("hexadecimal: abc\n", 0) == 0);
  CHECK(run("eval", {"0b101"}).rfind("hexadecimal: b101\n", 0) == 0);
  CHECK(run("eval", {"0x10k"}).rfind("hexadecimal: 4000  (16KB)\n", 0) == 0);
}

TEST_CASE("eval computes in unsigned 64 bits with C precedence", "[eval]") {
  CHECK(run("eval", {"0x1000 + 3 * 2"}).rfind("hexadecimal: 1006\n", 0) == 0);
  CHECK(run("eval", {"(1 << 40) | 7"}).rfind("hexadecimal: 10000000007\n", 0) == 0);
  CHECK(run("eval", {"f00f", "&", "0xff"}).rfind("hexadecimal: f\n", 0) == 0);
  CHECK(run("eval", {"(0x100 >> 4) - 1"}).rfind("hexadecimal: f\n", 0) == 0);
  CHECK(run("eval", {"17 % 5 ^ 1"}).rfind("hexadecimal: 3\n", 0) == 0);
  CHECK(run("eval", {"10 / 4 * 4"}).rfind("hexadecimal: 8\n", 0) == 0);
  // Negative results wrap to 64 bits and are also shown signed.
  CHECK(run("eval", {"~5"}).find("    decimal: 18446744073709551610  (-6)\n") != std::string::npos);
  CHECK(
      run("eval", {"10 - 20"}).rfind("hexadecimal: fffffffffffffff6\n    decimal: 18446744073709551606  (-10)\n", 0) ==
      0);
  CHECK(run("eval", {"-1"}).find("binary: " + std::string(64, '1')) != std::string::npos);
  CHECK(run("eval", {"-1"}).find("      octal: 1777777777777777777777\n") != std::string::npos);
  // Bit 63 is reachable from a plain 1 (crash's numbers are 64-bit).
  CHECK(run("eval", {"1 << 63"}) ==
        "hexadecimal: 8000000000000000  (8589934592GB)\n"
        "    decimal: 9223372036854775808  (-9223372036854775808)\n"
        "      octal: 1000000000000000000000\n"
        "     binary: 1000000000000000000000000000000000000000000000000000000000000000\n");
  // Comparisons and logic give 0 or 1.
  CHECK(run("eval", {"3 > 2 && 1"}).rfind("hexadecimal: 1\n", 0) == 0);
  CHECK(run("eval", {"3 < 2 ? 5 : 6"}).rfind("hexadecimal: 6\n", 0) == 0);
}

TEST_CASE("eval -b lists the set bits, highest first, wrapped as crash wraps them", "[eval]") {
  CHECK(run("eval", {"-b", "0xf00f"}).find("   bits set: 15 14 13 12 3 2 1 0\n") != std::string::npos);
  CHECK(run("eval", {"-lb", "64g"}).find("   bits set: 36\n") != std::string::npos);
  CHECK(run("eval", {"-l", "64g"}) == run("eval", {"64g"}));  // -l: every value is 64-bit already
  CHECK(run("eval", {"-b", "0"}).ends_with("   bits set:\n"));
  std::string all = run("eval", {"-b", "-1"});
  CHECK(all.find("   bits set: 63 62 61 60 59 58 57 56 55 54 53 52 51 50 49 48 47 46 45 44 43 42\n"
                 "             41 40 39 38 37 36 35 34 33 32 31 30 29 28 27 26 25 24 23 22 21 20\n"
                 "             19 18 17 16 15 14 13 12 11 10 9 8 7 6 5 4 3 2 1 0\n") != std::string::npos);
}

TEST_CASE("eval rejects bad expressions in one line", "[eval]") {
  CHECK_THROWS_AS(run("eval", {"5 5"}), kdive::CommandError);
  CHECK_THROWS_AS(run("eval", {"(3"}), kdive::CommandError);
  CHECK_THROWS_WITH(run("eval", {"3 / 0"}), "invalid expression: 3 / 0: division by zero");
  CHECK_THROWS_WITH(run("eval", {"nosuchsymbol"}),
                    "invalid expression: nosuchsymbol: no symbol \"nosuchsymbol\" in current context");
  CHECK_THROWS_AS(run("eval", {"1.5"}), kdive::CommandError);
  CHECK_THROWS_AS(run("eval", {}), kdive::CommandError);
}

TEST_CASE("eval's JSON result: the value as hex, the renderings as text", "[eval]") {
  kdive::Json r = run_json("eval", {"-b", "4k*3"});
  CHECK(r["value"] == "0x3000");
  CHECK(r["decimal"] == "12288");
  CHECK(r["signed"] == "12288");
  CHECK(r["octal"] == "30000");
  CHECK(r["binary"] == std::string(50, '0') + "11000000000000");
  CHECK(r["size"] == "12KB");
  CHECK(r["bits_set"] == kdive::Json::array({13, 12}));
  kdive::Json neg = run_json("eval", {"-6"});
  CHECK(neg["value"] == "0xfffffffffffffffa");
  CHECK(neg["signed"] == "-6");
  CHECK(neg["size"].is_null());
  CHECK_FALSE(neg.contains("bits_set"));
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

TEST_CASE("ascii's JSON result: each value and its characters; the chart as codes and names", "[ascii]") {
  kdive::Json r = run_json("ascii", {"0x41424344", "414243440a45"});
  CHECK(r == kdive::Json::parse(R"([{"value":"0x41424344","text":"DCBA<NUL><NUL><NUL><NUL>"},
                                    {"value":"0x414243440a45","text":"E<LF>DCBA<NUL><NUL>"}])"));
  kdive::Json chart = run_json("ascii", {});
  REQUIRE(chart.size() == 128);
  CHECK(chart[0] == kdive::Json::parse(R"({"code":0,"name":"NUL"})"));
  CHECK(chart[32]["name"] == "SP");
  CHECK(chart[65]["name"] == "A");
  CHECK(chart[127]["name"] == "DEL");
}
