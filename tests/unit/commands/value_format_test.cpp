// gdb-style value and layout formatting over a compiled C program.
#include "commands/value_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "commands/api/output.hpp"
#include "commands/type_layout.hpp"
#include "kernel-model/errors.hpp"
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
  // In hex, gdb shows a char or a bool as the number alone.
  CHECK(show("letter", 16) == "0x51");
  CHECK(show("flag_true") == "true");
  CHECK(show("flag_true", 16) == "0x1");
  // A flexible array member: where it starts, as gdb prints it.
  const std::string counts = show("the_counts");
  CHECK(counts.starts_with("{\n  n = 2,\n  values = 0x"));
  CHECK(counts.find("{}") == std::string::npos);
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
  // A char array goes in runs of one byte, each run whole (crash shows no
  // "<repeats>"): "x" then 298 NULs (the last of 299 dropped) print in full.
  std::string nuls;
  for (int i = 0; i < 298; ++i) nuls += "\\000";
  CHECK(show("big_string") == "\"x" + nuls + "\"");
  CHECK(escape_c_string(std::string("a\"b\\\n\x01", 6)) == "a\\\"b\\\\\\n\\001");
  // A digit right after an octal escape is escaped too (gdb, and so crash:
  // comm "sh\000kset\000\060"), letters are not; after \n nothing changes.
  CHECK(escape_c_string(std::string("sh\0kset\0"
                                    "0\0",
                                    10)) == "sh\\000kset\\000\\060\\000");
  CHECK(escape_c_string(std::string("a\0"
                                    "b1",
                                    4)) == "a\\000b1");
  CHECK(escape_c_string(std::string("\x01"
                                    "12",
                                    3)) == "\\001\\061\\062");
  CHECK(escape_c_string("\n1") == "\\n1");
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
  Json j = print_struct_members(out, evaluate(ctx, "the_task"), {"pid", "point.y", "flags.b", "grid[2][1]"}, f);
  // No comma after the last member of its own struct (y of point), as gdb prints it.
  CHECK(out.str() == "  pid = 42,\n  point.y = -9\n  flags.b = 5,\n  grid[2][1] = 21,\n");
  CHECK(is_last_member(ctx.types().require("struct task"), "parent"));
  CHECK(is_last_member(ctx.types().require("struct task"), "high"));  // last of an anonymous struct
  CHECK_FALSE(is_last_member(ctx.types().require("struct task"), "low"));
  CHECK(is_last_member(ctx.types().require("struct task"), "tasks.prev"));
  CHECK(j.dump() == R"({"pid":42,"point.y":-9,"flags.b":5,"grid[2][1]":21})");
  // Unknown members and bad subscripts: an error before anything is printed.
  StringOutput none;
  CHECK_THROWS_AS(print_struct_members(none, evaluate(ctx, "the_task"), {"pid", "nosuch"}, f), Error);
  CHECK_THROWS_AS(print_struct_members(none, evaluate(ctx, "the_task"), {"grid[3]"}, f), Error);
  CHECK_THROWS_AS(print_struct_members(none, evaluate(ctx, "the_task"), {"pid[0]"}, f), Error);
  CHECK_THROWS_AS(print_struct_members(none, evaluate(ctx, "the_task"), {"grid[x]"}, f), Error);
  CHECK(none.str().empty());
  // A pointer on the way is followed.
  CHECK(member_at_path(evaluate(ctx, "the_task"), "parent.tgid").as_u64() == 4242);
  CHECK(member_type_at_path(ctx.types().require("struct task"), "tasks.next").spell() == "struct list_head *");

  // A whole instance, as struct and list -s show it.
  CHECK(format_instance(evaluate(ctx, "tasks_array[1].tasks"), f) ==
        "struct list_head {\n  next = 0x0,\n  prev = 0x0\n}");
}

TEST_CASE("value format: an instance that cannot be read", "[value_format]") {
  test::ElfEvalContext ctx(program());
  ValueFormat f = plain();
  Value nowhere = evaluate(ctx, "*(struct task *)0x10");
  StringOutput out;
  // Nothing readable: one Fault, nothing printed, nothing reported lost.
  CHECK_THROWS_AS(print_struct_members(out, nowhere, {"pid", "tgid"}, f), Fault);
  CHECK_THROWS_AS(format_instance(nowhere, f), Fault);
  CHECK(out.str().empty());
  CHECK(out.lost_items().empty());
}

