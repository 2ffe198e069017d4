// A module's debug info joining the type system (mod -s): a relocatable object
// whose .debug_info names everything through relocations, as a .ko does.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstddef>
#include <fstream>
#include <iterator>

#include "kernel-model/debug_object.hpp"
#include "kernel-model/elf_file.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/type_system.hpp"

extern "C" {
#include "tests/unit/kernel-model/typeprog/module_types.h"
}

namespace kdive {
namespace {

std::string program() { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf5"; }
std::string module_object() { return std::string(KDIVE_TYPEPROG_DIR) + "/module.o"; }

std::vector<char> bytes_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("a module object's types join the lookups once added", "[types][modules]") {
  TypeSystem types(program(), "");
  CHECK(types.lookup("struct module_only") == nullptr);
  CHECK_FALSE(types.enumerator("MODULE_LIKE_GOING"));

  types.add_module("module", bytes_of(module_object()));
  const Type* t = types.lookup("struct module_only");
  REQUIRE(t != nullptr);
  CHECK(t->size() == sizeof(module_only));
  CHECK(t->member("name")->offset == offsetof(module_only, name));
  CHECK(t->member("list.prev")->offset == offsetof(module_only, list) + offsetof(module_list_head, prev));
  CHECK(t->member("name")->type->spell("name") == "char name[12]");
  // References inside the module resolve inside the module.
  CHECK(t->member("list")->type->member("next")->type->target() == t->member("list")->type);
  CHECK(types.enumerator("MODULE_LIKE_GOING") == 250);
  const Type* v = types.variable_type("module_instance");
  REQUIRE(v != nullptr);
  CHECK(v == t);
  CHECK(types.variable_type("module_function") != nullptr);
  // The vmlinux's own types still come first and still work.
  CHECK(types.require("struct task").member("comm")->offset > 0);

  types.drop_module("module");
  CHECK(types.lookup("struct module_only") == nullptr);
  CHECK(t->member("id")->offset == offsetof(module_only, id));  // what was made stays valid
}

TEST_CASE("relocations are what make a module object's names readable", "[types][modules]") {
  std::vector<char> bytes = bytes_of(module_object());
  REQUIRE(!bytes.empty());
  auto copy = ElfFile::from_bytes(bytes, "module.o");
  CHECK(relocate_debug_sections(*copy) > 10);
  std::span<char> patched = copy->writable_bytes();
  CHECK_FALSE(std::equal(patched.begin(), patched.end(), bytes.begin(), bytes.end()));
  // A linked program has nothing left to relocate.
  auto linked = ElfFile::from_bytes(bytes_of(program()), "types-dwarf5");
  CHECK(relocate_debug_sections(*linked) == 0);
  // A mapped file is read-only: an object needs its own copy to be relocated.
  CHECK_THROWS_AS(relocate_debug_sections(*ElfFile::open(module_object())), Error);
  std::vector<char> garbage(64, 'x');

  TypeSystem types(program(), "");
  CHECK_THROWS_AS(types.add_module("garbage", garbage), Error);
  CHECK(types.lookup("struct task") != nullptr);
}

}  // namespace kdive
