#include "commands/api/aliases.hpp"

#include <catch2/catch.hpp>

using kdive::AliasTable;

TEST_CASE("crash's built-in aliases are there from the start", "[unit]") {
  AliasTable a;
  REQUIRE(a.find("dmesg") != nullptr);
  CHECK(a.find("dmesg")->command == "log");
  CHECK(a.find("dmesg")->builtin);
  CHECK(a.all().front().name == "man");
  CHECK(a.expand("dmesg -T | tail") == "log -T | tail");
  CHECK(a.expand("  last") == "ps -l");
}

TEST_CASE("runtime aliases replace, expand only the first word, and go away", "[unit]") {
  AliasTable a;
  a.define("pp", "ps -p");
  CHECK(a.expand("pp 1 2") == "ps -p 1 2");
  CHECK(a.expand("pp>out") == "ps -p>out");
  CHECK_FALSE(a.expand("ppx 1"));
  CHECK_FALSE(a.expand("echo pp"));
  CHECK_FALSE(a.expand(""));
  a.define("pp", "ps -k");
  CHECK(a.expand("pp") == "ps -k");
  CHECK_FALSE(a.find("pp")->builtin);
  CHECK(a.remove("pp"));
  CHECK_FALSE(a.remove("pp"));
  CHECK_FALSE(a.expand("pp 1"));
}
