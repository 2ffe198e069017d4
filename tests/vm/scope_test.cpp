// set scope on real kernels: names the kernel defines differently in two .c
// files are shown as the file holding the scope's text address defines them.
// The expected members come from the kernel source (quoted below with the
// file each is from; the same in 5.10, 6.1 and 6.12), a static variable's
// address and value from the vmlinux's own symbol table (readelf: its FILE
// entries say which file each local symbol belongs to), and a module's from
// its source in data/guest. On bullseye the text is compared with crash.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "crash_compare.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

// struct getdents_callback, in fs/readdir.c:
//   struct dir_context ctx; struct linux_dirent __user *current_dir;
//   int prev_reclen; int count; int error;
const std::vector<std::string> kReaddirMembers = {"ctx", "current_dir", "prev_reclen", "count", "error"};
// and in fs/exportfs/expfs.c:
//   struct dir_context ctx; char *name; u64 ino; int found; int sequence;
const std::vector<std::string> kExpfsMembers = {"ctx", "name", "ino", "found", "sequence"};
// struct irq_info, in arch/x86/pci/irq.c (packed: two u8, four packed
// {u8 link; u16 bitmap;}, two u8 = 2 + 4 * 3 + 2 = 16 bytes):
//   u8 bus, devfn; struct { u8 link; u16 bitmap; } __packed irq[4]; u8 slot; u8 rfu;
const std::vector<std::string> kPciIrqMembers = {"bus", "devfn", "irq", "slot", "rfu"};
constexpr uint64_t kPciIrqSize = 16;
// and in drivers/tty/serial/8250/8250_core.c:
//   struct hlist_node node; int irq; spinlock_t lock; struct list_head *head;
const std::vector<std::string> kSerialIrqMembers = {"node", "irq", "lock", "head"};

// A function of each of those files (global, so named once in the kernel).
constexpr const char* kReaddirFunction = "iterate_dir";
constexpr const char* kExpfsFunction = "exportfs_decode_fh";
constexpr const char* kPciIrqFunction = "pcibios_penalize_isa_irq";
constexpr const char* kSerialFunction = "serial8250_register_8250_port";

struct Shown {
  std::vector<std::string> members;  // names of the top-level members
  std::optional<uint64_t> size;      // struct's "SIZE: N" line
};

// The members of the first "struct NAME {" ... "}" block in `text` (struct,
// whatis, ptype's "type = struct NAME {"), by name: the identifier before the
// ';' of each line one level in (a nested struct's name is on its "} irq[4];").
Shown shown(const std::string& text, const std::string& name) {
  Shown s;
  std::istringstream in(text);
  std::string line;
  int depth = 0;
  bool found = false;
  static const std::regex member(R"(([A-Za-z_][A-Za-z0-9_]*)(\[[0-9]*\])*(\s*:\s*[0-9]+)?;$)");
  while (std::getline(in, line)) {
    if (!found) {
      found = line.ends_with("struct " + name + " {");
      depth = found ? 1 : 0;
      continue;
    }
    if (depth == 0) {
      std::smatch m;
      if (std::regex_match(line, m, std::regex(R"(SIZE: (\d+))"))) s.size = std::stoull(m[1]);
      if (s.size || line.empty() || line.starts_with("$")) break;
      continue;
    }
    // "struct {...} irq[4];": a member in one line, neither opening nor closing.
    const bool collapsed = line.find("{...}") != std::string::npos;
    const bool opens = !collapsed && line.ends_with("{");
    const bool closes = !collapsed && line.find('}') != std::string::npos;
    if (closes) --depth;
    std::smatch m;
    if (depth == 1 && !opens && std::regex_search(line, m, member)) s.members.push_back(m[1]);
    if (opens) ++depth;
    if (depth == 0 && !closes) break;
  }
  INFO(text);
  REQUIRE(found);
  return s;
}

// The text of one command among several run in one session, cut at markers.
std::vector<std::vector<std::string>> outputs(const std::vector<std::string>& commands) {
  return kdive_outputs(commands);
}

std::string joined(const std::vector<std::string>& lines) {
  std::string s;
  for (const std::string& l : lines) s += l + "\n";
  return s;
}

// Local symbols of the vmlinux by the file they come from: file -> name ->
// link-time address (readelf -s lists each file's locals after its FILE
// entry), for the names given (a grep pattern: the FILE rows and those).
std::map<std::string, std::map<std::string, uint64_t>> locals_by_file(const fs::path& vmlinux,
                                                                      const std::string& names) {
  std::map<std::string, std::map<std::string, uint64_t>> out;
  std::istringstream in(shell_output(fmt::format("readelf -sW {} | grep -E ' FILE | ({})$'", quoted(vmlinux), names)));
  std::string line, file;
  static const std::regex row(R"(^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+\S+\s+(\S+)$)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, row)) continue;
    if (m[2] == "FILE") {
      file = m[4];
    } else if (m[3] == "LOCAL" && !file.empty()) {
      out[file][m[4]] = std::stoull(m[1], nullptr, 16);
    }
  }
  return out;
}

