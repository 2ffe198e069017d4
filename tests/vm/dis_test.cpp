// dis on real crashed kernels, against binutils' own tools on the fixture's
// vmlinux: every instruction kdive decodes from the dump matches objdump's
// decoding of the file at the same (unrelocated) address, outside the sites the
// kernel patched at run time; dis -l's source lines match addr2line's.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "dump_edit.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

// Functions on every fixture's panic path and in hot code, with ftrace NOPs,
// return thunks, alternatives and static calls among them.
const std::vector<std::string> kFunctions = {"sysrq_handle_crash", "panic",     "schedule",
                                             "do_syscall_64",      "vfs_write", "__handle_sysrq"};

std::string shell_output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  pclose(p);
  return out;
}

bool have_tool(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

// The KASLR offset from the guest's own /proc/kallsyms (truth) against the
// vmlinux file's symbol table (nm): independent of how kdive finds it.
uint64_t kaslr_offset(const fs::path& dir, const Truth& truth) {
  auto run_time = truth.ksym.find("_text");
  REQUIRE(run_time != truth.ksym.end());
  std::string nm = shell_output(fmt::format("nm {} | grep ' _text$'", quoted(dir / "vmlinux")));
  REQUIRE(!nm.empty());
  return run_time->second - std::stoull(nm.substr(0, nm.find(' ')), nullptr, 16);
}

Json dis_json(const std::string& s, const std::string& command) {
  KdiveRun r = run_kdive_args(fmt::format("--json -b -c '{}' {} {}", command, quoted(fixture_dir(s) / "vmlinux"),
                                          quoted(fixture_dir(s) / "vmcore.elf")));
  INFO(command << "\n" << r.err);
  REQUIRE(r.status == 0);
  Json j = Json::parse(r.out);
  REQUIRE(j.contains("result"));
  return j["result"];
}

uint64_t hex_of(const Json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

struct ObjdumpInsn {
  std::string bytes;  // "0f 1f 44 00 00"
  std::string text;
};

// objdump -d -w over [start, stop) of the file: address -> instruction.
std::map<uint64_t, ObjdumpInsn> objdump(const fs::path& vmlinux, uint64_t start, uint64_t stop) {
  std::string out = shell_output(
      fmt::format("objdump -d -w --start-address={:#x} --stop-address={:#x} {}", start, stop, quoted(vmlinux)));
  static const std::regex line(R"(^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*?)\s*$)");
  std::map<uint64_t, ObjdumpInsn> insns;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_match(l, m, line)) insns[std::stoull(m[1], nullptr, 16)] = {m[2], m[3]};
  }
  return insns;
}

// The text split at its numbers: literal pieces and the numbers between them.
// objdump prints addresses bare (ffffffff81000000), gdb and kdive with 0x.
struct Tokens {
  std::vector<std::string> literals;
  std::vector<uint64_t> numbers;
};

Tokens tokens_of(const std::string& text) {
  static const std::regex number(R"(0x[0-9a-f]+|\b[0-9a-f]{16}\b)");
  Tokens t;
  size_t last = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), number); it != std::sregex_iterator(); ++it) {
    t.literals.push_back(text.substr(last, static_cast<size_t>(it->position()) - last));
    std::string n = it->str();
    t.numbers.push_back(std::stoull(n.rfind("0x", 0) == 0 ? n.substr(2) : n, nullptr, 16));
    last = static_cast<size_t>(it->position() + it->length());
  }
  t.literals.push_back(text.substr(last));
  return t;
}

