#include "tests/dumpgen/description.hpp"

#include <fmt/format.h>

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace kdive::dumpgen {
namespace {

// X86Registers in pr_reg order: the names `cpu` lines use.
constexpr const char* kPrstatusRegs[] = {"r15",    "r14", "r13", "r12",     "rbp",     "rbx", "r11",      "r10", "r9",
                                         "r8",     "rax", "rcx", "rdx",     "rsi",     "rdi", "orig_rax", "rip", "cs",
                                         "eflags", "rsp", "ss",  "fs_base", "gs_base", "ds",  "es",       "fs",  "gs"};
static_assert(sizeof(kPrstatusRegs) / sizeof(kPrstatusRegs[0]) == sizeof(X86Registers) / 8);

// QEMUCPUState's general registers, in its order.
constexpr const char* kQemuGprs[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
                                     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};

struct Error : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

class LineParser {
 public:
  LineParser(std::vector<std::string> words, size_t line) : w_(std::move(words)), line_(line) {}

  [[noreturn]] void fail(const std::string& why) const { throw Error(fmt::format("line {}: {}", line_, why)); }
  bool done() const { return pos_ >= w_.size(); }
  const std::string& peek() const {
    static const std::string empty;
    return done() ? empty : w_[pos_];
  }
  std::string word(const char* what) {
    if (done()) fail(fmt::format("missing {}", what));
    return w_[pos_++];
  }
  bool accept(std::string_view w) {
    if (!done() && w_[pos_] == w) {
      ++pos_;
      return true;
    }
    return false;
  }
  uint64_t number(const char* what) { return parse_u64(word(what), what); }
  int64_t signed_number(const char* what) {
    std::string s = word(what);
    if (!s.empty() && s[0] == '-') return -static_cast<int64_t>(parse_u64(s.substr(1), what));
    return static_cast<int64_t>(parse_u64(s, what));
  }
  std::vector<std::byte> hex_bytes(const char* what) {
    std::string s;
    while (!done()) s += w_[pos_++];
    if (s.rfind("0x", 0) == 0) s = s.substr(2);
    if (s.empty() || s.size() % 2 != 0) fail(fmt::format("{}: need an even number of hex digits", what));
    std::vector<std::byte> out;
    for (size_t i = 0; i < s.size(); i += 2)
      out.push_back(static_cast<std::byte>(parse_u64("0x" + s.substr(i, 2), what)));
    return out;
  }
  void end() const {
    if (!done()) fail(fmt::format("unexpected '{}'", w_[pos_]));
  }

  uint64_t parse_u64(const std::string& s, const char* what) const {
    // Decimal, or hex with 0x. No octal: "010" is ten.
    bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    std::string digits = hex ? s.substr(2) : s;
    if (digits.empty()) fail(fmt::format("bad {} '{}'", what, s));
    uint64_t v = 0;
    for (char c : digits) {
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (hex && c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (hex && c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        fail(fmt::format("bad {} '{}'", what, s));
      }
      uint64_t base = hex ? 16 : 10;
      if (v > (UINT64_MAX - d) / base) fail(fmt::format("{} '{}' out of range", what, s));
      v = v * base + d;
    }
    return v;
  }

 private:
  std::vector<std::string> w_;
  size_t pos_ = 0;
  size_t line_;
};

struct PageLine {
  uint64_t start, end;  // physical addresses, end exclusive
  PageSpec spec;
  size_t line;
};

void parse_page(LineParser& p, std::vector<PageLine>& out, size_t line) {
  std::string where = p.word("address");
  PageLine pl{};
  pl.line = line;
  if (auto dash = where.find('-'); dash != std::string::npos) {
    pl.start = p.parse_u64(where.substr(0, dash), "start address");
    pl.end = p.parse_u64(where.substr(dash + 1), "end address");
    if (pl.end <= pl.start) p.fail("empty page range");
  } else {
    pl.start = p.parse_u64(where, "address");
    pl.end = 0;  // one page: filled in once the page size is known
  }
  PageSpec& s = pl.spec;
  while (!p.done()) {
    std::string w = p.word("page attribute");
    if (w == "pattern") {
      s.content = Content::Pattern;
    } else if (w == "fill") {
      uint64_t v = p.number("fill byte");
      if (v > 0xff) p.fail("fill byte above 0xff");
      s.content = Content::Fill;
      s.fill = static_cast<uint8_t>(v);
    } else if (w == "random") {
      s.content = Content::Random;
      if (!p.done() && std::isdigit(static_cast<unsigned char>(p.peek()[0]))) s.seed = p.number("seed");
    } else if (w == "zero") {
      s.kind = PageKind::Zero;
    } else if (w == "excluded") {
      s.kind = PageKind::Excluded;
    } else if (w == "lost") {
      s.kind = PageKind::Lost;
    } else if (w == "codec" || w == "raw") {
      std::string name = w == "raw" ? "raw" : p.word("codec name");
      auto c = codec_from_name(name);
      if (!c) p.fail(fmt::format("unknown codec '{}'", name));
      s.codec = c;
    } else {
      p.fail(fmt::format("unknown page attribute '{}'", w));
    }
  }
  out.push_back(pl);
}

void parse_cpu(LineParser& p, DumpDescription& d) {
  NoteSpec n;
  n.kind = NoteSpec::Kind::Prstatus;
  n.cpu = static_cast<int>(p.number("cpu number"));
  auto* regs = reinterpret_cast<uint64_t*>(&n.prstatus.regs);
  while (!p.done()) {
    std::string name = p.word("register");
    if (name == "pid") {
      n.prstatus.pid = static_cast<int32_t>(p.signed_number("pid"));
      continue;
    }
    size_t i = 0;
    while (i < std::size(kPrstatusRegs) && name != kPrstatusRegs[i]) ++i;
    if (i == std::size(kPrstatusRegs)) p.fail(fmt::format("unknown register '{}'", name));
    regs[i] = p.number("register value");
  }
  d.notes.push_back(n);
}

void parse_qemu(LineParser& p, DumpDescription& d) {
  NoteSpec n;
  n.kind = NoteSpec::Kind::Qemu;
  n.cpu = static_cast<int>(p.number("cpu number"));
  n.qemu.version = 1;
  QemuCpuState& q = n.qemu;
  while (!p.done()) {
    std::string name = p.word("register");
    uint64_t v = p.number("register value");
    size_t i = 0;
    while (i < std::size(kQemuGprs) && name != kQemuGprs[i]) ++i;
    if (i < std::size(kQemuGprs)) {
      n.qemu_gprs[i] = v;
      if (name == "rsp") q.rsp = v;
      continue;
    }
    if (name == "version")
      q.version = static_cast<uint32_t>(v);
    else if (name == "rip")
      q.rip = v;
    else if (name == "rflags")
      q.rflags = v;
    else if (name == "cr0")
      q.cr0 = v;
    else if (name == "cr2")
      q.cr2 = v;
    else if (name == "cr3")
      q.cr3 = v;
    else if (name == "cr4")
      q.cr4 = v;
    else if (name == "gs_base")
      q.gs_base = v;
    else if (name == "kernel_gs_base")
      q.kernel_gs_base = v;
    else
      p.fail(fmt::format("unknown QEMU register '{}'", name));
  }
  d.notes.push_back(n);
}

std::optional<size_t> parse_part(LineParser& p) {
  if (!p.accept("part")) return std::nullopt;
  return static_cast<size_t>(p.number("part number"));
}

void parse_line(LineParser& p, const std::string& key, DumpDescription& d, std::vector<PageLine>& pages, size_t line) {
  if (key == "format") {
    std::string f = p.word("format");
    if (f == "kdump")
      d.format = Format::Kdump;
    else if (f == "elf")
      d.format = Format::Elf;
    else
      p.fail(fmt::format("unknown format '{}' (kdump or elf)", f));
  } else if (key == "signature") {
    std::string s = p.word("signature");
    if (s == "KDUMP")
      d.signature = "KDUMP   ";
    else if (s == "DISKDUMP")
      d.signature = "DISKDUMP";
    else
      p.fail("signature is KDUMP or DISKDUMP");
  } else if (key == "version") {
    d.version = static_cast<int>(p.number("version"));
  } else if (key == "block_size") {
    d.block_size = static_cast<uint32_t>(p.number("block size"));
  } else if (key == "compression") {
    std::string name = p.word("codec");
    auto c = codec_from_name(name);
    if (!c) p.fail(fmt::format("unknown codec '{}'", name));
    d.compression = *c;
  } else if (key == "incomplete") {
    d.incomplete = true;
  } else if (key == "max_mapnr") {
    d.max_mapnr = p.number("max_mapnr");
  } else if (key == "phys_base") {
    d.phys_base = static_cast<uint64_t>(p.signed_number("phys_base"));
  } else if (key == "dump_level") {
    d.dump_level = static_cast<int>(p.number("dump level"));
  } else if (key == "timestamp") {
    d.timestamp = p.signed_number("timestamp");
  } else if (key == "utsname") {
    static const char* fields[] = {"sysname", "nodename", "release", "version", "machine", "domainname"};
    std::string f = p.word("utsname field");
    size_t i = 0;
    while (i < 6 && f != fields[i]) ++i;
    if (i == 6) p.fail(fmt::format("unknown utsname field '{}'", f));
    std::string value;
    while (!p.done()) value += (value.empty() ? "" : " ") + p.word("value");
    d.utsname[i] = value;
  } else if (key == "nr_cpus") {
    d.nr_cpus = static_cast<int>(p.number("nr_cpus"));
  } else if (key == "split") {
    if (p.accept("at")) {
      while (!p.done()) d.split_bounds.push_back(p.number("PFN"));
      if (d.split_bounds.empty()) p.fail("split at: no PFNs");
    } else {
      d.split_parts = static_cast<int>(p.number("part count"));
      if (d.split_parts < 1) p.fail("split needs at least 1 part");
    }
  } else if (key == "vmcoreinfo_in") {
    std::string w = p.word("place");
    if (w == "note")
      d.vmcoreinfo_place = VmcoreinfoPlace::Note;
    else if (w == "text")
      d.vmcoreinfo_place = VmcoreinfoPlace::Text;
    else
      p.fail("vmcoreinfo_in is note or text");
  } else if (key == "flattened") {
    d.flattened.enabled = true;
    while (!p.done()) {
      std::string w = p.word("flattened option");
      if (w == "chunk") {
        d.flattened.chunk = p.number("chunk size");
        if (d.flattened.chunk == 0) p.fail("chunk size 0");
      } else if (w == "reverse")
        d.flattened.reverse = true;
      else if (w == "sparse")
        d.flattened.sparse = true;
      else if (w == "noend")
        d.flattened.noend = true;
      else if (w == "rewrite-header")
        d.flattened.rewrite_header = true;
      else
        p.fail(fmt::format("unknown flattened option '{}'", w));
    }
  } else if (key == "set") {
    std::string field = p.word("field");
    if (field.rfind("header.", 0) != 0 && field.rfind("sub.", 0) != 0) p.fail("set header.FIELD or sub.FIELD");
    d.header_sets[field] = static_cast<uint64_t>(p.signed_number("value"));
  } else if (key == "desc") {
    DescOverride o;
    o.pfn = p.number("address");  // converted to a PFN later
    o.field = p.word("descriptor field");
    if (o.field != "offset" && o.field != "size" && o.field != "flags" && o.field != "page_flags") {
      p.fail("descriptor field is offset, size, flags or page_flags");
    }
    o.value = static_cast<uint64_t>(p.signed_number("value"));
    d.desc_overrides.push_back(o);
  } else if (key == "vmcoreinfo") {
    std::string text;
    while (!p.done()) text += (text.empty() ? "" : " ") + p.word("text");
    d.vmcoreinfo += text + "\n";
  } else if (key == "cpu") {
    parse_cpu(p, d);
  } else if (key == "qemu") {
    parse_qemu(p, d);
  } else if (key == "note") {
    NoteSpec n;
    n.name = p.word("note name");
    n.type = static_cast<uint32_t>(p.number("note type"));
    if (!p.done()) n.desc = p.hex_bytes("note data");
    d.notes.push_back(n);
  } else if (key == "page") {
    parse_page(p, pages, line);
  } else if (key == "poke") {
    Poke k;
    k.paddr = p.number("address");
    k.bytes = p.hex_bytes("bytes");
    d.pokes.push_back(k);
  } else if (key == "poke64") {
    Poke k;
    k.paddr = p.number("address");
    uint64_t v = p.number("value");
    k.bytes.resize(8);
    std::memcpy(k.bytes.data(), &v, 8);
    d.pokes.push_back(k);
  } else if (key == "load") {
    LoadSpec l;
    l.paddr = p.number("paddr");
    l.filesz = p.number("size");
    l.memsz = l.filesz;
    while (!p.done()) {
      std::string w = p.word("load attribute");
      if (w == "vaddr")
        l.vaddr = p.number("vaddr");
      else if (w == "memsz")
        l.memsz = p.number("memsz");
      else
        p.fail(fmt::format("unknown load attribute '{}'", w));
    }
    d.loads.push_back(l);
  } else if (key == "truncate") {
    Damage g{Damage::Kind::Truncate, parse_part(p), 0, {}};
    g.offset = p.number("size");
    d.damage.push_back(g);
  } else if (key == "corrupt") {
    Damage g{Damage::Kind::Corrupt, parse_part(p), 0, {}};
    g.offset = p.number("offset");
    g.bytes = p.hex_bytes("bytes");
    d.damage.push_back(g);
  } else {
    p.fail(fmt::format("unknown keyword '{}'", key));
  }
  p.end();
}

}  // namespace

DumpDescription parse_description(std::string_view text) {
  DumpDescription d;
  std::vector<PageLine> pages;
  std::istringstream in{std::string(text)};
  std::string raw;
  size_t line = 0;
  while (std::getline(in, raw)) {
    ++line;
    // A comment starts at a '#' that begins a word and is followed by a space
    // or the end of the line, so values like "#1 SMP" stay text.
    for (size_t i = 0; i < raw.size(); ++i) {
      bool word_start = i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t';
      bool alone = i + 1 == raw.size() || raw[i + 1] == ' ' || raw[i + 1] == '\t';
      if (raw[i] == '#' && word_start && (alone || i == raw.find_first_not_of(" \t"))) {
        raw.resize(i);
        break;
      }
    }
    std::istringstream words(raw);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (w.empty()) continue;
    std::string key = w.front();
    w.erase(w.begin());
    LineParser p(std::move(w), line);
    parse_line(p, key, d, pages, line);
  }

  const uint64_t ps = d.format == Format::Kdump ? d.block_size : 4096;
  if (ps == 0 || (ps & (ps - 1)) != 0) throw Error(fmt::format("block_size {} is not a power of two", ps));
  for (const PageLine& pl : pages) {
    if (pl.start % ps != 0 || (pl.end != 0 && pl.end % ps != 0)) {
      throw Error(fmt::format("line {}: page address not aligned to the page size {}", pl.line, ps));
    }
    uint64_t end = pl.end ? pl.end : pl.start + ps;
    for (uint64_t a = pl.start; a < end; a += ps) d.pages[a / ps] = pl.spec;
  }
  for (DescOverride& o : d.desc_overrides) o.pfn /= ps;
  return d;
}

}  // namespace kdive::dumpgen
