// The text scope (set scope) over a program of two files that define the
// same names differently (typeprog/scope_a.c, scope_b.c): with the scope in
// one file's function, lookups give that file's struct, typedef, enum
// constant and static variable, and the function's own local types; without
// it, the index's one definition. Sizes, offsets and addresses to expect are
// the compiler's, stored by the program in its globals.
#include "kernel-model/type_scope.hpp"

#include <catch2/catch.hpp>
#include <span>

#include "kernel-model/errors.hpp"
#include "kernel-model/type_system.hpp"
#include "tests/unit/support/elf_eval_context.hpp"

namespace kdive {
namespace {

std::string program() { return std::string(KDIVE_TYPEPROG_DIR) + "/scope-prog"; }

// A function's address, from the program's symbol table.
uint64_t function(const test::ElfEvalContext& ctx, const char* name) {
  auto a = ctx.symbol_address(name);
  REQUIRE(a);
  return *a;
}

uint32_t read_u32(const test::ElfEvalContext& ctx, uint64_t address) {
  uint32_t v = 0;
  ctx.read(VirtAddr{address}, std::as_writable_bytes(std::span(&v, 1)));
  return v;
}

uint64_t read_u64(const test::ElfEvalContext& ctx, uint64_t address) {
  uint64_t v = 0;
  ctx.read(VirtAddr{address}, std::as_writable_bytes(std::span(&v, 1)));
  return v;
}

}  // namespace

TEST_CASE("text scope: each file's own struct, typedef, enum constant and static variable", "[types][scope]") {
  test::ElfEvalContext ctx(program());
  TypeSystem& types = ctx.types();
  types.wait_for_index();
  const uint64_t a_size = ctx.global_u64("scope_a_sizeof_local");
  const uint64_t b_size = ctx.global_u64("scope_b_sizeof_local");
  REQUIRE(a_size != b_size);  // else the test could not tell the two apart

  // Unscoped: one of the two definitions, whichever the index kept.
  const Type* unscoped = types.lookup("struct local");
  REQUIRE(unscoped != nullptr);
  const bool index_has_a = unscoped->member("a_only").has_value();
  CHECK(unscoped->size() == (index_has_a ? a_size : b_size));
  CHECK(types.scope() == nullptr);
  CHECK(types.lookup("struct inner") == nullptr);  // a function's local type: not at file level

  types.set_scope(function(ctx, "scope_b_func"));
  REQUIRE(types.scope() != nullptr);
  CHECK(types.scope()->unit_name().ends_with("scope_b.c"));
  CHECK(types.scope()->function_name() == "scope_b_func");
  const Type* b = types.lookup("struct local");
  REQUIRE(b != nullptr);
  CHECK(b->size() == b_size);
  REQUIRE(b->member("b_third"));
  CHECK(b->member("b_third")->offset == ctx.global_u64("scope_b_offsetof_b_third"));
  CHECK_FALSE(b->member("a_only"));
  CHECK(types.lookup("local_t")->size() == ctx.global_u64("scope_b_sizeof_local_t"));
  CHECK(types.enumerator("MODE_X") == static_cast<int64_t>(ctx.global_u64("scope_b_mode_x")));
  CHECK(types.variable_type("counter")->size() == sizeof(long));
  // The static variable's own place, as the program took its address.
  CHECK(types.scope()->variable_address("counter") == ctx.global_u64("scope_b_counter"));
  // The function's local struct, and its static local (initialized to 5 in scope_b.c).
  const Type* inner = types.lookup("struct inner");
  REQUIRE(inner != nullptr);
  // Its size as the function's own static local holds it (compile-time sizeof).
  auto inner_size = types.scope()->variable_address("inner_size");
  REQUIRE(inner_size);
  CHECK(inner->size() == read_u64(ctx, *inner_size));
  auto calls = types.scope()->variable_address("calls");
  REQUIRE(calls);
  CHECK(read_u32(ctx, *calls) == 5);

  types.set_scope(function(ctx, "scope_a_func") + 4);  // inside the function, not at its start
  CHECK(types.scope()->function_name() == "scope_a_func");
  const Type* a = types.lookup("struct local");
  REQUIRE(a != nullptr);
  CHECK(a->size() == a_size);
  REQUIRE(a->member("a_name"));
  CHECK(a->member("a_name")->offset == ctx.global_u64("scope_a_offsetof_a_name"));
  CHECK(types.lookup("local_t")->size() == ctx.global_u64("scope_a_sizeof_local_t"));
  CHECK(types.enumerator("MODE_X") == static_cast<int64_t>(ctx.global_u64("scope_a_mode_x")));
  CHECK(types.scope()->variable_address("counter") == ctx.global_u64("scope_a_counter"));
  REQUIRE(types.scope()->variable_address("inner_size"));
  CHECK(types.lookup("struct inner")->size() == read_u64(ctx, *types.scope()->variable_address("inner_size")));

  // Back to no scope: the index's definition again, the same object as before.
  types.clear_scope();
  CHECK(types.scope() == nullptr);
  CHECK(types.lookup("struct local") == unscoped);
  CHECK(types.lookup("struct inner") == nullptr);
}

TEST_CASE("text scope: an address no unit covers is refused and the scope stays", "[types][scope]") {
  test::ElfEvalContext ctx(program());
  TypeSystem& types = ctx.types();
  types.set_scope(function(ctx, "scope_b_func"));
  const uint64_t b_size = ctx.global_u64("scope_b_sizeof_local");
  // A data address: in no unit's code.
  CHECK_THROWS_AS(types.set_scope(ctx.global_u64("scope_a_counter")), Error);
  REQUIRE(types.scope() != nullptr);
  CHECK(types.scope()->function_name() == "scope_b_func");
  CHECK(types.lookup("struct local")->size() == b_size);
  CHECK_THROWS_AS(types.set_scope(function(ctx, "scope_b_func"), "no_such_module"), Error);
  CHECK(types.lookup("struct local")->size() == b_size);
}

}  // namespace kdive
