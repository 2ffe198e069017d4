// dis: disassemble kernel (or, with -u, user) code as gdb and crash print it,
// from the dump's memory — so code the kernel patched at run time (ftrace
// NOPs, alternatives, return thunks, static calls) shows as it ran — with
// branch targets named from the kernel's and the modules' symbols.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/context_space.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/disassembler.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;
// A function whose symbol carries no size (assembly, module symbols from the
// kernel's kallsyms) is listed up to the next symbol, but never further than
// this: a runaway listing of data is of no use.
constexpr uint64_t kMaxUnsizedFunction = 64 * 1024;

enum class Extent { Count, Function, UpTo };

struct Request {
  VirtAddr start{0};
  Extent extent = Extent::Count;
  uint64_t count = 1;   // Extent::Count
  uint64_t end = 0;     // Extent::Function: the first address past the code; UpTo: the last instruction
  bool user = false;    // -u
  bool lines = false;   // -l
  bool source = false;  // -s
  int radix = 10;       // of the <symbol+offset> offsets
};

// The dump's bytes of one address space, read a page at a time and kept: a
// listing reads each page once. The first page that cannot be read is kept
// as a Fault and ends what bytes_at() returns.
class CodeReader {
 public:
  explicit CodeReader(const AddressSpace& space) : space_(space) {}

  // Up to `n` readable bytes at `address` (fewer where a page cannot be read).
  std::span<const std::byte> bytes_at(uint64_t address, size_t n) {
    window_.clear();
    for (uint64_t a = address; window_.size() < n;) {
      const uint64_t page = a & ~(kPageSize - 1);
      const std::vector<std::byte>* bytes = page_at(page);
      if (!bytes) break;
      const size_t from = static_cast<size_t>(a - page);
      const size_t take = std::min<size_t>(n - window_.size(), kPageSize - from);
      window_.insert(window_.end(), bytes->begin() + static_cast<std::ptrdiff_t>(from),
                     bytes->begin() + static_cast<std::ptrdiff_t>(from + take));
      a += take;
    }
    return window_;
  }
  // Why the page after the last readable byte could not be read.
  const std::optional<std::string>& fault() const { return fault_; }

 private:
  const std::vector<std::byte>* page_at(uint64_t page) {
    if (auto it = pages_.find(page); it != pages_.end()) return &it->second;
    if (fault_page_ == page) return nullptr;
    std::vector<std::byte> bytes(kPageSize);
    try {
      space_.read(VirtAddr{page}, bytes);
    } catch (const Fault& f) {
      fault_ = f.what();
      fault_page_ = page;
      return nullptr;
    }
    return &pages_.emplace(page, std::move(bytes)).first->second;
  }

  const AddressSpace& space_;
  std::map<uint64_t, std::vector<std::byte>> pages_;
  std::vector<std::byte> window_;
  std::optional<std::string> fault_;
  std::optional<uint64_t> fault_page_;
};

// One listed instruction, or the marker where the bytes ran out.
struct Line {
  uint64_t address;
  std::optional<SymbolHit> symbol;
  std::vector<std::byte> bytes;
  std::string text;
  std::optional<SourceLine> source;
  std::string error;  // set on the marker line only
};

std::optional<SymbolHit> kernel_symbol(const Kernel& k, uint64_t address) {
  if (address_half(VirtAddr{address}, k.layout().levels) != AddressHalf::Kernel) return std::nullopt;
  return k.symbol_at(VirtAddr{address});
}

// gdb's "<name>" / "<name+18>" (or "+0x12" in radix 16).
std::string symbol_suffix(const SymbolHit& hit, int radix) {
  if (hit.offset == 0) return fmt::format("<{}>", hit.symbol->name);
  return radix == 16 ? fmt::format("<{}+0x{:x}>", hit.symbol->name, hit.offset)
                     : fmt::format("<{}+{}>", hit.symbol->name, hit.offset);
}

std::string hex_bytes(std::span<const std::byte> bytes) {
  std::string out;
  for (std::byte b : bytes) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{:02x}", static_cast<unsigned>(b));
  }
  return out;
}

// Where a function given by name ends: its symbol's size, else the next symbol.
uint64_t function_end(const Kernel& k, const Symbol& s) {
  const uint64_t start = s.address.value();
  if (s.size > 0) return start + s.size;
  uint64_t end = start + 1;
  while (end < start + kMaxUnsizedFunction) {
    auto hit = kernel_symbol(k, end);
    if (!hit || hit->symbol->address.value() != start) break;
    ++end;
  }
  return end;
}

