// A typed value as JSON, over a compiled C program whose values the compiler
// laid out (tests/unit/kernel-model/typeprog/types.c).
#include <catch2/catch.hpp>

#include "commands/value_format.hpp"
#include "tests/unit/support/elf_eval_context.hpp"

namespace kdive {
namespace {

std::string program() { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf5"; }

}  // namespace

TEST_CASE("value JSON: numbers, text, addresses and names", "[value_json]") {
  test::ElfEvalContext ctx(program());
  auto json_of = [&](std::string_view e) { return value_json(evaluate(ctx, e)); };
  CHECK(json_of("the_task.pid") == 42);
  CHECK(json_of("negative") == -5);
  CHECK(json_of("counter") == 123456789);
  // A char array is its text up to the first NUL, not the 16 bytes.
  CHECK(json_of("the_task.comm") == "kd-worker");
  CHECK(json_of("the_task.colour") == "BLUE");
  CHECK(json_of("wide_value") == "WIDE_HIGH");
  // Beyond 2^53 a JSON reader would round the number: hex text instead.
  CHECK(json_of("the_task.word") == "0x1122334455667788");
  // A 40-bit bitfield that fits a double stays a number; a signed one keeps its sign.
  CHECK(json_of("the_task.flags.wide") == 0x123456789aull);
  CHECK(json_of("the_task.flags.d") == -3);
  CHECK(json_of("the_task.grid[2]") == Json::array({20, 21, 22, 23}));

  const Json name = json_of("the_task.name");
  REQUIRE(name.is_string());
  CHECK(name.get<std::string>().starts_with("0x"));
  CHECK(json_of("the_task.tasks.next") == "0x0");
  CHECK(json_of("&the_task") == json_hex(evaluate(ctx, "&the_task").as_u64()));
}

TEST_CASE("value JSON: a struct is an object of its members", "[value_json]") {
  test::ElfEvalContext ctx(program());
  const Json task = value_json(evaluate(ctx, "the_task"));
  REQUIRE(task.is_object());
  CHECK(task["pid"] == 42);
  CHECK(task["point"] == Json{{"x", 7}, {"y", -9}});
  CHECK(task["grid"][1] == Json::array({10, 11, 12, 13}));
  CHECK(task["flags"] == Json{{"a", 1}, {"b", 5}, {"c", 0xabc}, {"d", -3}, {"wide", 0x123456789aull}, {"tail", 'z'}});
  // The anonymous union and the anonymous struct inside it: their members
  // stand in the parent, as C names them (the_task.high).
  CHECK(task["word"] == "0x1122334455667788");
  CHECK(task["low"] == 0x7788);
  CHECK(task["high"] == 0x5566);
  CHECK_FALSE(task.contains(""));
  // Function pointers are addresses: that of do_handle.
  CHECK(task["handler"] == json_hex(evaluate(ctx, "&do_handle").as_u64()));
  CHECK(task["parent"] == json_hex(evaluate(ctx, "&the_task").as_u64()));
  // The keys come in the structure's order.
  CHECK(task.begin().key() == "pid");
}

}  // namespace kdive
