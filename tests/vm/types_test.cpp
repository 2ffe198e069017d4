// p, struct, union, whatis and ptype on real crashed kernels, against what the
// guest said about itself (truth.txt: init_task's address from kallsyms, the
// variables it read through /proc/kcore, its uname) and what the kernel states
// in its VMCOREINFO; the text and the JSON result of each are both checked.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

#include "kernel-model/dwarf_index.hpp"
#include "run_kdive.hpp"
#include "tests/unit/support/libdw_name_index.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using Json = nlohmann::json;

namespace {

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Each command's JSON Lines object, run with --json (over the kdump file, as
// the text runs use the ELF one: both must read the same).
std::vector<Json> json_lines(const std::string& commands) {
  auto dir = fixture_dir(suite());
  KdiveRun r = run_kdive_args("--json -b -c " + quote(commands) + " " + quote((dir / "vmlinux").string()) + " " +
                              quote((dir / "vmcore.kdump-zlib").string()));
  INFO(commands << "\n" << r.err);
  REQUIRE(r.status == 0);
  std::vector<Json> out;
  for (const auto& l : lines_of(r.out)) out.push_back(Json::parse(l));
  return out;
}

Json json_result(const std::string& command) {
  auto lines = json_lines(command);
  REQUIRE(lines.size() == 1);
  REQUIRE(lines[0].contains("result"));
  return lines[0]["result"];
}

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

}  // namespace

TEST_CASE("p and struct find init_task where the guest's kallsyms put it", "[types]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const uint64_t init_task = t.ksym.at("init_task");
  auto r = run_kdive(suite(), "elf",
                     fmt::format("p &init_task; struct task_struct.pid,comm init_task; "
                                 "struct task_struct.pid,comm {:x}; p init_task.pid",
                                 init_task));
  REQUIRE(r.status == 0);
  auto out = lines_of(r.out);
  REQUIRE(out.size() == 6);
  CHECK(std::regex_match(
      out[0], std::regex(fmt::format(R"(^\$\d+ = \(struct task_struct \*\) {:#x} <init_task>$)", init_task))));
  // The idle task of CPU 0: pid 0, "swapper/0" and NULs after it in comm[16].
  CHECK(out[1] == "  pid = 0,");
  CHECK(out[2] == "  comm = \"swapper/0\\000\\000\\000\\000\\000\\000\",");
  CHECK(out[3] == out[1]);
  CHECK(out[4] == out[2]);
  CHECK(std::regex_match(out[5], std::regex(R"(^\$\d+ = 0$)")));

  auto json = json_lines("p &init_task; struct task_struct.pid,comm init_task; p init_task.comm");
  REQUIRE(json.size() == 3);
  CHECK(json[0]["result"] == Json::parse(fmt::format(
                                 R"([{{"expression":"&init_task","type":"struct task_struct *","address":null,
                                       "value":"{:#x}"}}])",
                                 init_task)));
  CHECK(json[1]["result"] == Json::parse(fmt::format(R"([{{"address":"{:#x}","type":"struct task_struct",
                                                           "value":{{"pid":0,"comm":"swapper/0"}}}}])",
                                                     init_task)));
  const Json& comm = json[2]["result"][0];
  CHECK(comm["value"] == "swapper/0");
  CHECK(comm["type"] == "char [16]");
  CHECK(std::stoull(comm["address"].get<std::string>(), nullptr, 16) > init_task);
}

TEST_CASE("p reads the kernel variables the guest read through /proc/kcore", "[types]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(t.kvar.count("page_offset_base"));
  std::string cmds;
  std::vector<std::pair<std::string, uint64_t>> vars;
  for (const auto& [name, value] : t.kvar) {
    vars.emplace_back(name, value);
    cmds += "p/x " + name + "; ";
  }
  auto r = run_kdive(suite(), "elf", cmds);
  REQUIRE(r.status == 0);
  auto out = lines_of(r.out);
  REQUIRE(out.size() == vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    INFO(vars[i].first);
    // A lone symbol is named first (crash's style); an element is not.
    std::string value = out[i].substr(out[i].rfind(" = ") + 3);
    CHECK(value == hex(vars[i].second));
    CHECK((out[i].rfind(vars[i].first + " = $", 0) == 0) == (vars[i].first.find('[') == std::string::npos));
  }
  // JSON: a value beyond 2^53 (the direct-map bases, per-CPU offsets) is a
  // "0x..." string, never a rounded number; a smaller one is a number. Which
  // one phys_base is depends on where KASLR put the kernel physically
  // (0x10400000, or 0xfffffffff8200000 when it sits below its link address).
  auto json = json_lines(cmds);
  REQUIRE(json.size() == vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    INFO(vars[i].first);
    const auto& value = json[i]["result"][0]["value"];
    if (vars[i].second >= (uint64_t{1} << 53)) {
      CHECK(value == hex(vars[i].second));
    } else {
      CHECK(value == vars[i].second);
    }
  }
}

