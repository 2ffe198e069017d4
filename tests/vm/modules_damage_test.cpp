// Modules over a damaged dump: one link or name of the module records is
// broken on purpose in a copy of the fixture (dump_edit.hpp), and mod must
// still list every module the guest had (truth.txt `module` lines, from
// /proc/modules), through the list walked back from its head or through the
// module address tree, and say what was damaged: a warning or a marker, a JSON
// `error`, and batch exit status 3. Each case checks both halves.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "dump_edit.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Catch::Matchers::Contains;
using kdive::VirtAddr;

namespace {

constexpr uint64_t kGarbage = 0x4141414141414141;

// The rows of mod's table: name -> {base, size}.
std::map<std::string, std::pair<uint64_t, uint64_t>> table_rows(const std::string& out) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> rows;
  const std::regex row(R"(^[0-9a-f]{16}  (\S+) +([0-9a-f]{16}) +(\d+)  .*$)");
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    if (std::regex_match(line, m, row)) rows[m[1]] = {std::stoull(m[2], nullptr, 16), std::stoull(m[3])};
  }
  return rows;
}

// Every truth module but `except` is a row at its /proc/modules base and size.
void check_every_module_listed(const Truth& t, const KdiveRun& r, const std::string& except = "") {
  REQUIRE_FALSE(t.modules.empty());
  auto rows = table_rows(r.out);
  for (const TruthModule& m : t.modules) {
    if (m.name == except) continue;
    INFO("truth module " << m.name << "\n" << r.out);
    REQUIRE(rows.count(m.name) == 1);
    CHECK(rows[m.name].first == m.address);
    CHECK(rows[m.name].second == m.size);
  }
}

// The same in JSON: each truth module an element without error.
void check_every_module_json(const Truth& t, const nlohmann::json& envelope, const std::string& except = "") {
  REQUIRE(envelope.contains("result"));
  std::map<std::string, nlohmann::json> elements;
  for (const auto& e : envelope["result"]) {
    if (e["name"].is_string()) elements[e["name"].get<std::string>()] = e;
  }
  for (const TruthModule& m : t.modules) {
    if (m.name == except) continue;
    INFO("truth module " << m.name << "\n" << envelope.dump());
    REQUIRE(elements.count(m.name) == 1);
    CHECK(elements[m.name]["base"] == fmt::format("{:#x}", m.address));
    CHECK(elements[m.name]["size"] == m.size);
    CHECK(elements[m.name]["error"].is_null());
  }
}

nlohmann::json parsed(const KdiveRun& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  INFO(r.out << r.err);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

// The struct module first on the `modules` list, and its list link.
struct FirstModule {
  uint64_t link = print_value(suite(), "modules.next");
  VirtAddr module{link - member_offset(suite(), "struct module", "list")};
};

}  // namespace

TEST_CASE("a garbage next pointer in a module's list link: every module listed, the break reported",
          "[modules_damage]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const FirstModule first;
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write_u64(VirtAddr{first.link}, kGarbage);  // list_head.next

  KdiveRun r = d.run("mod");
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  check_every_module_listed(t, r);
  // Breaks name entries (struct module addresses), as mod lists them.
  const uint64_t list_offset = first.link - first.module.value();
  CHECK_THAT(r.out, Contains(fmt::format("mod: warning: modules list broken at {:x}: its next is entry {:x}",
                                         first.module.value(), kGarbage - list_offset)));
  CHECK(std::regex_search(r.out, std::regex(R"(\nmod: 0 modules damaged, [1-9]\d* problems? in the module list)")));

  KdiveRun j = d.run("mod", "--json");
  CHECK(j.status == kDataLost);
  nlohmann::json envelope = parsed(j);
  check_every_module_json(t, envelope);
  REQUIRE(envelope.contains("warnings"));
  CHECK_THAT(envelope["warnings"].dump(), Contains(fmt::format("modules list broken at {:x}", first.module.value())));
  REQUIRE(envelope.contains("lost"));
  CHECK_FALSE(envelope["lost"].empty());
}

TEST_CASE("a zeroed modules list head: every module is found through the module address tree", "[modules_damage]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const VirtAddr head = symbol_address(suite(), "modules");
  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(head, 16);  // next and prev: the list reaches no module either way

  KdiveRun r = d.run("mod; sym -m qemu_fw_cfg");
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  check_every_module_listed(t, r);
  CHECK_THAT(r.out, Contains(fmt::format("mod: warning: modules list broken at {:x}", head.value())));
  for (const TruthModule& m : t.modules) {
    CHECK_THAT(r.out, Contains(fmt::format("({}) is in the module address tree but not on the modules list", m.name)));
  }
  // Found through the tree, the module's symbols are all there.
  CHECK_THAT(r.out, Contains(" (t) fw_cfg_read_blob\n"));
}

TEST_CASE("a module whose name is garbage is listed by address with a marker", "[modules_damage]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const FirstModule first;
  const uint64_t name = member_offset(suite(), "struct module", "name");
  // Which module that is: the truth module whose name the fixture's dump holds there.
  const std::string damaged = [&] {
    KdiveRun r = run_kdive(suite(), "elf", fmt::format("p ((struct module *){:#x})->name", first.module.value()));
    for (const TruthModule& m : t.modules) {
      if (r.out.find("\"" + m.name + "\\000") != std::string::npos ||
          r.out.find("\"" + m.name + "\"") != std::string::npos)
        return m.name;
    }
    FAIL("the first module on the list is none of the truth's: " << r.out);
    return std::string();
  }();
  DamagedDump d = DamagedDump::copy_of(suite());
  d.write_u64(first.module + name, 0x0000000141ff0141);  // "A\x01\xff" and 'A', then the rest of the name

  KdiveRun r = d.run("mod; sym -M");
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  check_every_module_listed(t, r, damaged);
  CHECK(table_rows(r.out).count(damaged) == 0);
  CHECK(std::regex_search(
      r.out, std::regex(fmt::format(R"(\n{:016x}  \? +\(damaged: name "A\\x01\\xffA\\x01.*" is not a module name\)\n)",
                                    first.module.value()))));
  CHECK_THAT(r.out, Contains("mod: 1 module damaged, 0 problems in the module list and address tree"));
  CHECK_THAT(r.out, Contains(fmt::format("{:x} MODULE (damaged: name ", first.module.value())));

  KdiveRun j = d.run("mod", "--json");
  CHECK(j.status == kDataLost);
  nlohmann::json envelope = parsed(j);
  check_every_module_json(t, envelope, damaged);
  nlohmann::json marked;
  for (const auto& e : envelope["result"]) {
    if (e["module"] == fmt::format("{:#x}", first.module.value())) marked = e;
  }
  REQUIRE(marked.is_object());
  CHECK(marked["name"].is_null());
  CHECK(marked["base"].is_null());
  CHECK_THAT(marked["error"].get<std::string>(), Contains("is not a module name"));
}
