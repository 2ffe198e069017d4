// Source lines of module code after `mod -s`, on the fixture whose guest
// oopsed in its own test module: bt -l, sym and dis -l name the lines the
// binutils name for the same .text offsets of the module's object file
// (addr2line -j .text), the oops is at the NULL dereference of the module's
// source, and without the object file (or after mod -d) no module line is
// shown and nothing fails.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "host_tools.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// Every command's JSON result, in order (kdive --json prints one object a line).
std::vector<Json> json_results(const std::string& commands) { return json_results_of(suite(), commands); }

struct FileLine {
  std::string file;
  int line = 0;
};

// "path:line" as bt's JSON and addr2line print it (addr2line may add
// " (discriminator N)").
std::optional<FileLine> parse_file_line(const std::string& text) {
  static const std::regex where(R"(^(.*):([0-9]+)( \(discriminator [0-9]+\))?$)");
  std::smatch m;
  if (!std::regex_match(text, m, where) || m[2] == "0") return std::nullopt;
  return FileLine{m[1], std::stoi(m[2].str())};
}

std::string basename_of(const std::string& path) { return fs::path(path).filename().string(); }

// The value of a symbol in the object file: its offset in its section.
uint64_t object_value(const fs::path& object, const std::string& symbol) {
  std::string nm = shell_output(fmt::format("nm {} | grep ' [tT] {}$'", quoted(object), symbol));
  REQUIRE(!nm.empty());
  return std::stoull(nm.substr(0, nm.find(' ')), nullptr, 16);
}

// The line of the module's source that holds `pattern` (1-based).
int source_line_of(const fs::path& source, const std::string& pattern) {
  std::ifstream in(source);
  REQUIRE(in);
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (line.find(pattern) != std::string::npos) return n;
  }
  FAIL("no line of " << source << " holds '" << pattern << "'");
  return 0;
}

// The module's frames of the panic task's bt, with the address each line is
// looked up at: the faulting instruction itself right after the exception's
// register block, else the call before the return address.
struct ModuleFrame {
  std::string symbol;
  uint64_t address;
  Json source;
};

std::vector<ModuleFrame> module_frames(const Json& trace, const std::string& module) {
  std::vector<ModuleFrame> out;
  const Json& frames = trace["frames"];
  for (size_t i = 0; i < frames.size(); ++i) {
    const Json& f = frames[i];
    if (f["module"] != module) continue;
    const bool after_exception = i > 0 && frames[i - 1].contains("registers");
    const uint64_t ip = std::stoull(f["ip"].get<std::string>(), nullptr, 16);
    out.push_back({f["symbol"], after_exception ? ip : ip - 1, f.value("source", Json())});
  }
  return out;
}

}  // namespace

TEST_CASE("after mod -s, bt -l, sym and dis -l name a module's source lines as addr2line does", "[module_lines]") {
  const fs::path dir = fixture_dir(suite());
  const Truth t = Truth::load(dir / "truth.txt");
  if (t.test_module.empty()) KDIVE_SKIP("this fixture's guest loaded no test module");
  if (!have_tool("addr2line") || !have_tool("nm")) KDIVE_SKIP("binutils (addr2line, nm) is not installed");
  const std::string& module = t.test_module;
  const fs::path object = dir / "modules" / (module + ".ko");
  const fs::path source = fs::path(KDIVE_SOURCE_DIR) / "data/guest/oops_module" / (module + ".c");
  REQUIRE(fs::exists(object));
  REQUIRE(!t.test_module_chain.empty());
  const std::string& innermost = t.test_module_chain.front();

  // Where the module's .text sat: the guest's own /proc/kallsyms against the
  // symbol's offset in the object file, independent of how kdive places it.
  auto run_time = t.test_module_symbols.find(innermost);
  REQUIRE(run_time != t.test_module_symbols.end());
  const uint64_t text_base = run_time->second - object_value(object, innermost);

  std::vector<Json> r =
      json_results(fmt::format("bt -l -p; sym {0}; mod -s {1} {2}; bt -l -p; sym {0}; dis -l {0}; "
                               "mod -d {1}; bt -l -p; sym {0}",
                               innermost, module, object.string()));
  REQUIRE(r.size() == 9);

  // Before mod -s: the frames, by name, but no module line.
  std::vector<ModuleFrame> before = module_frames(r[0][0], module);
  REQUIRE(before.size() == t.test_module_chain.size());
  for (const ModuleFrame& f : before) CHECK(f.source.is_null());
  CHECK(r[1][0]["source"].is_null());

  // With the object file: each module frame's line is addr2line's for the
  // same .text offset.
  std::vector<ModuleFrame> with = module_frames(r[3][0], module);
  REQUIRE(with.size() == t.test_module_chain.size());
  std::string offsets;
  for (const ModuleFrame& f : with) offsets += fmt::format(" {:#x}", f.address - text_base);
  auto answers = lines_of(shell_output(fmt::format("addr2line -j .text -e {}{}", quoted(object), offsets)));
  REQUIRE(answers.size() == with.size());
  for (size_t i = 0; i < with.size(); ++i) {
    INFO(with[i].symbol << ": addr2line '" << answers[i] << "', kdive " << with[i].source);
    auto expected = parse_file_line(answers[i]);
    REQUIRE(expected);
    REQUIRE(with[i].source.is_string());
    auto got = parse_file_line(with[i].source.get<std::string>());
    REQUIRE(got);
    CHECK(basename_of(got->file) == basename_of(expected->file));
    CHECK(basename_of(got->file) == source.filename().string());
    CHECK(got->line == expected->line);
  }
  // The oops is the NULL dereference in the innermost function.
  REQUIRE(with.front().symbol == innermost);
  auto faulting = parse_file_line(with.front().source.get<std::string>());
  REQUIRE(faulting);
  CHECK(faulting->line == source_line_of(source, "READ_ONCE(node->value)"));

  // sym and dis -l of the function: its first line, as addr2line has it.
  auto first = parse_file_line(lines_of(shell_output(fmt::format("addr2line -j .text -e {} {:#x}", quoted(object),
                                                                 run_time->second - text_base)))
                                   .at(0));
  REQUIRE(first);
  const Json& sym = r[4][0]["source"];
  REQUIRE(sym.is_object());
  CHECK(sym["line"] == first->line);
  CHECK(basename_of(sym["file"]) == basename_of(first->file));
  const Json& dis = r[5];
  REQUIRE(!dis.empty());
  REQUIRE(dis[0]["source"].is_object());
  CHECK(dis[0]["source"]["line"] == first->line);
  size_t with_lines = 0;
  for (const Json& insn : dis) with_lines += insn["source"].is_object() ? 1 : 0;
  CHECK(with_lines == dis.size());  // a C function: a line for every instruction

  // mod -d: the module's lines leave with its object file.
  std::vector<ModuleFrame> after = module_frames(r[7][0], module);
  REQUIRE(after.size() == t.test_module_chain.size());
  for (const ModuleFrame& f : after) CHECK(f.source.is_null());
  CHECK(r[8][0]["source"].is_null());
}

