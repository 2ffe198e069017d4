// bt -l and bt --inline on real crashed kernels, against binutils' addr2line
// on the fixture's vmlinux: each frame's source line is the line addr2line
// names for the same (unrelocated) address, and with --inline each frame's
// chain of inlined calls is addr2line -i's chain, in its order.
#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
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

Json run_json(const std::string& s, const std::string& command) { return json_result_of(s, command); }

uint64_t hex_of(const Json& v) { return std::stoull(v.get<std::string>(), nullptr, 16); }

// One line of addr2line -f -i: a function and where in it.
struct Place {
  std::string function;
  std::string file;  // "" when addr2line knows none ("??")
  int line = 0;
};

// addr2line -a -f -i over many addresses at once: -a prints each address
// before its lines, which splits the answers (-i gives one or more
// function/location pairs per address).
std::map<uint64_t, std::vector<Place>> addr2line_chains(const fs::path& vmlinux, const std::set<uint64_t>& addresses) {
  std::string args;
  for (uint64_t a : addresses) args += fmt::format(" {:#x}", a);
  auto out = lines_of(shell_output(fmt::format("addr2line -a -f -i -e {}{}", quoted(vmlinux), args)));
  static const std::regex address(R"(^0x([0-9a-f]+)$)");
  static const std::regex where(R"(^(.*):([0-9]+|\?)( \(discriminator [0-9]+\))?$)");
  std::map<uint64_t, std::vector<Place>> chains;
  std::vector<Place>* current = nullptr;
  for (size_t i = 0; i < out.size(); ++i) {
    std::smatch m;
    if (std::regex_match(out[i], m, address)) {
      current = &chains[std::stoull(m[1], nullptr, 16)];
      continue;
    }
    REQUIRE(current != nullptr);
    REQUIRE(i + 1 < out.size());
    Place p{out[i], "", 0};
    const std::string& location = out[++i];
    if (std::regex_match(location, m, where) && m[1] != "??" && m[2] != "?" && m[2] != "0") {
      p.file = m[1];
      p.line = std::stoi(m[2].str());
    }
    current->push_back(p);
  }
  REQUIRE(chains.size() == addresses.size());
  return chains;
}

// "fs/read_write.c:603" -> {file, line}
std::pair<std::string, int> split_source(const Json& source) {
  const std::string s = source.get<std::string>();
  const size_t colon = s.rfind(':');
  REQUIRE(colon != std::string::npos);
  return {s.substr(0, colon), std::stoi(s.substr(colon + 1))};
}

// The vmlinux's symbol addresses, by name (nm).
std::map<std::string, uint64_t> nm_symbols(const fs::path& vmlinux) {
  std::map<std::string, uint64_t> symbols;
  for (const std::string& l : lines_of(shell_output(fmt::format("nm {}", quoted(vmlinux))))) {
    const size_t name = l.rfind(' ');
    if (l.size() < 20 || l[16] != ' ' || name == std::string::npos) continue;
    symbols.emplace(l.substr(name + 1), std::stoull(l.substr(0, 16), nullptr, 16));
  }
  return symbols;
}

// Whether bt's frame symbol is the function addr2line names (its DWARF
// name): the same name without the compiler's suffix (__handle_sysrq.cold,
// vfs_write.part.0), or an alias at the same address (__x64_sys_pause is
// __do_sys_pause on 5.10).
bool same_function(const std::map<std::string, uint64_t>& nm, const std::string& symbol, const std::string& dwarf) {
  if (symbol.substr(0, symbol.find('.')) == dwarf) return true;
  auto a = nm.find(symbol), b = nm.find(dwarf);
  return a != nm.end() && b != nm.end() && a->second == b->second;
}

// A frame as bt's JSON gives it, with the address its line belongs to: a
// return address is named by the call before it (ip - 1). Every frame is one
// but the first and the one after a register block (the interrupted rip).
struct FrameAt {
  Json frame;
  uint64_t link_address;  // lookup address minus the KASLR offset
};

std::vector<FrameAt> image_frames(const Json& traces, uint64_t offset) {
  std::vector<FrameAt> frames;
  for (const Json& trace : traces) {
    if (!trace.contains("frames")) continue;
    const Json& list = trace["frames"];
    for (size_t i = 0; i < list.size(); ++i) {
      const Json& f = list[i];
      // Guessed frames may be stale words; module text has no DWARF here.
      if (f["guessed"] == true || !f["module"].is_null()) continue;
      const bool return_address = i > 0 && !list[i - 1].contains("registers");
      frames.push_back({f, hex_of(f["ip"]) - (return_address ? 1 : 0) - offset});
    }
  }
  return frames;
}