TEST_CASE("p linux_banner and init_uts_ns say what the guest's uname said", "[types]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  auto r = run_kdive(suite(), "elf", "p linux_banner; whatis linux_banner; p init_uts_ns.name.release");
  REQUIRE(r.status == 0);
  auto out = lines_of(r.out);
  REQUIRE(out.size() == 3);
  // /proc/version is linux_banner without its newline.
  // 5.10's DWARF sizes the array; 6.1's and later declare linux_banner[]
  // unsized, which gdb shows as a string pointer cut after 200 characters.
  std::smatch m;
  REQUIRE(std::regex_match(
      out[0], m, std::regex(R"re(^linux_banner = \$\d+ = (0x[0-9a-f]+ <linux_banner> )?"(.*)"(\.\.\.)?$)re")));
  std::string banner = std::regex_replace(m[2].str(), std::regex(R"(\\n)"), "\n");
  if (m[3].matched) {
    CHECK(banner.size() == 200);
    CHECK((t.version + "\n").rfind(banner, 0) == 0);
  } else {
    CHECK(banner == t.version + "\n");
  }
  CHECK(std::regex_match(out[1], std::regex(R"(^const char linux_banner\[\d*\];$)")));
  CHECK(out[2].find("= \"" + t.release + "\\000") != std::string::npos);

  auto json = json_lines("p linux_banner; p init_uts_ns.name; whatis linux_banner");
  REQUIRE(json.size() == 3);
  CHECK(json[0]["result"][0]["value"] == t.version + "\n");
  const Json& name = json[1]["result"][0]["value"];
  CHECK(name["release"] == t.release);
  CHECK(name["sysname"] == "Linux");
  // uname -a: "Linux <nodename> <release> <version> <machine> GNU/Linux".
  std::istringstream uname(t.uname);
  std::string sysname, nodename;
  uname >> sysname >> nodename;
  CHECK(name["nodename"] == nodename);
  CHECK(t.uname.find(" " + name["machine"].get<std::string>() + " ") != std::string::npos);
  CHECK(json[2]["result"]["declaration"] == out[1]);
  CHECK(json[2]["result"]["kind"] == "array");
  // linux_banner[] holds the version, its newline and the NUL (when sized).
  if (json[2]["result"]["size"] != 0) CHECK(json[2]["result"]["size"] == t.version.size() + 2);
}

