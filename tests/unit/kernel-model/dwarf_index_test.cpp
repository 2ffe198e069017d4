// The fast DWARF name index against libdw's view of the same programs, its
// cache file round trip, and its refusal of damaged cache files.
#include "kernel-model/dwarf_index.hpp"

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/unit/support/libdw_name_index.hpp"

namespace kdive {
namespace {

std::string program(int dwarf) { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf" + std::to_string(dwarf); }

// Every name of the reference is in the index with the same DIE and value, and
// the index has no name the reference lacks.
void check_same(const DwarfIndex& index, const test::ReferenceIndex& ref) {
  for (size_t k = 0; k < kNameKinds; ++k) {
    auto kind = static_cast<NameKind>(k);
    CAPTURE(k);
    CHECK(index.image().entries(kind).size() == ref[k].size());
    for (const auto& [name, e] : ref[k]) {
      CAPTURE(name);
      const DwarfIndex::Entry* got = index.find(kind, name);
      REQUIRE(got != nullptr);
      CHECK(got->die == e.die);
      CHECK(got->value == e.value);
    }
  }
}

std::filesystem::path temp_file(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("kdive-index-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir / name;
}

}  // namespace

TEST_CASE("dwarf index: the raw scan names what libdw names", "[types][index]") {
  int dwarf = GENERATE(4, 5);
  unsigned threads = GENERATE(1u, 3u);
  CAPTURE(dwarf, threads);
  auto ref = test::reference_name_index(program(dwarf));
  REQUIRE(ref[static_cast<size_t>(NameKind::Struct)].count("task") == 1);
  auto index = DwarfIndex::build(program(dwarf), threads);
  CHECK(index->problems().empty());
  check_same(*index, ref);

  // Facts the reference shares but that the test states outright.
  CHECK(index->find(NameKind::Enumerator, "WIDE_BYTE")->value == 200);
  CHECK(index->find(NameKind::Enumerator, "WIDE_HIGH")->value == 0x80000000ll);
  CHECK(index->find(NameKind::Enumerator, "NEGATIVE")->value == -2);
  CHECK(index->find(NameKind::Enumerator, "WIDE_BYTE")->die == index->find(NameKind::Enum, "wide")->die);
  CHECK(index->find(NameKind::Struct, "nosuch") == nullptr);
  CHECK(index->find(NameKind::Function, "task") == nullptr);
  CHECK(index->find(NameKind::Function, "do_handle") != nullptr);
  // The definition (named only through DW_AT_specification) wins over the declaration.
  const auto* defined = index->find(NameKind::Variable, "declared_then_defined");
  REQUIRE(defined != nullptr);
  CHECK(ref[static_cast<size_t>(NameKind::Variable)].at("declared_then_defined").declaration == false);
}

TEST_CASE("dwarf index: the cache file round trip and damaged files", "[types][index]") {
  auto index = DwarfIndex::build(program(5), 2);
  auto file = temp_file("good.idx");
  REQUIRE(index->save(file));
  auto loaded = DwarfIndex::load(file);
  REQUIRE(loaded != nullptr);
  CHECK(loaded->from_cache());
  check_same(*loaded, test::reference_name_index(program(5)));

  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto write = [&](const std::string& name, const std::string& content) {
    auto f = temp_file(name);
    std::ofstream(f, std::ios::binary | std::ios::trunc) << content;
    return f;
  };
  CHECK(DwarfIndex::load(temp_file("missing.idx")) == nullptr);
  CHECK(DwarfIndex::load(write("empty.idx", "")) == nullptr);
  CHECK(DwarfIndex::load(write("truncated.idx", bytes.substr(0, bytes.size() - 8))) == nullptr);
  std::string old_version = bytes;
  old_version[7] = '1';
  CHECK(DwarfIndex::load(write("old.idx", old_version)) == nullptr);
  // Damage inside the tables: offsets past the end are refused or read as "not found".
  std::string scribbled = bytes;
  for (size_t i = 96; i < scribbled.size(); i += 7) scribbled[i] = static_cast<char>(0xff);
  if (auto damaged = DwarfIndex::load(write("scribbled.idx", scribbled))) {
    (void)damaged->find(NameKind::Struct, "task");
    (void)damaged->find(NameKind::Variable, "the_task");
  }
  std::filesystem::remove_all(file.parent_path());
}

}  // namespace kdive