// dev_attr_numa_node: DEVICE_ATTR_RO(numa_node) in several files, each a
// static struct device_attribute whose .show is that file's own static
// numa_node_show. Per file: {the variable, the function}, run-time addresses.
std::vector<std::pair<uint64_t, uint64_t>> numa_node_attributes() {
  const fs::path dir = fixture_dir(suite());
  const uint64_t kaslr = kaslr_offset(dir);
  std::vector<std::pair<uint64_t, uint64_t>> cases;  // {variable, show function}, run time
  for (const auto& [file, symbols] : locals_by_file(dir / "vmlinux", "dev_attr_numa_node|numa_node_show")) {
    auto var = symbols.find("dev_attr_numa_node");
    auto show = symbols.find("numa_node_show");
    if (var != symbols.end() && show != symbols.end()) cases.emplace_back(var->second + kaslr, show->second + kaslr);
  }
  return cases;
}

}  // namespace

TEST_CASE("set scope: struct, whatis and ptype show the scope file's definition; 0 restores", "[scope]") {
  const auto out = outputs({"struct getdents_callback", fmt::format("set scope {}", kReaddirFunction),
                            "struct getdents_callback", "whatis struct getdents_callback",
                            "ptype struct getdents_callback", fmt::format("set scope {}", kExpfsFunction),
                            "struct getdents_callback", "whatis struct getdents_callback",
                            "ptype struct getdents_callback", "set scope 0", "struct getdents_callback", "set scope"});
  // Unscoped: one of the two, as the debug info's index kept it.
  const Shown unscoped = shown(joined(out[0]), "getdents_callback");
  CHECK((unscoped.members == kReaddirMembers || unscoped.members == kExpfsMembers));
  CHECK(joined(out[1]).starts_with("scope: "));
  CHECK(out[1][0].ends_with(fmt::format("({})", kReaddirFunction)));
  for (int i : {2, 3, 4}) CHECK(shown(joined(out[i]), "getdents_callback").members == kReaddirMembers);
  CHECK(out[5][0].ends_with(fmt::format("({})", kExpfsFunction)));
  for (int i : {6, 7, 8}) CHECK(shown(joined(out[i]), "getdents_callback").members == kExpfsMembers);
  CHECK(out[9] == std::vector<std::string>{"scope: 0 (not set)"});
  CHECK(shown(joined(out[10]), "getdents_callback").members == unscoped.members);
  CHECK(out[11] == std::vector<std::string>{"scope: 0 (not set)"});
}

TEST_CASE("set scope: each of three files' struct irq_info, sizes included", "[scope]") {
  const auto out =
      outputs({"struct irq_info", fmt::format("set scope {}", kPciIrqFunction), "struct irq_info",
               fmt::format("set scope {}", kSerialFunction), "struct irq_info", "set scope 0", "struct irq_info"});
  const Shown unscoped = shown(joined(out[0]), "irq_info");
  const Shown pci = shown(joined(out[2]), "irq_info");
  const Shown serial = shown(joined(out[4]), "irq_info");
  CHECK(pci.members == kPciIrqMembers);
  CHECK(pci.size == kPciIrqSize);
  CHECK(serial.members == kSerialIrqMembers);
  REQUIRE(serial.size);
  CHECK(*serial.size != kPciIrqSize);
  const Shown restored = shown(joined(out[6]), "irq_info");
  CHECK(restored.members == unscoped.members);
  CHECK(restored.size == unscoped.size);
}

TEST_CASE("set scope: p reads the scope file's static variable", "[scope]") {
  if (!have_tool("readelf")) KDIVE_SKIP("binutils (readelf) is not installed");
  // The scope is put on each file's numa_node_show, by address.
  const std::vector<std::pair<uint64_t, uint64_t>> cases = numa_node_attributes();
  REQUIRE(cases.size() >= 2);  // else the name would not be ambiguous
  std::vector<std::string> commands;
  for (const auto& [var, show] : cases) {
    commands.push_back(fmt::format("set scope {:x}", show));
    commands.push_back("p &dev_attr_numa_node");
    commands.push_back("p dev_attr_numa_node.show");
  }
  const auto out = outputs(commands);
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO(fmt::format("scope {:x}", cases[i].second));
    CHECK(out[3 * i][0] == fmt::format("scope: {:x} (numa_node_show)", cases[i].second));
    CHECK(joined(out[3 * i + 1]).find(fmt::format("0x{:x} <dev_attr_numa_node>", cases[i].first)) != std::string::npos);
    CHECK(joined(out[3 * i + 2]).find(fmt::format("0x{:x} <numa_node_show>", cases[i].second)) != std::string::npos);
  }
}