// The kernel states some offsets and sizes itself in VMCOREINFO (in the dump's
// notes, near the start of the ELF file): each must match struct -o, in its
// text and in its JSON layout.
TEST_CASE("struct -o agrees with the kernel's VMCOREINFO offsets and sizes", "[types]") {
  std::string s = suite();
  std::ifstream in(fixture_dir(s) / "vmcore.elf", std::ios::binary);
  std::string head(4 << 20, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  std::regex entry(R"((OFFSET|SIZE)\(([A-Za-z_0-9]+)(?:\.([A-Za-z_0-9.]+))?\)=(\d+)\n)");
  std::vector<std::tuple<std::string, std::string, std::string, uint64_t>> facts;
  for (auto it = std::sregex_iterator(head.begin(), head.end(), entry); it != std::sregex_iterator(); ++it) {
    facts.emplace_back((*it)[1], (*it)[2], (*it)[3], std::stoull((*it)[4]));
  }
  REQUIRE(facts.size() >= 5);
  std::string cmds;
  for (const auto& [kind, type, member, value] : facts) {
    std::string what = member.empty() ? type : type + "." + member;
    cmds += "echo @" + kind + " " + what + "; " +
            (kind == "SIZE" ? "p sizeof(struct " + type + ")" : "struct -o " + what) + "; ";
  }
  auto r = run_kdive(s, "elf", cmds);
  int checked = 0;
  std::istringstream out(r.out);
  std::string l, current;
  std::regex offset_line(R"(^ *\[(\d+)\] .*;$)"), size_line(R"(^\$\d+ = (\d+)$)");
  std::map<std::string, uint64_t> seen;
  for (; std::getline(out, l);) {
    std::smatch m;
    if (l.rfind("@", 0) == 0)
      current = l.substr(1);
    else if (std::regex_match(l, m, offset_line) || std::regex_match(l, m, size_line))
      seen[current] = std::stoull(m[1]);
  }
  std::string json_cmds;
  std::vector<std::pair<std::string, uint64_t>> json_facts;
  for (const auto& [kind, type, member, value] : facts) {
    std::string key = kind + " " + (member.empty() ? type : type + "." + member);
    if (!seen.count(key)) continue;  // a typedef or a name struct does not know (e.g. SIZE(long))
    CAPTURE(key);
    CHECK(seen[key] == value);
    ++checked;
    if (kind == "OFFSET") {
      json_cmds += "struct -o " + type + "." + member + "; ";
      json_facts.emplace_back(member, value);
    }
  }
  CHECK(checked >= 5);
  REQUIRE(!json_facts.empty());
  auto json = json_lines(json_cmds);
  REQUIRE(json.size() == json_facts.size());
  for (size_t i = 0; i < json.size(); ++i) {
    CAPTURE(json[i]["command"]);
    const Json& layout = json[i]["result"];
    REQUIRE(layout.size() == 1);
    CHECK(layout[0]["member"] == json_facts[i].first);
    CHECK(layout[0]["offset"] == json_facts[i].second);
  }
}

TEST_CASE("struct with an address, nested members, counts and hex", "[types]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  auto r = run_kdive(suite(), "elf",
                     "struct task_struct.se.on_rq init_task; struct -x task_struct.pid init_task; "
                     "struct list_head init_task.tasks 2; p init_task.tasks; ptype struct list_head; "
                     "struct -o task_struct.pid init_task");
  REQUIRE(r.status == 0);
  CHECK(std::regex_search(r.out, std::regex(R"(\n?  se\.on_rq = \d+( '.*')?,\n)")));
  CHECK(r.out.find("  pid = 0x0,\n") != std::string::npos);
  // Two consecutive list_heads, separated by a blank line.
  CHECK(std::regex_search(
      r.out,
      std::regex(R"(struct list_head \{\n  next = 0x[0-9a-f]+,\n  prev = 0x[0-9a-f]+\n\}\n\nstruct list_head \{)")));
  CHECK(std::regex_search(r.out, std::regex(R"(\$\d+ = \{\n  next = 0x[0-9a-f]+,\n  prev = 0x[0-9a-f]+\n\}\n)")));
  CHECK(r.out.find("type = struct list_head {\n    struct list_head *next;\n    struct list_head *prev;\n}\n") !=
        std::string::npos);
  // -o with an address: the member's own address, init_task's plus its offset.
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex(R"(\n  \[([0-9a-f]+)\] pid_t pid;\n)")));
  uint64_t pid_at = std::stoull(m[1], nullptr, 16);
  Json layout = json_result("struct -o task_struct.pid");
  CHECK(pid_at == t.ksym.at("init_task") + layout[0]["offset"].get<uint64_t>());
  CHECK(layout[0]["type"] == "pid_t");
  CHECK(layout[0]["size"] == 4);
}

TEST_CASE("bad member or symbol: one error line, the next command runs", "[types]") {
  std::string s = suite();
  auto r = run_kdive(s, "elf",
                     "struct task_struct.nosuch init_task; p nosuchsym; p init_task.nosuch; struct nosuchtype; "
                     "whatis nosuchsym; p init_task.pid");
  std::string all = r.out + r.err;
  int errors = 0;
  for (const auto& l : lines_of(all)) {
    if (l.find("nosuch") != std::string::npos) ++errors;
  }
  CHECK(errors == 5);
  CHECK(std::regex_search(r.out, std::regex(R"(\$\d+ = 0\n)")));
  for (const auto& l : lines_of(all)) {
    if (l.find("nosuch") != std::string::npos) {
      CHECK(std::regex_match(l, std::regex(R"(^(struct|p|whatis): .*nosuch.*$)")));
    }
  }
  // A missing member is named with the type that lacks it.
  CHECK(r.err.find("p: struct task_struct has no member 'nosuch'") != std::string::npos);
}

