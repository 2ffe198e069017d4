// rd: display memory — kernel virtual, user virtual or physical — as hex words,
// decimal, symbols or text, with crash's flags and layout.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <vector>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/context_space.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/slab_lookup.hpp"

namespace kdive {
namespace {

constexpr size_t kLineBytes = 16;
constexpr size_t kAsciiLine = 60;
constexpr uint64_t kAsciiDefaultLimit = 4096;  // -a without a count stops at a NUL or here, like crash

enum class Style { Hex, Signed, Unsigned, Symbolic };

struct Request {
  bool physical = false;
  std::optional<AddressSpace::Kind> wanted;  // -u
  Style style = Style::Hex;
  size_t width = 8;  // bytes per value
  bool ascii_column = true;
  bool ascii_only = false;
  bool network_order = false;
  uint64_t start = 0;  // in the space being read: physical with -p, else virtual
  uint64_t count = 1;  // values (or characters with -a)
  bool count_given = false;
  int slab_names = 0;   // -S: 1 names the slab cache of a word, -SS: 2 adds the word (and its object)
  bool redzone = true;  // set redzone: -SS names a red-zoned object by its slot start (on) or past the pad
};

// Where rd reads: physical memory, or one virtual address space (the kernel's,
// or the current context's user space). Throws Fault.
class Source {
 public:
  Source(const KernelMemory& memory, std::optional<AddressSpace> space) : memory_(memory), space_(std::move(space)) {}

  bool physical() const { return !space_; }
  bool kernel() const { return space_ && !space_->is_user(); }
  std::string_view name() const { return space_ ? space_->name() : "physical"; }
  // `at` counts in the space's own addresses: the one place rd's running
  // position becomes a typed address.
  void read(uint64_t at, std::span<std::byte> out) const {
    if (space_) {
      space_->read(VirtAddr{at}, out);
    } else {
      memory_.read_phys(PhysAddr{at}, out);
    }
  }

 private:
  const KernelMemory& memory_;
  std::optional<AddressSpace> space_;
};

// One displayed line: where it starts, its values (or, with -a, none) and the
// printable rendering of its bytes.
struct Row {
  uint64_t address;
  std::vector<uint64_t> values;
  std::string ascii;
};

char printable(std::byte b) {
  auto c = static_cast<unsigned char>(b);
  return std::isprint(c) ? static_cast<char>(c) : '.';
}

uint64_t value_of(std::span<const std::byte> bytes, size_t width, bool network_order) {
  uint64_t v = 0;
  std::memcpy(&v, bytes.data(), width);
  if (network_order) {
    uint64_t swapped = 0;
    for (size_t i = 0; i < width; ++i) swapped = (swapped << 8) | ((v >> (8 * i)) & 0xff);
    v = swapped;
  }
  return v;
}

int64_t signed_value(uint64_t v, size_t width) {
  return width == 8   ? static_cast<int64_t>(v)
         : width == 4 ? static_cast<int32_t>(v)
         : width == 2 ? static_cast<int16_t>(v)
                      : static_cast<int8_t>(v);
}

// "name+off" of an address in the kernel image or a module, for -s.
std::optional<std::string> symbol_of(const Kernel& k, uint64_t v) {
  const VirtAddr a{v};
  if (a < kStartKernelMap) return std::nullopt;
  auto hit = k.symbol_at(a);
  if (!hit) return std::nullopt;
  return hit->offset == 0 ? std::string(hit->symbol->name) : fmt::format("{}+{}", hit->symbol->name, hit->offset);
}

std::vector<Row> read_words(const Request& r, const Source& source) {
  const size_t per_line = kLineBytes / r.width;
  std::vector<Row> rows;
  uint64_t addr = r.start;
  uint64_t left = r.count;
  std::vector<std::byte> line(kLineBytes);
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, per_line));
    auto bytes = std::span(line).first(n * r.width);
    source.read(addr, bytes);
    Row row{addr, {}, {}};
    for (size_t i = 0; i < n; ++i) {
      row.values.push_back(value_of(bytes.subspan(i * r.width, r.width), r.width, r.network_order));
    }
    for (std::byte b : bytes) row.ascii += printable(b);
    rows.push_back(std::move(row));
    addr += n * r.width;
    left -= n;
  }
  return rows;
}

std::vector<Row> read_text(const Request& r, const Source& source) {
  // Without a count, up to the terminating NUL (bounded, like crash).
  const uint64_t limit = r.count_given ? r.count : kAsciiDefaultLimit;
  std::vector<Row> rows{{r.start, {}, {}}};
  for (uint64_t i = 0; i < limit; ++i) {
    std::byte b;
    source.read(r.start + i, {&b, 1});
    if (b == std::byte{0} && !r.count_given) break;
    if (rows.back().ascii.size() == kAsciiLine) rows.push_back({r.start + i, {}, {}});
    rows.back().ascii += printable(b);
  }
  return rows;
}