Json all_traces(const std::string& s, const std::string& flags) {
  Json traces = Json::array();
  for (const Json& task : run_json(s, "foreach bt " + flags)) {
    if (task.contains("result")) {
      for (const Json& t : task["result"]) traces.push_back(t);
    }
  }
  return traces;
}

// Where several line-table rows start at one address and the last is not a
// statement (an interrupted instruction right after an inlined
// arch_local_irq_enable, say), addr2line names the last row and gdb -- and so
// crash -- the last statement row, which kdive names too: gdb settles those.
// Returns gdb's line for the link address, or nullopt when gdb is missing.
std::optional<int> gdb_line(const fs::path& vmlinux, uint64_t address) {
  if (!have_tool("gdb")) return std::nullopt;
  std::string answer = shell_output(
      fmt::format("gdb -nx -batch -ex 'info line *{:#x}' {} 2>/dev/null | grep '^Line '", address, quoted(vmlinux)));
  static const std::regex where(R"(^Line ([0-9]+) of )");
  std::smatch m;
  if (!std::regex_search(answer, m, where)) return std::nullopt;
  return std::stoi(m[1].str());
}

// kdive's line for a frame's address is addr2line's, or where they differ,
// gdb's (see gdb_line); a missing gdb leaves a difference unsettled: warned.
void check_line(const fs::path& vmlinux, uint64_t address, int kdive, int addr2line) {
  if (kdive == addr2line) return;
  auto gdb = gdb_line(vmlinux, address);
  if (!gdb) {
    WARN("line " << kdive << " vs addr2line's " << addr2line << " at " << std::hex << address
                 << " not settled: gdb is not installed");
    return;
  }
  INFO("addr2line says " << addr2line << ", gdb " << *gdb);
  CHECK(kdive == *gdb);
}

}  // namespace

TEST_CASE("bt -l names, for each frame, the line addr2line names for its address", "[bt-lines][inline_frames]") {
  if (!have_tool("addr2line") || !have_tool("nm")) KDIVE_SKIP("binutils (addr2line, nm) is not installed");
  const std::string s = suite();
  const fs::path dir = fixture_dir(s);
  const uint64_t offset = kaslr_offset(dir);
  Json panic = run_json(s, "bt -p -l");
  std::vector<FrameAt> frames = image_frames(panic, offset);
  REQUIRE(frames.size() >= 5);  // panic, its callers, the syscall path
  std::set<uint64_t> addresses;
  for (const FrameAt& f : frames) addresses.insert(f.link_address);
  auto chains = addr2line_chains(dir / "vmlinux", addresses);
  const auto nm = nm_symbols(dir / "vmlinux");
  size_t compared = 0;
  for (const FrameAt& f : frames) {
    const std::vector<Place>& chain = chains.at(f.link_address);
    INFO(f.frame.dump() << "\naddr2line at " << std::hex << f.link_address << ": " << chain.front().function << " "
                        << chain.front().file << ":" << std::dec << chain.front().line);
    REQUIRE(!chain.empty());
    if (chain.front().file.empty()) {
      CHECK_FALSE(f.frame.contains("source"));  // no line for it: kdive invents none
      continue;
    }
    REQUIRE(f.frame.contains("source"));
    // Without --inline, -l names the line table's row for the address, as
    // crash does (crash 8.0.2 on bullseye: proc_reg_write's frame shows
    // fs/proc/inode.c: 345, inside the inlined pde_write): addr2line's first
    // (innermost) location; the frame's name is the function that owns the
    // code: addr2line -i's last (outermost) function.
    auto [file, line] = split_source(f.frame["source"]);
    check_line(dir / "vmlinux", f.link_address, line, chain.front().line);
    CHECK(same_file(file, chain.front().file));
    if (chain.back().function != "??") CHECK(same_function(nm, f.frame["symbol"], chain.back().function));
    ++compared;
  }
  CHECK(compared * 10 >= frames.size() * 8);  // assembly entry code may lack lines; the C frames have them
}