TEST_CASE("bt -l in text: a file:line under each module frame only after mod -s", "[module_lines]") {
  const fs::path dir = fixture_dir(suite());
  const Truth t = Truth::load(dir / "truth.txt");
  if (t.test_module.empty()) KDIVE_SKIP("this fixture's guest loaded no test module");
  const std::string& module = t.test_module;
  const fs::path object = dir / "modules" / (module + ".ko");
  KdiveRun r =
      run_kdive(suite(), "elf", fmt::format("bt -l -p; mod -s {} {} > /dev/null; bt -l -p", module, object.string()));
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  auto lines = lines_of(r.out);
  // Two backtraces; count the module frames followed by a source line in each.
  const std::regex frame(fmt::format(R"(^ ?#[0-9]+ \[[0-9a-f]+\] \S+ at [0-9a-f]+ \[{}\]$)", module));
  const std::regex source_line(fmt::format(R"(^    \S*{}\.c: [0-9]+$)", module));
  std::vector<size_t> frames, sourced;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].rfind("PID:", 0) == 0) {
      frames.push_back(0);
      sourced.push_back(0);
    }
    if (frames.empty() || !std::regex_match(lines[i], frame)) continue;
    ++frames.back();
    if (i + 1 < lines.size() && std::regex_match(lines[i + 1], source_line)) ++sourced.back();
  }
  REQUIRE(frames.size() == 2);
  CHECK(frames[0] == t.test_module_chain.size());
  CHECK(sourced[0] == 0);
  CHECK(frames[1] == t.test_module_chain.size());
  CHECK(sourced[1] == frames[1]);
}

TEST_CASE("mod -g -s adds each section's start and end symbols where the module's code sits", "[module_lines]") {
  const fs::path dir = fixture_dir(suite());
  const Truth t = Truth::load(dir / "truth.txt");
  if (t.test_module.empty()) KDIVE_SKIP("this fixture's guest loaded no test module");
  if (!have_tool("nm")) KDIVE_SKIP("binutils (nm) is not installed");
  const std::string& module = t.test_module;
  const fs::path object = dir / "modules" / (module + ".ko");
  REQUIRE(!t.test_module_chain.empty());
  const std::string& innermost = t.test_module_chain.front();
  const uint64_t text_base = t.test_module_symbols.at(innermost) - object_value(object, innermost);

  KdiveRun r = run_kdive(suite(), "elf",
                         fmt::format("mod -s {0} {1} > /dev/null; sym -m {0}; mod -d {0} > /dev/null; "
                                     "mod -g -s {0} {1} > /dev/null; sym -m {0}",
                                     module, object.string()));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const std::string marker = fmt::format("MODULE START: {}", module);
  const size_t second = r.out.find(marker, r.out.find(marker) + 1);
  REQUIRE(second != std::string::npos);
  // Without -g: no section symbols.
  CHECK(r.out.substr(0, second).find("_MODULE_SECTION_") == std::string::npos);
  const std::string with_g = r.out.substr(second);
  std::map<std::string, std::pair<uint64_t, uint64_t>> sections;  // name -> [start, end)
  std::regex bound(R"(^([0-9a-f]{16}) \(S\) _MODULE_SECTION_(START|END) \[(.+)\]$)");
  for (const std::string& line : lines_of(with_g)) {
    std::smatch m;
    if (!std::regex_match(line, m, bound)) continue;
    const uint64_t at = std::stoull(m[1], nullptr, 16);
    (m[2] == "START" ? sections[m[3]].first : sections[m[3]].second) = at;
  }
  REQUIRE(sections.count(".text") == 1);
  CHECK(sections.at(".text").first == text_base);
  for (const auto& [name, range] : sections) {
    INFO(name);
    CHECK(range.first <= range.second);
  }
  // Every function of the oops chain lies in .text, where the guest's
  // kallsyms put it.
  for (const std::string& function : t.test_module_chain) {
    INFO(function);
    const uint64_t at = t.test_module_symbols.at(function);
    CHECK(at >= sections.at(".text").first);
    CHECK(at < sections.at(".text").second);
  }
}