TEST_CASE("per-CPU variables: each CPU's copy is at the guest's per-CPU offset", "[types]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  auto r = run_kdive(suite(), "elf", "p runqueues");
  REQUIRE(r.status == 0);
  CHECK(r.out.find("PER-CPU DATA TYPE:\n  struct rq runqueues;\nPER-CPU ADDRESSES:\n") == 0);
  std::regex addr(R"(\n  \[(\d+)\]: ([0-9a-f]{16}))");
  std::string cmds;
  std::vector<int> cpus;
  std::set<uint64_t> symbol_offsets;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), addr); it != std::sregex_iterator(); ++it) {
    int cpu = std::stoi((*it)[1]);
    cpus.push_back(cpu);
    cmds += "struct rq.cpu " + (*it)[2].str() + "; ";
    // Each copy is the symbol's offset in the per-CPU area past that CPU's base.
    uint64_t base = t.kvar.at(fmt::format("__per_cpu_offset[{}]", cpu));
    symbol_offsets.insert(std::stoull((*it)[2], nullptr, 16) - base);
  }
  REQUIRE(static_cast<int>(cpus.size()) == t.cpus);
  CHECK(symbol_offsets.size() == 1);
  auto rq = run_kdive(suite(), "elf", cmds + "p runqueues:1");
  REQUIRE(rq.status == 0);
  std::vector<int> seen;
  std::regex cpu_line(R"(^  cpu = (\d+),$)");
  for (const auto& l : lines_of(rq.out)) {
    std::smatch m;
    if (std::regex_match(l, m, cpu_line)) seen.push_back(std::stoi(m[1]));
  }
  // struct rq.cpu prints one line per CPU (each runqueue knows its CPU);
  // p runqueues:1 adds its own "cpu = 1,".
  REQUIRE(seen.size() == cpus.size() + 1);
  for (size_t i = 0; i < cpus.size(); ++i) CHECK(seen[i] == cpus[i]);
  CHECK(seen.back() == 1);
  CHECK(rq.out.find("per_cpu(runqueues, 1) = $") != std::string::npos);

  Json copies = json_result("p runqueues");
  REQUIRE(static_cast<int>(copies.size()) == t.cpus);
  for (const Json& c : copies) {
    int cpu = c["cpu"];
    CHECK(c["expression"] == fmt::format("per_cpu(runqueues, {})", cpu));
    CHECK(c["value"].is_null());
    CHECK(std::stoull(c["address"].get<std::string>(), nullptr, 16) -
              t.kvar.at(fmt::format("__per_cpu_offset[{}]", cpu)) ==
          *symbol_offsets.begin());
  }
  Json one = json_result("p runqueues:1");
  REQUIRE(one.size() == 1);
  CHECK(one[0]["cpu"] == 1);
  CHECK(one[0]["value"]["cpu"] == 1);
}

TEST_CASE("p/x and p/d are p -x and p -d, as in crash", "[types]") {
  KdiveRun r =
      run_kdive(suite(), "elf", "p/x init_task.pid; p -x init_task.pid; p/d init_task.prio; p -d init_task.prio");
  INFO(r.out << r.err);
  auto lines = lines_of(r.out);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].substr(lines[0].find(" = ")) == lines[1].substr(lines[1].find(" = ")));
  CHECK(lines[0].ends_with(" = 0x0"));
  CHECK(lines[2].substr(lines[2].find(" = ")) == lines[3].substr(lines[3].find(" = ")));
  CHECK(lines[2].ends_with(" = 120"));  // the idle task's static priority: MAX_RT_PRIO + 20
}

TEST_CASE("the JSON examples of the type and container commands give the keys they document", "[types]") {
  for (const char* name : {"p", "struct", "union", "whatis", "ptype", "eval", "ascii", "list", "tree"}) {
    INFO(name);
    Json manual = json_result(std::string("help ") + name)[0];
    KdiveRun text = run_kdive(suite(), "elf", std::string("help ") + name);
    std::smatch m;
    REQUIRE(std::regex_search(text.out, m, std::regex(R"(Try: kdive> (.*)\n)")));
    std::string example = m[1];
    INFO(example);
    Json result = json_result(example);
    const Json& first = manual["json"]["kind"] == "list" ? result.at(0) : result;
    for (const Json& key : manual["json"]["keys"]) CHECK(first.contains(key.get<std::string>()));
  }
}

TEST_CASE("the DWARF name index of a real vmlinux is what libdw sees", "[types]") {
  // The fast raw scan against a plain libdw walk of the same file: every name
  // of every kind, its DIE and (for enumerators) its value.
  auto vmlinux = fixture_dir(suite()) / "vmlinux";
  auto ref = reference_name_index(vmlinux);
  auto index = kdive::DwarfIndex::build(vmlinux);
  CHECK(index->problems().empty());
  REQUIRE(ref[static_cast<size_t>(kdive::NameKind::Struct)].count("task_struct") == 1);
  for (size_t k = 0; k < kdive::kNameKinds; ++k) {
    CAPTURE(k);
    auto kind = static_cast<kdive::NameKind>(k);
    CHECK(index->image().entries(kind).size() == ref[k].size());
    size_t wrong = 0;
    for (const auto& [name, e] : ref[k]) {
      const auto* got = index->find(kind, name);
      if (got == nullptr || got->die != e.die || got->value != e.value) {
        if (++wrong <= 5) UNSCOPED_INFO("differs: " << name);
      }
    }
    CHECK(wrong == 0);
  }
}