Request parse_request(Session& session, const ParsedArgs& args) {
  const Kernel& k = session.kernel();
  Request r;
  r.user = args.has('u');
  r.lines = args.has('l');
  r.source = args.has('s');
  r.radix = session.settings().radix;
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  if (args.has('x')) r.radix = 16;
  if (args.has('d')) r.radix = 10;
  const auto& words = args.positional();
  if (words.empty()) throw CommandError("a symbol or an address is needed (see 'help dis')");
  if (words.size() > 2) throw CommandError(fmt::format("unexpected argument '{}'", words[2]));
  r.start = parse_address(r.user ? nullptr : &k, words[0]);
  if (words.size() == 2) {
    if (args.has('r')) throw CommandError("-r lists up to the address: it takes no count");
    r.count = parse_count(words[1]);
    if (r.count == 0) throw CommandError("count must be at least 1");
    return r;
  }
  if (args.has('r')) {
    if (r.user) throw CommandError("-r needs a kernel function: user code has no symbols here");
    auto hit = kernel_symbol(k, r.start.value());
    if (!hit) throw CommandError(fmt::format("{:x} is in no known function", r.start));
    r.extent = Extent::UpTo;
    r.end = r.start.value();
    r.start = hit->symbol->address;
    return r;
  }
  // A function given by its name is listed whole, as crash does; an address
  // (or name+offset) alone is one instruction.
  if (!r.user) {
    if (const Symbol* s = k.find_symbol(words[0]); s && s->address == r.start) {
      r.extent = Extent::Function;
      r.end = function_end(k, *s);
    }
  }
  return r;
}

AddressSpace space_for(const Session& session, const Request& r) {
  const Kernel& k = session.kernel();
  if (!r.user && address_half(r.start, k.layout().levels) == AddressHalf::Kernel) return AddressSpace::kernel(k);
  return context_space(k, session.context(), r.start, r.user ? std::optional(AddressSpace::Kind::User) : std::nullopt);
}

std::vector<Line> disassemble(const Kernel& k, const Request& r, const AddressSpace& space) {
  CodeReader reader(space);
  const bool kernel = !space.is_user();
  Disassembler dis([&](uint64_t a) {
    auto hit = kernel ? kernel_symbol(k, a) : std::nullopt;
    return hit ? symbol_suffix(*hit, r.radix) : std::string();
  });
  std::vector<Line> lines;
  uint64_t at = r.start.value();
  auto more = [&] {
    switch (r.extent) {
      case Extent::Count:
        return lines.size() < r.count;
      case Extent::Function:
        return at < r.end;
      case Extent::UpTo:
        return at <= r.end;
    }
    return false;
  };
  while (more()) {
    Line line{at, kernel ? kernel_symbol(k, at) : std::nullopt, {}, {}, {}, {}};
    auto bytes = reader.bytes_at(at, kMaxInstructionLength);
    auto insn = dis.decode(at, bytes);
    if (!insn) {
      line.error = reader.fault().value_or(fmt::format("the instruction at {:x} does not decode", at));
      lines.push_back(std::move(line));
      break;
    }
    line.bytes.assign(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(insn->length));
    line.text = std::move(insn->text);
    if (kernel && (r.lines || r.source)) line.source = k.source_line(at);
    lines.push_back(std::move(line));
    at += insn->length;
  }
  return lines;
}

// Where dis -s looks for a source file: under `set srcdir` DIR, the path from
// the build directory (Debian's vmlinux names kernel/sched/core.c relative to
// debian/build/build_amd64_none_cloud-amd64, which is no directory of the
// source tree), then shorter and shorter tails of it (an assembler unit names
// its file absolute, under the tree the package was built in, not under the
// build directory), longest first; then the file as the DWARF names it. A
// tail keeps at least a directory and a name, so a bare name cannot match a
// file of the same name elsewhere in the tree.
std::vector<std::filesystem::path> source_candidates(const SourceLine& where,
                                                     const std::optional<std::filesystem::path>& source_dir) {
  std::vector<std::filesystem::path> out;
  if (source_dir) {
    std::vector<std::string> parts;
    for (const auto& part : std::filesystem::path(where.from_build_dir).lexically_normal()) {
      const std::string p = part.string();
      if (p != "/" && p != "." && p != ".." && !p.empty()) parts.push_back(p);
    }
    const size_t keep = std::min<size_t>(parts.size(), 2);
    for (size_t first = 0; first + keep <= parts.size() && !parts.empty(); ++first) {
      std::filesystem::path tail;
      for (size_t i = first; i < parts.size(); ++i) tail /= parts[i];
      out.push_back(*source_dir / tail);
    }
  }
  out.emplace_back(where.file);
  return out;
}