std::string address_column(const Source& source, uint64_t addr) {
  // Kernel addresses fill 16 digits; user and physical ones are right-aligned.
  return source.kernel() ? fmt::format("{:016x}:  ", addr) : fmt::format("{:>16x}:  ", addr);
}

// The slab cache of a word that points into a slab (-S), or nullopt; the
// lookup is shared by the whole run so a page of words reads each slab once.
std::optional<SlabHit> slab_of(const Request& r, SlabLookup* slabs, uint64_t v) {
  if (r.slab_names == 0 || slabs == nullptr || v < kKernelHalf) return std::nullopt;
  return slabs->find(VirtAddr{v});
}

// -S: "[cache]"; -SS: "[word:cache]", and when the word points inside an
// object rather than at its start (as the kernel points at it: past a left
// red zone), "[word:cache@object]", the object as set redzone shows it.
std::string slab_label(const Request& r, uint64_t v, const SlabHit& hit) {
  if (r.slab_names < 2) return fmt::format("[{}]", hit.name);
  if (hit.object && hit.object->value() + hit.red_left_pad != v) {
    const uint64_t object = hit.object->value() + (r.redzone ? 0 : hit.red_left_pad);
    return fmt::format("[{:x}:{}@{:x}]", v, hit.name, object);
  }
  return fmt::format("[{:x}:{}]", v, hit.name);
}

std::string format_value(const Request& r, const Kernel& k, uint64_t v, SlabLookup* slabs = nullptr) {
  const int digits = static_cast<int>(r.width * 2);
  switch (r.style) {
    case Style::Hex:
      return fmt::format("{:0{}x} ", v, digits);
    case Style::Unsigned:
      return fmt::format("{:>{}} ", v, r.width == 8 ? 20 : digits + 2);
    case Style::Signed:
      return fmt::format("{:>{}} ", signed_value(v, r.width), r.width == 8 ? 15 : digits + 2);
    case Style::Symbolic:
      if (auto name = symbol_of(k, v)) return fmt::format("{:<16} ", *name);
      if (auto hit = slab_of(r, slabs, v)) return fmt::format("{:<16} ", slab_label(r, v, *hit));
      return fmt::format("{:016x} ", v);
  }
  return "";
}

void print_rows(const Request& r, const Kernel& k, const Source& source, const std::vector<Row>& rows,
                SlabLookup* slabs, Output& out) {
  const size_t per_line = kLineBytes / r.width;
  const size_t value_chars = format_value(r, k, 0).size();
  for (const Row& row : rows) {
    std::string text = address_column(source, row.address);
    if (r.ascii_only) {
      out.print("{}{}\n", text, row.ascii);
      continue;
    }
    for (uint64_t v : row.values) text += format_value(r, k, v, slabs);
    if (r.ascii_column) {
      text.append((per_line - row.values.size()) * value_chars, ' ');
      text += "  " + row.ascii;
    }
    out.print("{}\n", text);
  }
}

// Values up to 32 bits are JSON numbers (signed with -d); 64-bit words may
// exceed 2^53, so they are "0x…" strings whatever the display style.
Json value_json(const Request& r, uint64_t v) {
  if (r.width == 8) return json_hex(v);
  if (r.style == Style::Signed) return signed_value(v, r.width);
  return v;
}

Json rows_json(const Request& r, const Kernel& k, const Source& source, const std::vector<Row>& rows,
               SlabLookup* slabs) {
  Json out = Json::array();
  for (const Row& row : rows) {
    Json values = Json::array();
    for (uint64_t v : row.values) values.push_back(value_json(r, v));
    Json j = {{"address", json_hex(row.address)}, {"values", std::move(values)}, {"ascii", row.ascii}};
    if (r.style == Style::Symbolic) {
      Json symbols = Json::array();
      for (uint64_t v : row.values) {
        auto name = symbol_of(k, v);
        symbols.push_back(name ? Json(*name) : Json(nullptr));
      }
      j["symbols"] = std::move(symbols);
    }
    if (r.slab_names > 0) {
      Json named = Json::array();
      for (uint64_t v : row.values) {
        std::optional<SlabHit> hit = symbol_of(k, v) ? std::nullopt : slab_of(r, slabs, v);
        if (!hit) {
          named.push_back(nullptr);
          continue;
        }
        named.push_back({{"cache", json_hex(hit->cache)},
                         {"name", hit->name},
                         {"object", hit->object ? Json(json_hex(*hit->object)) : Json(nullptr)},
                         {"red_left_pad", hit->red_left_pad}});
      }
      j["slabs"] = std::move(named);
    }
    j["space"] = source.name();
    out.push_back(std::move(j));
  }
  return out;
}

