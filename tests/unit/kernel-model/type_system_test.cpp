// The DWARF type engine against what the C compiler laid out: sizes and
// offsets come from offsetof/sizeof values the program stores in globals, so
// the expectations are the compiler's, not the test's.
#include "kernel-model/type_system.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/elf_eval_context.hpp"

namespace kdive {
namespace {

std::string program(int dwarf) { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf" + std::to_string(dwarf); }

}  // namespace

TEST_CASE("type engine: sizes and offsets match the compiler", "[types]") {
  int dwarf = GENERATE(4, 5);
  CAPTURE(dwarf);
  test::ElfEvalContext ctx(program(dwarf));
  TypeSystem& types = ctx.types();

  const Type* task = types.lookup("struct task");
  REQUIRE(task != nullptr);
  CHECK(task->size() == ctx.global_u64("expect_sizeof_task"));
  CHECK(types.require("struct flags").size() == ctx.global_u64("expect_sizeof_flags"));
  CHECK(types.require("struct blob").size() == ctx.global_u64("expect_sizeof_blob"));

  CHECK(task->member("comm")->offset == ctx.global_u64("expect_offsetof_comm"));
  // Members of anonymous unions and structs are found as direct members.
  CHECK(task->member("word")->offset == ctx.global_u64("expect_offsetof_word"));
  CHECK(task->member("high")->offset == ctx.global_u64("expect_offsetof_high"));
  CHECK(task->member("point.y")->offset == ctx.global_u64("expect_offsetof_point_y"));
  CHECK(task->member("tasks.prev")->offset == ctx.global_u64("expect_offsetof_tasks_prev"));
  CHECK(task->member("handler")->offset == ctx.global_u64("expect_offsetof_handler"));
  CHECK(task->member("colour")->offset == ctx.global_u64("expect_offsetof_colour"));
  CHECK(task->member("tgid")->offset == ctx.global_u64("expect_offsetof_tgid"));
  CHECK(task->member("flags")->offset == ctx.global_u64("expect_offsetof_flags"));
  CHECK(types.require("struct flags").member("tail")->offset == ctx.global_u64("expect_offsetof_tail"));
  CHECK_FALSE(task->member("nosuch"));
  CHECK_FALSE(task->member("point.z"));

  // Arrays of arrays: int grid[3][4] is 3 rows of 4.
  auto grid = task->member("grid");
  REQUIRE(grid);
  CHECK(grid->offset == ctx.global_u64("expect_offsetof_grid"));
  CHECK(grid->type->count() == 3u);
  CHECK(grid->type->target()->count() == 4u);
  CHECK(grid->type->target()->size() == ctx.global_u64("expect_sizeof_grid_row"));
  CHECK(grid->type->spell("grid") == "int grid[3][4]");

  // A flexible array member has no count and takes no room.
  auto data = types.require("struct blob").member("data");
  REQUIRE(data);
  CHECK(data->offset == ctx.global_u64("expect_offsetof_data"));
  CHECK_FALSE(data->type->count().has_value());
  CHECK(data->type->spell("data") == "unsigned char data[]");
}

TEST_CASE("type engine: typedef chains, enums, function pointers, bitfields", "[types]") {
  int dwarf = GENERATE(4, 5);
  CAPTURE(dwarf);
  test::ElfEvalContext ctx(program(dwarf));
  TypeSystem& types = ctx.types();
  const Type& task = types.require("struct task");

  const Type* tgid = task.member("tgid")->type;
  CHECK(tgid->kind() == TypeKind::Typedef);
  CHECK(tgid->name() == "pid_chain_t");
  CHECK(tgid->target()->name() == "pid_like_t");
  CHECK(tgid->strip().name() == "int");
  CHECK(tgid->size() == 4);
  CHECK(tgid->is_signed());

  const Type& colour = task.member("colour")->type->strip();
  REQUIRE(colour.kind() == TypeKind::Enum);
  CHECK(colour.enumerators().size() == 4);
  CHECK(types.enumerator("GREEN") == 5);
  CHECK(types.enumerator("BLUE") == 6);
  CHECK(types.enumerator("NEGATIVE") == -2);
  // Unsigned constants in data1/data4 forms are not sign-extended.
  CHECK(types.enumerator("WIDE_BYTE") == 200);
  CHECK(types.enumerator("WIDE_HIGH") == 0x80000000ll);
  const Type& wide = types.require("enum wide");
  REQUIRE(wide.enumerators().size() == 2);
  CHECK(wide.enumerators()[0].value == 200);
  CHECK(wide.enumerators()[1].value == 0x80000000ll);

  CHECK(task.member("handler")->type->spell("handler") == "handler_t handler");
  CHECK(task.member("handler")->type->strip().spell("h") == "long (*h)(struct list_head *, int)");
  CHECK(task.member("callback")->type->spell("callback") == "void (*callback)(void)");
  CHECK(task.member("name")->type->spell("name") == "const char *name");

  const Type& flags = types.require("struct flags");
  CHECK(flags.member("a")->bit_size == 1);
  CHECK(flags.member("b")->bit_size == 3);
  CHECK(flags.member("c")->bit_size == 12);
  CHECK(flags.member("wide")->bit_size == 40);
  // Bit positions: a at bit 0, b at 1..3, c at 4..15 of the first word.
  auto bitpos = [&](const char* m) { return flags.member(m)->offset * 8 + flags.member(m)->bit_offset; };
  CHECK(bitpos("a") == 0);
  CHECK(bitpos("b") == 1);
  CHECK(bitpos("c") == 4);
  CHECK(bitpos("d") == 16);

  CHECK(types.lookup("struct task *")->target() == &task);
  CHECK(types.lookup("unsigned long")->size() == 8);
  CHECK(types.lookup("struct nosuch") == nullptr);
}

TEST_CASE("type engine: a missing member is an error naming the type and the member", "[types]") {
  test::ElfEvalContext ctx(program(5));
  const Type& task = ctx.types().require("struct task");
  CHECK(task.require_member("point.y").offset == ctx.global_u64("expect_offsetof_point_y"));
  CHECK_THROWS_MATCHES(task.require_member("point.z"), Error,
                       Catch::Matchers::Message("struct task has no member 'point.z'"));
  try {
    task.require_member("nosuch");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == Error::Kind::Lookup);
  }
  // Through a typedef the struct underneath answers; a scalar has no members.
  CHECK_THROWS_MATCHES(task.require_member("pid.x"), Error,
                       Catch::Matchers::Message("struct task has no member 'pid.x'"));
  CHECK_THROWS_MATCHES(ctx.types().require("pid_chain_t").require_member("x"), Error,
                       Catch::Matchers::Message("'int' is not a struct or union: no member 'x'"));
}

TEST_CASE("scalars: one extraction, bitfields included", "[types]") {
  test::ElfEvalContext ctx(program(5));
  TypeSystem& types = ctx.types();
  const Type& ulong = types.require("unsigned long");
  const Type& integer = types.require("int");
  std::array<std::byte, 9> b{};
  auto set = [&](std::initializer_list<int> v) {
    size_t i = 0;
    for (int x : v) b[i++] = std::byte(static_cast<uint8_t>(x));
  };
  set({0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xff});
  CHECK(extract_scalar(ulong, b) == 0x1122334455667788ull);
  CHECK(scalar_bytes(ulong) == 8);
  CHECK(extract_scalar(integer, b) == 0x55667788u);
  CHECK(extract_signed_scalar(integer, std::span(b).first(4)) == 0x55667788);
  set({0xfb, 0xff, 0xff, 0xff});
  CHECK(extract_signed_scalar(integer, b) == -5);
  CHECK(extract_scalar(integer, b) == 0xfffffffbu);

  // A signed 5-bit field at bit 4 holding -3 (0b11101).
  set({0xd0, 0x01});
  CHECK(scalar_bytes(integer, 4, 5) == 2);
  CHECK(extract_scalar(integer, b, 4, 5) == 0x1d);
  CHECK(extract_signed_scalar(integer, b, 4, 5) == -3);
  // A 64-bit field starting at bit 3 reaches into a ninth byte.
  uint64_t wide = 0xf123456789abcdefull;
  std::array<std::byte, 9> w{};
  uint64_t low = wide << 3;
  std::memcpy(w.data(), &low, 8);
  w[8] = std::byte(static_cast<uint8_t>(wide >> 61));
  CHECK(scalar_bytes(ulong, 3, 64) == 9);
  CHECK(extract_scalar(ulong, w, 3, 64) == wide);
  // Not scalars, or not enough bytes: errors, never a read past the buffer.
  CHECK_THROWS_AS(scalar_bytes(types.require("struct flags")), Error);
  CHECK_THROWS_AS(scalar_bytes(*types.lookup("struct task")->member("comm")->type), Error);
  CHECK_THROWS_AS(scalar_bytes(ulong, 3, 65), Error);
  CHECK_THROWS_AS(extract_scalar(ulong, std::span(w).first(8), 3, 64), Error);
  CHECK_THROWS_AS(extract_scalar(ulong, std::span(w).first(4)), Error);

  // Typed objects in expressions use it: the program's own bitfields.
  CHECK(evaluate(ctx, "the_task.flags.wide").as_u64() == 0x123456789aull);
  CHECK(evaluate(ctx, "the_task.flags.d").as_i64() == -3);
  CHECK_THROWS_AS(evaluate(ctx, "the_task.point").as_u64(), Error);
}

}  // namespace kdive