TEST_CASE("bt --inline -l gives each frame addr2line -i's chain of inlined calls", "[bt-lines][inline_frames]") {
  if (!have_tool("addr2line") || !have_tool("nm")) KDIVE_SKIP("binutils (addr2line, nm) is not installed");
  const std::string s = suite();
  const fs::path dir = fixture_dir(s);
  const uint64_t offset = kaslr_offset(dir);
  // Every task's frames: sleeping tasks pass through schedule(), whose
  // helpers the compiler inlines on every kernel, so chains longer than one.
  std::vector<FrameAt> frames = image_frames(all_traces(s, "--inline -l"), offset);
  REQUIRE(frames.size() >= 20);
  std::set<uint64_t> addresses;
  for (const FrameAt& f : frames) addresses.insert(f.link_address);
  auto chains = addr2line_chains(dir / "vmlinux", addresses);
  const auto nm = nm_symbols(dir / "vmlinux");
  size_t with_inlined = 0;
  std::set<uint64_t> checked;
  for (const FrameAt& f : frames) {
    if (!checked.insert(f.link_address).second) continue;
    const std::vector<Place>& chain = chains.at(f.link_address);
    const Json& inlined = f.frame["inlined"];
    std::string theirs;
    for (const Place& p : chain) theirs += fmt::format("\n  {} {}:{}", p.function, p.file, p.line);
    INFO(f.frame.dump() << "\naddr2line -i at " << std::hex << f.link_address << ":" << theirs);
    REQUIRE(inlined.is_array());
    if (chain.front().function == "??") {
      CHECK(inlined.empty());  // no DWARF function there (assembly): nothing inlined
      continue;
    }
    // addr2line -i: the inlined functions innermost first, then the one that
    // owns the code; each location is where the address is in that function.
    REQUIRE(inlined.size() + 1 == chain.size());
    with_inlined += !inlined.empty();
    for (size_t i = 0; i < inlined.size(); ++i) {
      CHECK(inlined[i]["function"] == chain[i].function);
      if (chain[i].file.empty()) continue;
      CHECK(inlined[i]["line"] == chain[i].line);
      CHECK(same_file(inlined[i]["file"], chain[i].file));
    }
    CHECK(same_function(nm, f.frame["symbol"], chain.back().function));
    if (!chain.back().file.empty()) {
      REQUIRE(f.frame.contains("source"));
      auto [file, line] = split_source(f.frame["source"]);
      if (inlined.empty()) {
        check_line(dir / "vmlinux", f.link_address, line, chain.back().line);
      } else {
        CHECK(line == chain.back().line);  // the call site of the outermost inlined call
      }
      CHECK(same_file(file, chain.back().file));
    }
  }
  INFO(with_inlined << " of " << checked.size() << " frame addresses have inlined calls");
  CHECK(with_inlined > 0);
}

TEST_CASE("bt --inline prints each inlined call before its frame, and bt alone prints none",
          "[bt-lines][inline_frames]") {
  const std::string s = suite();
  KdiveRun plain = run_kdive(s, "elf", "foreach bt");
  KdiveRun expanded = run_kdive(s, "elf", "foreach bt --inline");
  REQUIRE(plain.status == 0);
  REQUIRE(expanded.status == 0);
  static const std::regex inline_line(R"(^    \[[0-9a-f]+\] \S+ \(inlined\)$)");
  static const std::regex frame_line(R"(^ ?#[0-9]+ \[([0-9a-f]+)\] .*)");
  size_t inlined = 0;
  std::vector<std::string> without;  // the expanded output less its inline lines
  std::string pending_sp;            // the stack slot of the inline lines just seen
  for (const std::string& l : lines_of(expanded.out)) {
    std::smatch m;
    if (std::regex_match(l, inline_line)) {
      ++inlined;
      pending_sp = l.substr(5, l.find(']') - 5);
      continue;
    }
    if (!pending_sp.empty()) {
      // An inline line is followed by more of them or by its own frame.
      REQUIRE(std::regex_match(l, m, frame_line));
      CHECK(m[1] == pending_sp);
      pending_sp.clear();
    }
    without.push_back(l);
  }
  CHECK(inlined > 0);
  CHECK(plain.out.find("(inlined)") == std::string::npos);
  CHECK(without == lines_of(plain.out));  // --inline adds lines, changes none
}