// A number in the space being read: physical addresses are plain hex numbers,
// virtual ones may be symbols (linux_banner+0x10).
uint64_t parse_position(const Kernel& k, const Request& r, std::string_view word) {
  if (!r.physical) return parse_address(&k, word).value();
  auto p = parse_number(word, 16);
  if (!p) throw CommandError(fmt::format("invalid physical address: '{}'", word));
  return *p;
}

Request parse_request(const Kernel& k, const ParsedArgs& args) {
  Request r;
  std::vector<std::string> words;
  for (const auto& w : args.positional()) {
    if (w == "-8" || w == "-16" || w == "-32" || w == "-64") {
      r.width = std::stoul(w.substr(1)) / 8;
    } else {
      words.push_back(w);
    }
  }
  if (args.has('p') + args.has('u') > 1) throw CommandError("-p and -u exclude each other");
  r.physical = args.has('p');
  if (args.has('u')) r.wanted = AddressSpace::Kind::User;
  if (args.has('d')) r.style = Style::Signed;
  if (args.has('D')) r.style = Style::Unsigned;
  if (args.has('s') || args.has('S')) {
    if (r.width != 8)
      throw CommandError(fmt::format("-{} shows symbols, which only fit 64-bit values", args.has('S') ? 'S' : 's'));
    r.style = Style::Symbolic;
  }
  if (args.has('S')) r.slab_names = args.all_values('S').size() > 1 ? 2 : 1;
  r.ascii_column = r.style == Style::Hex && !args.has('x');
  r.ascii_only = args.has('a');
  r.network_order = args.has('N');
  if (words.empty()) throw CommandError("an address or symbol is needed (see 'help rd')");
  if (words.size() > 2) throw CommandError(fmt::format("unexpected argument '{}'", words[2]));
  r.start = parse_position(k, r, words[0]);
  if (auto o = args.value('o')) {
    auto offset = parse_number(*o, 16);
    if (!offset) throw CommandError(fmt::format("invalid offset: '{}'", *o));
    r.start += *offset;
  }
  if (words.size() == 2) {
    r.count = parse_count(words[1]);
    r.count_given = true;
  }
  if (auto e = args.value('e')) {
    uint64_t end = parse_position(k, r, *e);
    if (end <= r.start) throw CommandError("-e address must be above the start address");
    const uint64_t unit = r.ascii_only ? 1 : r.width;
    r.count = (end - r.start + unit - 1) / unit;
    r.count_given = true;
  }
  if (r.count == 0) throw CommandError("count must be at least 1");
  if (args.has('R')) {
    if (r.ascii_only) throw CommandError("-R and -a exclude each other");
    r.start -= (r.count - 1) * r.width;
  }
  return r;
}

Source source_for(const Session& session, const Request& r) {
  const Kernel& k = session.kernel();
  if (r.physical) return Source(k.memory(), std::nullopt);
  // The context (and with it the task list) is only needed for user addresses.
  if (!r.wanted && address_half(VirtAddr{r.start}, k.layout().levels) == AddressHalf::Kernel) {
    return Source(k.memory(), AddressSpace::kernel(k));
  }
  return Source(k.memory(), context_space(k, session.context(), VirtAddr{r.start}, r.wanted));
}

void copy_to_file(const Request& r, const Source& source, const std::string& file, Output& out) {
  // The count is in bytes here, as in crash.
  std::vector<std::byte> bytes(static_cast<size_t>(r.count_given ? r.count : r.width));
  source.read(r.start, bytes);
  std::ofstream stream(file, std::ios::binary | std::ios::trunc);
  if (!stream) throw CommandError(fmt::format("cannot write '{}'", file));
  stream.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!stream) throw CommandError(fmt::format("cannot write '{}'", file));
  out.print("{} bytes copied from 0x{:x} to {}\n", bytes.size(), r.start, file);
  out.result({{"address", json_hex(r.start)}, {"space", source.name()}, {"bytes", bytes.size()}, {"file", file}});
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  Request r = parse_request(k, args);
  r.redzone = session.settings().redzone;
  Source source = source_for(session, r);
  if (auto raw = args.value('r')) return copy_to_file(r, source, *raw, out);
  std::vector<Row> rows = r.ascii_only ? read_text(r, source) : read_words(r, source);
  // Slab objects live in the kernel's direct map: no user or physical word is named.
  std::optional<SlabLookup> slabs;
  if (r.slab_names > 0 && !r.ascii_only) {
    try {
      slabs.emplace(k);
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::Unsupported) throw;
      out.warning(fmt::format("rd: -S: {}", e.what()));
    }
  }
  SlabLookup* lookup = slabs ? &*slabs : nullptr;
  if (out.json()) return out.result(rows_json(r, k, source, rows, lookup));
  print_rows(r, k, source, rows, lookup, out);
}