// -s: the source file's lines, read once; nullopt when the file is not here.
class SourceFiles {
 public:
  explicit SourceFiles(std::optional<std::filesystem::path> source_dir) : source_dir_(std::move(source_dir)) {}

  const std::vector<std::string>* lines_of(const SourceLine& where) {
    auto [it, added] = files_.try_emplace({where.file, where.from_build_dir});
    if (added) {
      for (const std::filesystem::path& candidate : source_candidates(where, source_dir_)) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(candidate, ec)) continue;
        std::ifstream in(candidate);
        if (!in) continue;
        std::vector<std::string> lines;
        for (std::string l; std::getline(in, l);) lines.push_back(std::move(l));
        it->second = std::move(lines);
        break;
      }
    }
    return it->second ? &*it->second : nullptr;
  }
  // True the first time a file was missing.
  bool note_missing() { return !std::exchange(missing_noted_, true); }
  const std::optional<std::filesystem::path>& source_dir() const { return source_dir_; }

 private:
  std::optional<std::filesystem::path> source_dir_;
  bool missing_noted_ = false;
  std::map<std::pair<std::string, std::string>, std::optional<std::vector<std::string>>> files_;
};

// Prints the source that leads to `where`: with -l its "file: line" header,
// with -s the file's lines since the previous instruction's line (or the
// line alone after a jump back or to another file).
void print_source(const Request& r, const SourceLine& where, const std::optional<SourceLine>& previous,
                  SourceFiles& files, Output& out) {
  if (!r.source) {
    out.print("{}: {}\n", where.file, where.line);
    return;
  }
  const std::vector<std::string>* text = files.lines_of(where);
  if (!text) {
    // Said once; the listing goes on with -l's headers.
    if (files.note_missing()) {
      if (files.source_dir()) {
        out.print("(source file {} is not under {} (set srcdir) nor on this machine: file and line only)\n", where.file,
                  files.source_dir()->string());
      } else {
        out.print(
            "(source file {} is not on this machine: file and line only; `set srcdir DIR` names the kernel "
            "source tree)\n",
            where.file);
      }
    }
    out.print("{}: {}\n", where.file, where.line);
    return;
  }
  int from = where.line;
  if (previous && previous->file == where.file && previous->line < where.line) from = previous->line + 1;
  if (!previous || previous->file != where.file) out.print("FILE: {}\n", where.file);
  for (int n = from; n <= where.line; ++n) {
    const size_t i = static_cast<size_t>(n - 1);
    out.print("{:>6}  {}\n", n, i < text->size() ? (*text)[i] : std::string());
  }
}

void print_lines(const Request& r, const std::vector<Line>& lines,
                 const std::optional<std::filesystem::path>& source_dir, Output& out) {
  SourceFiles files(source_dir);
  std::optional<SourceLine> previous;
  for (const Line& l : lines) {
    if (l.source && (!previous || previous->file != l.source->file || previous->line != l.source->line)) {
      print_source(r, *l.source, previous, files, out);
      previous = l.source;
    }
    std::string where = fmt::format("0x{:x}", l.address);
    if (l.symbol) where += " " + symbol_suffix(*l.symbol, r.radix);
    if (!l.error.empty()) {
      out.print("{}:\t(damaged: {})\n", where, l.error);
      continue;
    }
    out.print("{}:\t{}\n", where, l.text);
  }
}

Json lines_json(const std::vector<Line>& lines) {
  Json rows = Json::array();
  for (const Line& l : lines) {
    Json row = {{"address", json_hex(l.address)},
                {"symbol", l.symbol ? Json(std::string(l.symbol->symbol->name)) : Json(nullptr)},
                {"offset", l.symbol ? Json(l.symbol->offset) : Json(nullptr)}};
    if (!l.error.empty()) {
      row["bytes"] = nullptr;
      row["text"] = nullptr;
      row["source"] = nullptr;
      row["error"] = l.error;
      rows.push_back(std::move(row));
      continue;
    }
    row["bytes"] = hex_bytes(l.bytes);
    row["text"] = l.text;
    row["source"] = l.source ? Json{{"file", l.source->file}, {"line", l.source->line}} : Json(nullptr);
    rows.push_back(std::move(row));
  }
  return rows;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  const Request r = parse_request(session, args);
  const AddressSpace space = space_for(session, r);
  const std::vector<Line> lines = disassemble(k, r, space);
  if (!lines.empty() && !lines.back().error.empty()) {
    out.data_lost(fmt::format("code at {:x}: {}", lines.back().address, lines.back().error));
  }
  if (r.source && std::none_of(lines.begin(), lines.end(), [](const Line& l) { return l.source.has_value(); })) {
    out.warning(
        "no source lines for this code (no line table has it: the vmlinux's, or a module's after mod -s "
        "loads its object file)");
  }
  if (out.json()) return out.result(lines_json(lines));
  print_lines(r, lines, session.settings().source_dir, out);
}

