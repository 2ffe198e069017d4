// The expression evaluator over a compiled C program's DWARF and data.
#include "kernel-model/expression.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "kernel-model/errors.hpp"
#include "tests/unit/support/elf_eval_context.hpp"

namespace kdive {
namespace {

std::string program(int dwarf) { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf" + std::to_string(dwarf); }

}  // namespace

TEST_CASE("expressions: members, pointers, arrays, casts", "[expression]") {
  int dwarf = GENERATE(4, 5);
  CAPTURE(dwarf);
  test::ElfEvalContext ctx(program(dwarf));
  auto eval = [&](std::string_view e) { return evaluate(ctx, e); };
  uint64_t task = *ctx.symbol_address("the_task");

  CHECK(eval("the_task.pid").as_u64() == 42);
  CHECK(eval("task_ptr->pid").as_u64() == 42);
  CHECK(eval("(*task_ptr).tgid").as_u64() == 4242);
  CHECK(eval("the_task.parent->parent->pid").as_u64() == 42);
  CHECK(eval("&the_task").as_u64() == task);
  CHECK(eval("&the_task").type().spell() == "struct task *");
  CHECK(eval("&the_task.comm").as_u64() == task + ctx.global_u64("expect_offsetof_comm"));
  CHECK(eval("the_task.comm[2]").as_u64() == '-');
  CHECK(eval("the_task.grid[2][1]").as_u64() == 21);
  CHECK(eval("&the_task.grid[2][1]").as_u64() == task + ctx.global_u64("expect_offsetof_grid_2_1"));
  CHECK(eval("tasks_array[1].pid").as_u64() == 2);
  CHECK(eval("(&tasks_array[0] + 1)->pid").as_u64() == 2);
  CHECK(eval("&tasks_array[1] - &tasks_array[0]").as_i64() == 1);
  CHECK(eval("the_task.point.y").as_i64() == -9);
  CHECK(eval("the_task.high").as_u64() == 0x5566);
  CHECK(eval("the_task.word").as_u64() == 0x1122334455667788ull);
  CHECK(eval("the_task.colour").as_i64() == 6);
  CHECK(eval("the_task.colour == BLUE").as_u64() == 1);
  CHECK(eval("letter").as_u64() == 'Q');
  CHECK(eval("negative").as_i64() == -5);
  CHECK(eval("negative").type().spell() == "int");

  // Bitfields: positions and sign as the compiler packed them.
  CHECK(eval("the_task.flags.a").as_u64() == 1);
  CHECK(eval("the_task.flags.b").as_u64() == 5);
  CHECK(eval("the_task.flags.c").as_u64() == 0xabc);
  CHECK(eval("the_task.flags.d").as_i64() == -3);
  CHECK(eval("the_task.flags.wide").as_u64() == 0x123456789aull);
  CHECK(eval("the_task.flags.tail").as_u64() == 'z');

  // Casts: viewing memory as a struct, and integer conversions.
  CHECK(eval(fmt::format("((struct task *){:#x})->tgid", task)).as_u64() == 4242);
  CHECK(eval(fmt::format("*(struct list_head *){:#x}", task)).type().spell() == "struct list_head");
  CHECK(eval("(unsigned char)0x1ff").as_u64() == 0xff);
  CHECK(eval("(int)-1 < 0").as_u64() == 1);
  CHECK(eval("(unsigned long)&the_task == &the_task").as_u64() == 1);
  CHECK(eval("&((struct task *)0)->tgid").as_u64() == ctx.global_u64("expect_offsetof_tgid"));

  CHECK(eval("sizeof(struct task)").as_u64() == ctx.global_u64("expect_sizeof_task"));
  CHECK(eval("sizeof the_task").as_u64() == ctx.global_u64("expect_sizeof_task"));
  CHECK(eval("sizeof(the_task.grid[0])").as_u64() == ctx.global_u64("expect_sizeof_grid_row"));
  CHECK(eval("sizeof(pid_chain_t)").as_u64() == 4);

  CHECK(eval("the_task.name").type().spell() == "const char *");
  CHECK(eval("the_task.name").pointed_string(100) == "hello");
  CHECK(eval("*the_task.name").as_u64() == 'h');
}

TEST_CASE("expressions: integer arithmetic with C precedence", "[expression]") {
  test::ElfEvalContext ctx(program(5));
  auto eval = [&](std::string_view e) { return evaluate(ctx, e); };
  CHECK(eval("1 + 2 * 3").as_i64() == 7);
  CHECK(eval("(1 + 2) * 3").as_i64() == 9);
  CHECK(eval("10 - 4 - 3").as_i64() == 3);
  CHECK(eval("100 / 10 / 5").as_i64() == 2);
  CHECK(eval("7 % 4").as_i64() == 3);
  CHECK(eval("-7 / 2").as_i64() == -3);
  CHECK(eval("1 << 4 | 1").as_i64() == 17);
  CHECK(eval("0xff & 0x0f ^ 0x3").as_i64() == 0x0c);
  CHECK(eval("1 < 2 == 1").as_i64() == 1);
  CHECK(eval("!0 && 3 || 0").as_i64() == 1);
  CHECK(eval("~0").as_i64() == -1);
  CHECK(eval("~0u").as_u64() == 0xffffffffu);
  CHECK(eval("-1 < 0u").as_u64() == 0);  // -1 converts to unsigned int
  CHECK(eval("-1L < 0").as_u64() == 1);
  CHECK(eval("1 ? 5 : 6").as_i64() == 5);
  CHECK(eval("'A' + 1").as_i64() == 66);
  CHECK(eval("'\\n'").as_i64() == 10);
  CHECK(eval("'\\0'").as_i64() == 0);
  CHECK(eval("0x7fffffff + 1").type().size() == 4);
  CHECK(eval("0xffffffffff").type().size() == 8);
  CHECK(eval("counter * 2").as_u64() == 246913578);
  CHECK(eval("GREEN + BLUE").as_i64() == 11);
  CHECK(eval("NEGATIVE").as_i64() == -2);
  CHECK(eval("1ul << 63").as_u64() == 1ull << 63);
  CHECK(eval("-8 >> 1").as_i64() == -4);
}

TEST_CASE("expressions: crash's eval dialect", "[expression]") {
  test::ElfEvalContext ctx(program(5));
  EvalOptions crash_eval{.crash_eval = true};
  auto eval = [&](std::string_view e) { return evaluate(ctx, e, crash_eval); };
  // Bare hex, with a digit or as letters naming no symbol; a leading 0 is decimal.
  CHECK(eval("ffff0 + 0x10").as_u64() == 0x100000);
  CHECK(eval("deadbeef").as_u64() == 0xdeadbeef);
  CHECK(eval("012").as_u64() == 12);
  CHECK(evaluate(ctx, "012").as_u64() == 10);  // C reads octal
  // k, m, g suffixes.
  CHECK(eval("4k * 3").as_u64() == 12288);
  CHECK(eval("2m").as_u64() == 2u << 20);
  CHECK(eval("3G").as_u64() == 3ull << 30);
  CHECK(eval("0x10k").as_u64() == 0x4000);
  // A symbol is its address, and arithmetic on it is plain integer arithmetic.
  uint64_t task = *ctx.symbol_address("the_task");
  CHECK(eval("the_task").as_u64() == task);
  CHECK(eval("the_task + 8").as_u64() == task + 8);
  CHECK(evaluate(ctx, "&the_task + 1").as_u64() == task + ctx.global_u64("expect_sizeof_task"));
  // Unsigned 64-bit numbers: no int overflow, negation wraps.
  CHECK(eval("1 << 63").as_u64() == 1ull << 63);
  CHECK(evaluate(ctx, "1 << 63").as_u64() == 0);  // C: an int shifted past its width
  CHECK(eval("-1").as_u64() == ~0ull);
  CHECK(eval("-1").type().size() == 8);
  CHECK_FALSE(eval("-1").type().is_signed());
  CHECK(eval("10 - 20").as_u64() == static_cast<uint64_t>(-10));
  CHECK(eval("-7 / 2").as_u64() == (0 - 7ull) / 2);
  CHECK(eval("~5").as_u64() == ~5ull);
  // Names: enumerators still count, hex letters only when nothing else matches.
  CHECK(eval("BLUE").as_i64() == 6);
  CHECK_THROWS_AS(eval("nosuchsym"), Error);
  CHECK_THROWS_AS(eval("3 / 0"), Error);
}

TEST_CASE("expressions: errors name what is wrong", "[expression]") {
  test::ElfEvalContext ctx(program(5));
  auto kind_of = [&](std::string_view e) -> std::optional<Error::Kind> {
    try {
      evaluate(ctx, e);
    } catch (const Error& err) {
      return err.kind();
    }
    return std::nullopt;
  };
  CHECK(kind_of("nosuchsym") == Error::Kind::Lookup);
  CHECK(kind_of("the_task.nosuch") == Error::Kind::Lookup);
  CHECK(kind_of("the_task->pid") == Error::Kind::Lookup);
  CHECK(kind_of("counter.x") == Error::Kind::Lookup);
  CHECK(kind_of("(struct nosuch *)0") == Error::Kind::Lookup);
  CHECK(kind_of("1 +") == Error::Kind::Unsupported);
  CHECK(kind_of("(1 + 2") == Error::Kind::Unsupported);
  CHECK(kind_of("1 / 0") == Error::Kind::BadData);
  CHECK(kind_of("the_task @ 1") == Error::Kind::Unsupported);
  try {
    evaluate(ctx, "the_task.nosuch");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("nosuch") != std::string::npos);
  }
  // Reading memory that is not there is a Fault, not a crash.
  CHECK_THROWS_AS(evaluate(ctx, "*(int *)0x10").as_u64(), Fault);
  CHECK_NOTHROW(evaluate(ctx, "&*(int *)0x10"));
}

}  // namespace kdive