const CommandRegistrar registrar{
    {.name = "rd",
     .summary = "read memory",
     .usage = "rd [-adDsSxNRpu] [-8|-16|-32|-64] [-o offset] [-e end] [-r file] address|symbol [count]",
     .description = "Displays memory at a kernel virtual address or symbol (the default), a user\n"
                    "virtual address of the current context's process (see set; -u insists on one,\n"
                    "but any address below the kernel half is one), or a physical address (-p).\n"
                    "Addresses are hex; a symbol may carry an offset (linux_banner+0x10). The count\n"
                    "is the number of values (of characters with -a), decimal; it defaults to 1.\n"
                    "\n"
                    "Values are 64-bit unless -8, -16 or -32 is given; each line shows 16 bytes\n"
                    "followed by their ASCII rendering. A page that is not in the dump stops\n"
                    "the display with a message naming the address.",
     .examples = "The kernel's banner as text:\n"
                 "\n"
                 "  kdive> rd -a linux_banner\n"
                 "  ffffffff93a00200:  Linux version 5.10.0-32-cloud-amd64 (debian-kernel@lists.deb\n"
                 "  ffffffff93a0023c:  ian.org) (gcc-10 (Debian 10.2.1-6) 10.2.1 20210110, GNU ld (\n"
                 "\n"
                 "Four 64-bit words of init_task, with symbols for kernel addresses:\n"
                 "\n"
                 "  kdive> rd -s init_task 4\n"
                 "\n"
                 "Words of a task_struct, naming the slab cache of each pointer into a slab\n"
                 "(-SS: with the word, and the object it points into):\n"
                 "\n"
                 "  kdive> rd -S ffff98a5563f2180 2\n"
                 "  ffff98a5563f2180:  [task_struct]    [task_struct]\n"
                 "  kdive> rd -SS ffff98a5563f21b0 2\n"
                 "  ffff98a5563f21b0:  root_task_group  [ffff98a5563f21b8:task_struct@ffff98a5563f1f40]\n"
                 "\n"
                 "Sixteen bytes of physical memory:\n"
                 "\n"
                 "  kdive> rd -p -8 1000000 16\n"
                 "\n"
                 "A process's memory: make it the context, then read its addresses:\n"
                 "\n"
                 "  kdive> set 88\n"
                 "  kdive> rd -a 7f0000100000 36\n"
                 "      7f0000100000:  KDIVE-ANON-PATTERNKDIVE-ANON-PATTERN",
     .options = {{'a', "", "display as text, up to a NUL or count characters"},
                 {'d', "", "display signed decimal"},
                 {'D', "", "display unsigned decimal"},
                 {'s', "", "show kernel addresses as symbol+offset (64-bit only)"},
                 {'S', "", "as -s, and [cache] for a word pointing into a slab object; -SS: [word:cache]"},
                 {'x', "", "no ASCII column"},
                 {'N', "", "show values in network (big-endian) byte order"},
                 {'R', "", "display count values ending at the address"},
                 {'p', "", "the address is physical"},
                 {'u', "", "the address is a user virtual address (of the current context)"},
                 {'o', "offset", "add offset (hex) to the start address"},
                 {'e', "end", "display up to this address instead of count values"},
                 {'r', "file", "copy count bytes to file instead of displaying them"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "values", "ascii", "space"},
              .notes = "One object per displayed line: its start address, the values on it and the\n"
                       "printable rendering of its bytes ('.' for the others); space is \"kernel\",\n"
                       "\"user\" or \"physical\". Values of 8, 16 and 32 bits are numbers (signed with\n"
                       "-d); 64-bit values are \"0x…\" strings, since they may exceed 2^53. -N swaps\n"
                       "them to network order. -s adds \"symbols\": for each value, name+offset of an\n"
                       "address in the kernel or a module, or null. -S adds \"slabs\": for each value\n"
                       "that is no symbol but points into a slab, {cache, name, object, red_left_pad}\n"
                       "(object the object's slot start, null in a slab's unused tail; the kernel's\n"
                       "pointer to it is red_left_pad further, non-zero only under slub_debug=Z),\n"
                       "else null. With -a, values is empty and ascii holds the text (60\n"
                       "characters per line). -r gives one object\n"
                       "{address, space, bytes, file} instead of the list.",
              .example = "rd -s init_task 4"}},
    run};

}  // namespace
}  // namespace kdive