TEST_CASE("set scope: JSON, and bad addresses are one line each with the scope kept", "[scope]") {
  const Json set = json_result_of(suite(), fmt::format("set scope {}", kReaddirFunction));
  REQUIRE(set["scope"].is_object());
  CHECK(set["scope"]["symbol"] == kReaddirFunction);
  CHECK(set["scope"]["unit"].get<std::string>().ends_with("fs/readdir.c"));
  const uint64_t address = json_hex(set["scope"]["address"]);

  const KdiveRun r = run_kdive(suite(), "elf",
                               fmt::format("set scope {}; set scope jiffies; set scope nosuch_symbol_xyz; "
                                           "set scope 0x1000; set scope; struct getdents_callback",
                                           kReaddirFunction));
  INFO(r.err);
  const std::vector<std::string> errors = lines_of(r.err);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].starts_with("set: scope jiffies: "));
  CHECK(errors[0].ends_with("not a kernel or module text address"));
  CHECK(errors[1] == "set: scope: no symbol 'nosuch_symbol_xyz'");
  CHECK(errors[2] == "set: scope: 1000: not a kernel or module text address");
  const std::vector<std::string> lines = lines_of(r.out);
  // The shell went on, with the scope it had.
  CHECK(std::count(lines.begin(), lines.end(), fmt::format("scope: {:x} ({})", address, kReaddirFunction)) == 2);
  CHECK(shown(r.out, "getdents_callback").members == kReaddirMembers);
}

TEST_CASE("set scope in a module: refused without its debuginfo, its unit after mod -s", "[scope]") {
  if (suite() != "bookworm-modoops") KDIVE_SKIP("only bookworm-modoops loads the test module");
  const fs::path dir = fixture_dir(suite());
  const fs::path object = dir / "modules" / "kdive_oops.ko";
  REQUIRE(fs::exists(object));
  const KdiveRun before = run_kdive(suite(), "elf", "set scope kdive_oops_inner");
  CHECK(before.status != 0);
  CHECK(before.err.find("the debuginfo of module kdive_oops is not loaded") != std::string::npos);
  CHECK(lines_of(before.err).size() == 1);

  const auto out = outputs({fmt::format("mod -s kdive_oops {}", object.string()), "set scope kdive_oops_inner",
                            "struct kdive_oops_node", "p kdive_oops_target", "p &kdive_oops_target",
                            "sym kdive_oops_target", "mod -d kdive_oops", "set scope"});
  CHECK(out[1][0].ends_with("(kdive_oops_inner)"));
  // data/guest/oops_module/kdive_oops.c: struct kdive_oops_node { long value; };
  // and kdive_oops_target is always NULL.
  CHECK(shown(joined(out[2]), "kdive_oops_node").members == std::vector<std::string>{"value"});
  REQUIRE(out[3].size() == 1);
  CHECK(out[3][0].ends_with("(struct kdive_oops_node *) 0x0"));
  // The scope's variable is where the module's symbol table puts it.
  std::smatch sym, addr;
  const std::string sym_text = joined(out[5]), addr_text = joined(out[4]);
  REQUIRE(std::regex_search(sym_text, sym, std::regex(R"(^([0-9a-f]{16}) )")));
  REQUIRE(std::regex_search(addr_text, addr, std::regex(R"(0x([0-9a-f]+))")));
  CHECK(addr[1] == sym[1]);
  // Without the module's debuginfo its scope goes too.
  CHECK(out[7] == std::vector<std::string>{"scope: 0 (not set)"});
}

TEST_CASE("set scope and struct match crash line by line", "[scope]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  if (!have_tool("readelf")) KDIVE_SKIP("binutils (readelf) is not installed");
  const std::vector<std::pair<uint64_t, uint64_t>> attributes = numa_node_attributes();
  REQUIRE(attributes.size() >= 2);
  compare_with_crash({fmt::format("set scope {:x}", attributes[0].second), "p dev_attr_numa_node",
                      fmt::format("set scope {:x}", attributes[1].second), "p dev_attr_numa_node",
                      "whatis dev_attr_numa_node", fmt::format("set scope {}", kReaddirFunction),
                      "struct getdents_callback", "whatis struct getdents_callback", "ptype struct getdents_callback",
                      fmt::format("set scope {}+4", kSerialFunction), "struct irq_info",
                      fmt::format("set scope {}", kPciIrqFunction), "struct irq_info", "struct -o irq_info",
                      "set scope", "set scope 0"});
}
