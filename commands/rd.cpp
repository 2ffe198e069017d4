// rd: display memory — kernel virtual, user virtual or physical — as hex words,
// decimal, symbols or text, with crash's flags and layout.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/task_details.hpp"

namespace kdive {
namespace {

// x86_64 user space ends below this (4- and 5-level alike, for rd's purposes).
constexpr uint64_t kUserSpaceEnd = 0x0100000000000000ull;
constexpr size_t kLineBytes = 16;
constexpr size_t kAsciiLine = 60;

enum class Space { Kernel, User, Physical };
enum class Style { Hex, Signed, Unsigned, Symbolic };

struct Request {
  Space space = Space::Kernel;
  Style style = Style::Hex;
  size_t width = 8;  // bytes per value
  bool ascii_column = true;
  bool ascii_only = false;
  bool network_order = false;
  uint64_t start = 0;
  uint64_t count = 1;  // values (or characters with -a)
  bool count_given = false;
};

// Reads from the chosen address space; throws Fault.
class Reader {
 public:
  // User addresses are the current context's (see set): its mm's page table.
  // The context is only needed (and only read: it takes the task list) for -u.
  Reader(Kernel& k, Space space, const Session& session) : kernel_(k), space_(space) {
    if (space == Space::User) {
      const Task& context = session.context();
      if (context.mm.value() == 0) {
        throw CommandError(fmt::format("PID {} ({}) is a kernel thread: it has no user address space (see 'set')",
                                       context.pid, context.comm));
      }
      pgd_ = task_page_table(k, context);
    }
  }
  void read(uint64_t addr, std::span<std::byte> out) const {
    const KernelMemory& m = kernel_.memory();
    switch (space_) {
      case Space::Kernel:
        m.read(VirtAddr{addr}, out);
        break;
      case Space::User:
        m.read_user(*pgd_, VirtAddr{addr}, out);
        break;
      case Space::Physical:
        m.read_phys(PhysAddr{addr}, out);
        break;
    }
  }