// The same instruction once kdive's run-time addresses are moved back by the
// KASLR offset: each number is either equal (a register offset, a constant) or
// a relocated address (a branch target, a RIP-relative operand, an absolute
// address the kernel's relocation patched).
bool same_instruction(const std::string& kdive, const std::string& file, uint64_t offset) {
  Tokens k = tokens_of(kdive);
  Tokens f = tokens_of(file);
  if (k.literals != f.literals || k.numbers.size() != f.numbers.size()) return false;
  for (size_t i = 0; i < k.numbers.size(); ++i) {
    if (k.numbers[i] != f.numbers[i] && k.numbers[i] - offset != f.numbers[i]) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("dis of kernel functions matches objdump of the vmlinux outside run-time patched code", "[dis]") {
  if (!have_tool("objdump") || !have_tool("nm")) KDIVE_SKIP("binutils (objdump, nm) is not installed");
  const std::string s = suite();
  const fs::path dir = fixture_dir(s);
  const Truth truth = Truth::load(dir / "truth.txt");
  const uint64_t offset = kaslr_offset(dir, truth);

  size_t total = 0, compared = 0, patched = 0;
  for (const std::string& function : kFunctions) {
    INFO("dis -x " << function);
    // -x: symbol offsets in hex, as objdump prints them.
    Json lines = dis_json(s, "dis -x " + function);
    REQUIRE(lines.size() > 1);
    const uint64_t start = hex_of(lines.front()["address"]);
    const Json& last = lines.back();
    const uint64_t stop = hex_of(last["address"]) + (last["bytes"].get<std::string>().size() + 1) / 3;
    REQUIRE(lines.front()["symbol"] == function);
    REQUIRE(lines.front()["offset"] == 0);
    auto file = objdump(dir / "vmlinux", start - offset, stop - offset);
    REQUIRE(!file.empty());
    for (const Json& l : lines) {
      REQUIRE_FALSE(l.contains("error"));
      ++total;
      const uint64_t at = hex_of(l["address"]);
      const std::string text = l["text"];
      const std::string bytes = l["bytes"];
      CHECK(l["symbol"] == function);  // every instruction of the listing is in the function
      auto f = file.find(at - offset);
      const bool same_bytes = f != file.end() && f->second.bytes == bytes;
      if (f != file.end() && same_instruction(text, f->second.text, offset)) {
        ++compared;
        continue;
      }
      // The dump's bytes differ from the file's: code the kernel rewrote while
      // it ran (ftrace, alternatives, return thunks, static calls, jump labels)
      // or an instruction boundary those rewrites moved. Not comparable.
      if (!same_bytes) {
        ++patched;
        continue;
      }
      INFO("at " << std::hex << at << ": kdive '" << text << "', objdump '" << f->second.text << "'");
      CHECK(false);  // the same bytes must decode alike
    }
  }
  INFO(compared << " of " << total << " instructions compared, " << patched << " patched at run time");
  // Patched sites are a few per function (the ftrace NOP, return thunks,
  // alternatives); most instructions must have been compared.
  CHECK(compared * 10 >= total * 8);
  CHECK(patched > 0);  // the ftrace NOPs at least: the dump's code, not the file's, was read
}

TEST_CASE("dis prints gdb's lines: address, <symbol+offset>, tab, instruction; -r, counts and -d/-x", "[dis]") {
  const std::string s = suite();
  // The ftrace NOP at function entry is patched to a 5-byte NOP; the call to
  // panic is in sysrq_handle_crash on every fixture's kernel.
  KdiveRun whole = run_kdive(s, "elf", "dis sysrq_handle_crash");
  REQUIRE(whole.status == 0);
  auto lines = lines_of(whole.out);
  REQUIRE(lines.size() >= 3);
  static const std::regex form(R"(^0x[0-9a-f]{16} <sysrq_handle_crash(\+[0-9]+)?>:\t\S.*$)");
  for (const auto& l : lines) CHECK(std::regex_match(l, form));
  static const std::regex call_panic(R"(\tcall\s+0x[0-9a-f]{16} <panic>$)");
  CHECK(std::any_of(lines.begin(), lines.end(), [](const std::string& l) { return std::regex_search(l, call_panic); }));

  // A count from an address; -x and -d change only how offsets are written.
  Json three = dis_json(s, "dis sysrq_handle_crash+1 3");
  CHECK(three.size() == 3);
  KdiveRun hex = run_kdive(s, "elf", "dis -x sysrq_handle_crash");
  KdiveRun dec = run_kdive(s, "elf", "dis -d sysrq_handle_crash");
  REQUIRE(hex.status == 0);
  REQUIRE(dec.status == 0);
  CHECK(dec.out == whole.out);
  auto hex_lines = lines_of(hex.out);
  REQUIRE(hex_lines.size() == lines.size());
  static const std::regex offset(R"(<sysrq_handle_crash\+(0x)?([0-9a-f]+)>)");
  for (size_t i = 0; i < lines.size(); ++i) {
    std::smatch d, h;
    if (!std::regex_search(lines[i], d, offset)) continue;
    REQUIRE(std::regex_search(hex_lines[i], h, offset));
    CHECK(h[1] == "0x");
    CHECK(std::stoull(d[2]) == std::stoull(h[2], nullptr, 16));
  }

  // -r: from the function start up to and including the given instruction.
  Json all = dis_json(s, "dis sysrq_handle_crash");
  REQUIRE(all.size() >= 3);
  const Json& third = all[2];
  Json upto = dis_json(s, fmt::format("dis -r {}", third["address"].get<std::string>()));
  REQUIRE(upto.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(upto[i] == all[i]);
}

TEST_CASE("dis -l names the source lines addr2line names for the same addresses", "[dis]") {
  if (!have_tool("addr2line") || !have_tool("nm")) KDIVE_SKIP("binutils (addr2line, nm) is not installed");
  const std::string s = suite();
  const fs::path dir = fixture_dir(s);
  const uint64_t offset = kaslr_offset(dir, Truth::load(dir / "truth.txt"));
  size_t checked = 0, total = 0;
  for (const std::string& function : {std::string("sysrq_handle_crash"), std::string("vfs_write")}) {
    Json lines = dis_json(s, "dis -l " + function);
    std::string addresses;
    for (const Json& l : lines) addresses += fmt::format(" {:#x}", hex_of(l["address"]) - offset);
    auto answers = lines_of(shell_output(fmt::format("addr2line -e {}{}", quoted(dir / "vmlinux"), addresses)));
    REQUIRE(answers.size() == lines.size());
    static const std::regex where(R"(^(.*):([0-9]+)( \(discriminator [0-9]+\))?$)");
    for (size_t i = 0; i < lines.size(); ++i) {
      ++total;
      std::smatch m;
      if (!std::regex_match(answers[i], m, where) || m[2] == "0") continue;  // "??:0": no line for it
      const Json& source = lines[i]["source"];
      INFO(function << " at " << lines[i]["address"] << ": addr2line " << answers[i] << ", kdive " << source);
      REQUIRE(source.is_object());
      CHECK(source["line"] == std::stoi(m[2]));
      // addr2line may print the path relative or absolute: the shorter must end the longer.
      const std::string file = source["file"], theirs = m[1];
      const std::string& shorter = file.size() < theirs.size() ? file : theirs;
      const std::string& longer = file.size() < theirs.size() ? theirs : file;
      CHECK(longer.compare(longer.size() - shorter.size(), shorter.size(), shorter) == 0);
      ++checked;
    }
  }
  CHECK(checked * 10 >= total * 9);  // the vmlinux has line tables for (nearly) all of its text

  // The text form: a "file: line" header before the code of each new line.
  KdiveRun text = run_kdive(s, "elf", "dis -l sysrq_handle_crash");
  REQUIRE(text.status == 0);
  static const std::regex header(R"(^\S+\.[ch]: [0-9]+$)");
  auto out = lines_of(text.out);
  REQUIRE(!out.empty());
  CHECK(std::regex_match(out.front(), header));
}

TEST_CASE("dis stops at code it cannot read with a marker, and bad input is one error line", "[dis]") {
  const std::string s = suite();
  const fs::path dir = fixture_dir(s);
  const Truth truth = Truth::load(dir / "truth.txt");
  // The kernel image's mapping ends at the 2 MiB boundary after _end
  // (cleanup_highmap() removes the rest), so code listed across it runs out.
  auto end = truth.ksym.find("_end");
  REQUIRE(end != truth.ksym.end());
  const uint64_t boundary = (end->second + 0x1fffff) & ~uint64_t{0x1fffff};
  KdiveRun r = run_kdive(s, "elf", fmt::format("dis {:#x} 100", boundary - 8));
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  auto lines = lines_of(r.out);
  REQUIRE(!lines.empty());
  CHECK(lines.back().find("(damaged: ") != std::string::npos);
  CHECK(lines.size() < 100);

  // JSON: the last element carries the error.
  KdiveRun j = run_kdive_args(fmt::format("--json -b -c 'dis {:#x} 100' {} {}", boundary - 8, quoted(dir / "vmlinux"),
                                          quoted(dir / "vmcore.elf")));
  CHECK(j.status == kDataLost);
  Json result = Json::parse(lines_of(j.out).front())["result"];
  REQUIRE(!result.empty());
  CHECK(result.back().contains("error"));

  // Nothing after the error: the shell goes on with the next command.
  KdiveRun bad = run_kdive(s, "elf", "dis no_such_function_xyz; dis -r sysrq_handle_crash 3; dis; sys");
  CHECK(bad.err.find("dis: ") != std::string::npos);
  CHECK(bad.out.find("KERNEL:") != std::string::npos);
}