TEST_CASE("value JSON: objects, arrays, text, addresses, names, numbers", "[value_format]") {
  test::ElfEvalContext ctx(program());
  auto json = [&](std::string_view e) { return value_json(evaluate(ctx, e)); };
  CHECK(json("the_task.pid") == 42);
  CHECK(json("negative") == -5);
  CHECK(json("letter") == 81);
  CHECK(json("the_task.colour") == "BLUE");
  CHECK(json("the_task.comm") == "kd-worker");  // text up to the NUL
  CHECK(json("the_task.grid") == Json::parse("[[0,1,2,3],[10,11,12,13],[20,21,22,23]]"));
  CHECK(json("the_task.point") == Json::parse(R"({"x":7,"y":-9})"));
  CHECK(json("the_task.flags.d") == -3);
  CHECK(json("the_task.flags.wide") == 0x123456789a);
  uint64_t task = *ctx.symbol_address("the_task");
  CHECK(json("&the_task") == fmt::format("{:#x}", task));
  CHECK(json("task_ptr") == fmt::format("{:#x}", task));
  CHECK(json("the_task.handler") == fmt::format("{:#x}", *ctx.symbol_address("do_handle")));
  CHECK(json("the_task.name").get<std::string>().starts_with("0x"));
  // Integers beyond 2^53 are exact only as hex strings.
  CHECK(json("the_task.word") == "0x1122334455667788");
  CHECK(json("(unsigned long)1 << 53") == 1ull << 53);
  CHECK(json("((unsigned long)1 << 53) + 1") == "0x20000000000001");
  CHECK(json("-((long)1 << 60)") == "0xf000000000000000");
  CHECK(json("-((long)1 << 53)") == -(1ll << 53));
  CHECK(json_integer(uint64_t{5}) == 5);
  CHECK(json_integer(int64_t{-5}) == -5);
  // Anonymous unions and structs: their members are the enclosing struct's.
  Json t = json("the_task");
  CHECK(t["word"] == "0x1122334455667788");
  CHECK(t["low"] == 0x7788);
  CHECK(t["high"] == 0x5566);
  CHECK_FALSE(t.contains(""));
  CHECK(t["tasks"] == Json::parse(R"({"next":"0x0","prev":"0x0"})"));
  CHECK(t["flags"]["tail"] == 'z');
  CHECK(t.size() == 15);  // pid comm word low high point grid tasks handler callback colour tgid name flags parent
  Json big = json("big_array");
  CHECK(big.size() == 300);
  CHECK(big[2] == 3);
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
  // A named member of anonymous type: its members without offsets, its own on
  // the closing line (crash's struct -o); unnamed ones show their members'.
  std::string with_offsets = format_layout(ctx.types().require("struct task"), {.offsets = true});
  auto at = [&](const char* global, int minus) {
    // Offsets right-aligned to the width of "[160]" (the size) plus two.
    return fmt::format("{:>7}", fmt::format("[{}]", ctx.global_u64(global) - minus));
  };
  CHECK(with_offsets.find("        struct {\n            int x;\n            int y;\n" +
                          at("expect_offsetof_point_y", 4) + " } point;\n") != std::string::npos);
  CHECK(with_offsets.find(at("expect_offsetof_word", 0) + "     unsigned long word;\n") != std::string::npos);
}

TEST_CASE("type layout: an array of an anonymous struct is written out, as crash does", "[value_format]") {
  test::ElfEvalContext ctx(std::string(KDIVE_TYPEPROG_DIR) + "/scope-prog");
  // scope_b.c's struct local holds `struct { char c; short s; } pairs[2]`.
  ctx.types().set_scope(*ctx.symbol_address("scope_b_func"));
  const Type& local = ctx.types().require("struct local");
  CHECK(format_layout(local, {}).find("    struct {\n        char c;\n        short s;\n    } pairs[2];\n}\n") !=
        std::string::npos);
  // struct -o: the members without offsets, the array's own on its closing line.
  const std::string offsets = fmt::format("[{}]", ctx.global_u64("scope_b_offsetof_pairs"));
  const std::string with_offsets = format_layout(local, {.offsets = true});
  INFO(with_offsets);
  CHECK(with_offsets.find(fmt::format("{0:7}    char c;\n{0:7}    short s;\n{1:>6} }} pairs[2];\n", "", offsets)) !=
        std::string::npos);
}

TEST_CASE("type layout JSON: members with offsets, anonymous ones inline", "[value_format]") {
  test::ElfEvalContext ctx(program());
  const Type& task = ctx.types().require("struct task");
  Json layout = layout_json(task);
  auto find = [&](std::string_view name) {
    for (const Json& m : layout) {
      if (m["member"] == name) return m;
    }
    FAIL("no member " << name);
    return Json();
  };
  CHECK(find("comm") == Json::parse(fmt::format(R"({{"member":"comm","offset":{},"size":16,"type":"char [16]"}})",
                                                ctx.global_u64("expect_offsetof_comm"))));
  CHECK(find("high")["offset"] == ctx.global_u64("expect_offsetof_high"));
  CHECK(find("point")["type"] == "struct {...}");
  CHECK(find("tgid")["offset"] == ctx.global_u64("expect_offsetof_tgid"));
  Json flags = layout_json(ctx.types().require("struct flags"));
  CHECK(flags[3] == Json::parse(R"({"member":"d","offset":2,"size":4,"type":"int","bit_offset":0,"bit_size":5})"));
  Json with_address = member_layout_json(task, {"point.y"}, 0x1000);
  CHECK(with_address[0]["member"] == "point.y");
  CHECK(with_address[0]["address"] == fmt::format("{:#x}", 0x1000 + ctx.global_u64("expect_offsetof_point_y")));
  CHECK_THROWS_AS(member_layout_json(task, {"nosuch"}), Error);

  Json colour = type_json(ctx.types().require("enum colour"));
  CHECK(colour["kind"] == "enum");
  CHECK(colour["enumerators"][2] == Json::parse(R"({"name":"BLUE","value":6})"));
  Json tgid = type_json(*task.require_member("tgid").type);
  CHECK(tgid == Json::parse(R"({"kind":"base","type":"pid_chain_t","size":4})"));
  CHECK(type_json(task)["members"].size() == layout.size());
}

}  // namespace kdive
