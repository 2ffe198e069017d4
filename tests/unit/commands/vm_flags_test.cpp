// vm -f's text and JSON from decoded flags, and its argument parsing: no dump
// needed (the names themselves come from the kernel and are tested on the
// fixtures, tests/vm/vm_flags_test.cpp).
#include "commands/vm_flags.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "commands/api/command.hpp"

using kdive::DecodedVmaFlags;

TEST_CASE("vm -f prints the value and its names as crash does", "[vm_flags]") {
  DecodedVmaFlags d{{"READ", "WRITE", "MAYREAD"}, 0};
  CHECK(kdive::vm_flags_text(0x8100073, d) == "8100073: (READ|WRITE|MAYREAD)");
  CHECK(kdive::vm_flags_text(0, DecodedVmaFlags{}) == "0: ()");
}

TEST_CASE("vm -f shows bits without a name in hex after the names", "[vm_flags]") {
  CHECK(kdive::vm_flags_text(0x100000001, DecodedVmaFlags{{"READ"}, 0x100000000}) == "100000001: (READ|0x100000000)");
  CHECK(kdive::vm_flags_text(0x100000000, DecodedVmaFlags{{}, 0x100000000}) == "100000000: (0x100000000)");
  kdive::Json j = kdive::vm_flags_json(0x100000001, DecodedVmaFlags{{"READ"}, 0x100000000});
  CHECK(j["flags"] == "0x100000001");
  CHECK(j["names"] == kdive::Json::array({"READ"}));
  CHECK(j["unknown"] == "0x100000000");
}

TEST_CASE("vm -f takes hex with or without 0x and nothing else", "[vm_flags]") {
  CHECK(kdive::parse_vm_flags("8100073") == 0x8100073);
  CHECK(kdive::parse_vm_flags("0x8100073") == 0x8100073);
  CHECK(kdive::parse_vm_flags("FF") == 0xff);
  CHECK_THROWS_AS(kdive::parse_vm_flags("zz"), kdive::CommandError);
  CHECK_THROWS_AS(kdive::parse_vm_flags(""), kdive::CommandError);
  CHECK_THROWS_AS(kdive::parse_vm_flags("0x"), kdive::CommandError);
  CHECK_THROWS_AS(kdive::parse_vm_flags("12 34"), kdive::CommandError);
  CHECK_THROWS_AS(kdive::parse_vm_flags("1ffffffffffffffff"), kdive::CommandError);
}
