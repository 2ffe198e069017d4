// gdb-style value and layout formatting over a compiled C program.
#include "commands/value_format.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "commands/api/output.hpp"
#include "commands/type_layout.hpp"
#include "tests/unit/support/elf_eval_context.hpp"

namespace kdive {
namespace {

std::string program() { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf5"; }

ValueFormat plain(int radix = 10) {
  ValueFormat f;
  f.radix = radix;
  return f;
}

}  // namespace

TEST_CASE("value format: scalars, strings, pointers", "[value_format]") {
  test::ElfEvalContext ctx(program());
  auto show = [&](std::string_view e, int radix = 10) { return format_top_level(evaluate(ctx, e), plain(radix)); };
  CHECK(show("the_task.pid") == "42");
  CHECK(show("the_task.pid", 16) == "0x2a");
  CHECK(show("negative") == "-5");
  CHECK(show("negative", 16) == "0xfffffffb");
  CHECK(show("letter") == "81 'Q'");
  CHECK(show("the_task.colour") == "BLUE");
  // gdb drops one trailing NUL of a full char array and shows the rest.
  CHECK(show("the_task.comm") == "\"kd-worker\\000\\000\\000\\000\\000\\000\"");
  CHECK(show("the_task.name").ends_with(" \"hello\""));
  CHECK(show("the_task.name").starts_with("0x"));
  CHECK(show("&the_task").starts_with("(struct task *) 0x"));
  CHECK(show("the_task.grid[1]") == "{10, 11, 12, 13}");
  CHECK(show("the_task.flags.d") == "-3");
  CHECK(show("the_task.point") == "{\n  x = 7,\n  y = -9\n}");
  // Like crash's gdb, at most 256 elements, then "...".
  std::string big = show("big_array");
  CHECK(big.starts_with("{1, 2, 3, 0, 0"));
  CHECK(big.ends_with(", 0...}"));
  CHECK(std::count(big.begin(), big.end(), ',') == 255);
  std::string text = show("big_string");
  CHECK(text.starts_with("\"x\\000"));
  CHECK(text.ends_with("\\000\"..."));
  CHECK(escape_c_string(std::string("a\"b\\\n\x01", 6)) == "a\\\"b\\\\\\n\\001");
}

TEST_CASE("value format: nested structs and arrays of structs indent as gdb", "[value_format]") {
  test::ElfEvalContext ctx(program());
  ValueFormat f = plain();
  f.symbolize = [&](uint64_t a) -> std::optional<std::string> {
    if (a == *ctx.symbol_address("do_handle")) return "do_handle";
    return std::nullopt;
  };
  std::string s = format_top_level(evaluate(ctx, "the_task"), f);
  CHECK(s.starts_with("{\n  pid = 42,\n  comm = \"kd-worker"));
  CHECK(
      s.find("\n  {\n    word = 1234605616436508552,\n    {\n      low = 30600,\n      high = 21862\n    }\n  },\n") !=
      std::string::npos);
  CHECK(s.find("  grid = {{0, 1, 2, 3}, {10, 11, 12, 13}, {20, 21, 22, 23}},\n") != std::string::npos);
  CHECK(s.find(" <do_handle>,\n") != std::string::npos);
  CHECK(s.find("  colour = BLUE,\n") != std::string::npos);
  CHECK(s.ends_with("\n}"));

  std::string arr = format_top_level(evaluate(ctx, "tasks_array[0].tasks"), f);
  CHECK(arr == "{\n  next = 0x0,\n  prev = 0x0\n}");

  StringOutput out;
  print_struct_members(out, evaluate(ctx, "the_task"), {"pid", "point.y", "flags.b"}, f);
  CHECK(out.str() == "  pid = 42,\n  point.y = -9,\n  flags.b = 5,\n");
  CHECK_THROWS(print_struct_members(out, evaluate(ctx, "the_task"), {"nosuch"}, f));
}

TEST_CASE("type layout: crash's struct and struct -o", "[value_format]") {
  test::ElfEvalContext ctx(program());
  const Type& lh = ctx.types().require("struct list_head");
  CHECK(format_layout(lh, {}) ==
        "struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\nSIZE: 16\n");
  CHECK(format_layout(lh, {.offsets = true}) ==
        "struct list_head {\n   [0] struct list_head *next;\n   [8] struct list_head *prev;\n}\nSIZE: 16\n");
  CHECK(format_layout(lh, {.offsets = true, .radix = 16}) ==
        "struct list_head {\n   [0x0] struct list_head *next;\n   [0x8] struct list_head *prev;\n}\nSIZE: 0x10\n");
  std::string task = format_layout(ctx.types().require("struct task"), {});
  CHECK(task.find("    union {\n        unsigned long word;\n        struct {\n            unsigned short low;\n") !=
        std::string::npos);
  CHECK(task.find("    int grid[3][4];\n") != std::string::npos);
  CHECK(task.find("    void (*callback)(void);\n") != std::string::npos);
  std::string flags = format_layout(ctx.types().require("struct flags"), {});
  CHECK(flags.find("    unsigned int b : 3;\n") != std::string::npos);
  CHECK(format_member_layout(lh, {"prev"}, {}) == "struct list_head {\n   [8] struct list_head *prev;\n}\n");
}

}  // namespace kdive