const CommandRegistrar registrar{
    {.name = "dis",
     .summary = "disassemble code",
     .usage = "dis [-lsrux|-d] symbol|address [count]",
     .description = "Disassembles x86_64 code in AT&T syntax, as gdb, objdump and crash print it\n"
                    "(binutils' libopcodes decodes it). The bytes are read from the dump, so code the\n"
                    "kernel patched while it ran (ftrace NOPs, alternatives, return thunks, static\n"
                    "calls, jump labels) shows as the CPU executed it, not as the vmlinux file has it.\n"
                    "Each line is the address, its <symbol+offset> in the kernel or a module, and the\n"
                    "instruction; branch and call targets and RIP-relative operands are named too.\n"
                    "\n"
                    "A function given by name is listed whole (its size from the symbol table); an\n"
                    "address, or name+offset, is one instruction unless a count (decimal) is given.\n"
                    "Offsets follow the output radix (see set radix) unless -x or -d is given. A\n"
                    "byte that cannot be read ends the listing with a (damaged: ...) line.\n"
                    "\n"
                    "-l and -s name lines from the vmlinux's DWARF line tables, and for a module's\n"
                    "code from its object file's once mod -s has loaded it. -s prints the source\n"
                    "text, read from the kernel source tree that `set srcdir DIR` names (the paths\n"
                    "in the DWARF are those of the machine the kernel was built on): each file is\n"
                    "looked for under DIR by its path from the build directory, then by shorter\n"
                    "tails of it; without it, at the path the DWARF gives.",
     .examples = "The function that crashed the fixtures' kernels:\n"
                 "\n"
                 "  kdive> dis sysrq_handle_crash\n"
                 "  0xffffffff96003f80 <sysrq_handle_crash>:\tdata16 data16 data16 xchg %ax,%ax\n"
                 "  0xffffffff96003f85 <sysrq_handle_crash+5>:\tcall   0xffffffff95b046e0 "
                 "<rcu_read_unlock_strict>\n"
                 "  0xffffffff96003f8a <sysrq_handle_crash+10>:\tmov    $0xffffffff96afdb39,%rdi\n"
                 "  0xffffffff96003f91 <sysrq_handle_crash+17>:\tcall   0xffffffff9627a893 <panic>\n"
                 "\n"
                 "With source lines, and from the function start up to an address:\n"
                 "\n"
                 "  kdive> dis -l sysrq_handle_crash\n"
                 "  kdive> dis -r schedule+0x40\n"
                 "\n"
                 "The source text too, from an unpacked kernel source tree:\n"
                 "\n"
                 "  kdive> set srcdir /usr/src/linux-source-6.1\n"
                 "  kdive> dis -s sysrq_handle_crash\n"
                 "\n"
                 "Three instructions, offsets in hex; code of the context process (see set):\n"
                 "\n"
                 "  kdive> dis -x panic 3\n"
                 "  kdive> dis -u 401000 5",
     .options = {{'l', "", "show the source file and line before the code of each line"},
                 {'s', "", "show the source text with the code (the source tree: see set srcdir)"},
                 {'r', "", "list from the start of the function up to and including the address"},
                 {'u', "", "the address is a user virtual address of the current context"},
                 {'x', "", "symbol offsets in hex"},
                 {'d', "", "symbol offsets in decimal"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "symbol", "offset", "bytes", "text", "source"},
              .notes = "One object per instruction: its address (\"0x…\"), the symbol it is in and\n"
                       "the offset there (null outside any symbol and for user code), its bytes as\n"
                       "read from the dump (\"0f 1f 44 00 00\"), the instruction text as printed,\n"
                       "and with -l or -s its source {file, line} (else null). Where the code cannot\n"
                       "be read, the last object has bytes, text and source null and an \"error\"\n"
                       "saying why, and the listing ends there.",
              .example = "dis -l sysrq_handle_crash"}},
    run};

}  // namespace
}  // namespace kdive