 private:
  Kernel& kernel_;
  Space space_;
  std::optional<PhysAddr> pgd_;
};

std::string address_column(const Request& r, uint64_t addr) {
  // Kernel addresses fill 16 digits; user and physical ones are right-aligned.
  return r.space == Space::Kernel ? fmt::format("{:016x}:  ", addr) : fmt::format("{:>16x}:  ", addr);
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

std::string format_value(const Request& r, const Kernel& k, uint64_t v) {
  const int digits = static_cast<int>(r.width * 2);
  switch (r.style) {
    case Style::Hex:
      return fmt::format("{:0{}x} ", v, digits);
    case Style::Unsigned:
      return fmt::format("{:>{}} ", v, r.width == 8 ? 20 : digits + 2);
    case Style::Signed: {
      int64_t s = r.width == 8   ? static_cast<int64_t>(v)
                  : r.width == 4 ? static_cast<int32_t>(v)
                  : r.width == 2 ? static_cast<int16_t>(v)
                                 : static_cast<int8_t>(v);
      return fmt::format("{:>{}} ", s, r.width == 8 ? 15 : digits + 2);
    }
    case Style::Symbolic: {
      if (v >= kStartKernelMap) {
        if (auto hit = k.symbols().containing(v)) {
          std::string name =
              hit->offset == 0 ? std::string(hit->symbol->name) : fmt::format("{}+{}", hit->symbol->name, hit->offset);
          return fmt::format("{:<16} ", name);
        }
      }
      return fmt::format("{:016x} ", v);
    }
  }
  return "";
}

void print_ascii_text(const Request& r, const Reader& reader, Output& out) {
  // Without a count, print up to the terminating NUL (bounded, like crash).
  const uint64_t limit = r.count_given ? r.count : 4096;
  std::string line;
  uint64_t line_start = r.start;
  for (uint64_t i = 0; i < limit; ++i) {
    std::byte b;
    reader.read(r.start + i, {&b, 1});
    char c = static_cast<char>(b);
    if (c == '\0' && !r.count_given) break;
    if (line.size() == kAsciiLine) {
      out.print("{}{}\n", address_column(r, line_start), line);
      line.clear();
      line_start = r.start + i;
    }
    line += std::isprint(static_cast<unsigned char>(c)) ? c : '.';
  }
  out.print("{}{}\n", address_column(r, line_start), line);
}

void print_words(const Request& r, const Kernel& k, const Reader& reader, Output& out) {
  const size_t per_line = kLineBytes / r.width;
  const int value_chars = static_cast<int>(format_value(r, k, 0).size());
  uint64_t addr = r.start;
  uint64_t left = r.count;
  std::vector<std::byte> line(kLineBytes);
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(left, per_line));
    auto bytes = std::span(line).first(n * r.width);
    reader.read(addr, bytes);
    std::string text = address_column(r, addr);
    for (size_t i = 0; i < n; ++i) {
      text += format_value(r, k, value_of(bytes.subspan(i * r.width, r.width), r.width, r.network_order));
    }
    if (r.ascii_column) {
      text.append((per_line - n) * value_chars, ' ');
      text += "  ";
      for (std::byte b : bytes) {
        auto c = static_cast<unsigned char>(b);
        text += std::isprint(c) ? static_cast<char>(c) : '.';
      }
    }
    out.print("{}\n", text);
    addr += n * r.width;
    left -= n;
  }
}

Request parse_request(Kernel& k, const ParsedArgs& args) {
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
  if (args.has('d')) r.style = Style::Signed;
  if (args.has('D')) r.style = Style::Unsigned;
  if (args.has('s') || args.has('S')) {
    if (r.width != 8) throw CommandError("-s shows symbols, which only fit 64-bit values");
    r.style = Style::Symbolic;
  }
  r.ascii_column = r.style == Style::Hex && !args.has('x');
  r.ascii_only = args.has('a');
  r.network_order = args.has('N');
  if (words.empty()) throw CommandError("an address or symbol is needed (see 'help rd')");
  if (words.size() > 2) throw CommandError(fmt::format("unexpected argument '{}'", words[2]));
  r.start = parse_address(&k, words[0]);
  if (auto o = args.value('o')) r.start += parse_address(&k, *o);
  if (args.has('p')) {
    r.space = Space::Physical;
  } else if (args.has('u') || r.start < kUserSpaceEnd) {
    r.space = Space::User;
  }
  if (words.size() == 2) {
    r.count = parse_count(words[1]);
    r.count_given = true;
  }
  if (auto e = args.value('e')) {
    uint64_t end = parse_address(&k, *e);
    if (end <= r.start) throw CommandError("-e address must be above the start address");
    r.count = (end - r.start + (r.ascii_only ? 1 : r.width) - 1) / (r.ascii_only ? 1 : r.width);
    r.count_given = true;
  }
  if (r.count == 0) throw CommandError("count must be at least 1");
  if (args.has('R')) {
    if (r.ascii_only) throw CommandError("-R and -a exclude each other");
    r.start -= (r.count - 1) * r.width;
  }
  return r;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  Request r = parse_request(k, args);
  Reader reader(k, r.space, session);
  if (auto raw = args.value('r')) {
    // Raw bytes to a file: the count is in bytes here, as in crash.
    std::vector<std::byte> bytes(static_cast<size_t>(r.count_given ? r.count : r.width));
    reader.read(r.start, bytes);
    std::ofstream file(*raw, std::ios::binary | std::ios::trunc);
    if (!file) throw CommandError(fmt::format("cannot write '{}'", *raw));
    file.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    out.print("{} bytes copied from 0x{:x} to {}\n", bytes.size(), r.start, *raw);
    return;
  }
  if (r.ascii_only) {
    print_ascii_text(r, reader, out);
  } else {
    print_words(r, k, reader, out);
  }
}

const CommandRegistrar registrar{
    {.name = "rd",
     .summary = "read memory",
     .usage = "rd [-adDsSxNRpu] [-8|-16|-32|-64] [-o offset] [-e end] [-r file] address|symbol [count]",
     .description = "Displays memory at a kernel virtual address or symbol (the default), a user\n"
                    "virtual address (-u, or any address below the kernel half) of the current\n"
                    "context's process (see set), or a physical address (-p). Addresses are hex; a symbol\n"
                    "may carry an offset (linux_banner+0x10). The count is the number of values\n"
                    "(of characters with -a), decimal; it defaults to 1.\n"
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
                 "Sixteen bytes of physical memory:\n"
                 "\n"
                 "  kdive> rd -p -8 1000000 16",
     .options = {{'a', "", "display as text, up to a NUL or count characters"},
                 {'d', "", "display signed decimal"},
                 {'D', "", "display unsigned decimal"},
                 {'s', "", "show kernel addresses as symbol+offset (64-bit only)"},
                 {'S', "", "same as -s"},
                 {'x', "", "no ASCII column"},
                 {'N', "", "show values in network (big-endian) byte order"},
                 {'R', "", "display count values ending at the address"},
                 {'p', "", "the address is physical"},
                 {'u', "", "the address is a user virtual address"},
                 {'o', "offset", "add offset to the start address"},
                 {'e', "end", "display up to this address instead of count values"},
                 {'r', "file", "copy count bytes to file instead of displaying them"}},
     .aliases = {}},
    run};

}  // namespace
}  // namespace kdive
