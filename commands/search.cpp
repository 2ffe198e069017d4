// search: find values or a string in kernel virtual, user virtual or physical
// memory, or on the tasks' kernel stacks, with crash's flags. The search itself
// streams memory page by page in kernel-model/memory_search; this file picks
// the ranges, parses the values and prints the hits.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/interrupt.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/context_space.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_search.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {
namespace {

// A string hit shows this many bytes from where it starts, the text and what follows.
constexpr size_t kStringShown = 56;

enum class Where { Kernel, KernelNoVmalloc, KernelNoDirectMap, User, Physical, Stacks, ActiveStacks };

struct Request {
  Where where = Where::Kernel;
  SearchPattern pattern;
  std::optional<uint64_t> start, end;
  size_t context = 0;  // -x: words shown either side of a hit
};

// Reads memory of the searched space for a hit's context; throws Fault.
using Reader = std::function<void(uint64_t, std::span<std::byte>)>;

// A number from an evaluated expression; throws Error for anything else.
uint64_t integer_of(const Value& v, const std::string& text) {
  const Type& t = v.type().strip();
  if (!t.is_integer() && t.kind() != TypeKind::Pointer) {
    throw CommandError(fmt::format("invalid value: {}: a {} is not a number", text, v.type().spell()));
  }
  return t.is_signed() ? static_cast<uint64_t>(v.as_i64()) : v.as_u64();
}

// A value is hex, as in crash, even when it has no letters ("100000000");
// anything else is a symbol or an expression: first in crash's eval dialect
// (symbols are addresses: "init_task+0x10"), then as C with typed symbols
// ("&init_task.tasks", "init_task.stack").
uint64_t evaluate_value(const Kernel& k, const std::string& text) {
  if (auto v = parse_number(text, 16)) return *v;
  const KernelEvalContext ctx(k);
  try {
    return integer_of(evaluate(ctx, text, {.crash_eval = true}), text);
  } catch (const Error& crash_dialect) {
    try {
      return integer_of(evaluate(ctx, text), text);
    } catch (const Error&) {
      throw CommandError(fmt::format("invalid value: {}: {}", text, crash_dialect.what()));
    }
  }
}

uint64_t parse_hex(const std::string& flag, const std::string& text) {
  auto v = parse_number(text, 16);
  if (!v) throw CommandError(fmt::format("invalid {} value: '{}'", flag, text));
  return *v;
}

Request parse_request(const Session& session, const ParsedArgs& args) {
  const Kernel& k = session.kernel();
  Request r;
  int selectors = 0;
  for (auto [flag, where] : {std::pair{'k', Where::Kernel},
                             {'K', Where::KernelNoVmalloc},
                             {'V', Where::KernelNoDirectMap},
                             {'u', Where::User},
                             {'p', Where::Physical},
                             {'t', Where::Stacks},
                             {'T', Where::ActiveStacks}}) {
    if (args.has(flag)) {
      r.where = where;
      ++selectors;
    }
  }
  if (selectors > 1) throw CommandError("only one of -k, -K, -V, -u, -p, -t and -T may be given");
  if (args.has('w') && args.has('h')) throw CommandError("-w and -h exclude each other");
  if (args.has('l') && args.has('e')) throw CommandError("-l and -e exclude each other");
  const bool physical = r.where == Where::Physical;
  auto position = [&](const std::string& text) {
    return physical ? parse_hex("address", text) : parse_address(&k, text).value();
  };
  if (auto s = args.value('s')) r.start = position(*s);
  if (auto e = args.value('e')) r.end = position(*e);
  if (auto l = args.value('l')) {
    const uint64_t length = parse_count(*l);
    if (!r.start) throw CommandError("-l needs a start address (-s)");
    r.end = *r.start + length;
  }
  if (r.start && r.end && *r.end <= *r.start) throw CommandError("the end of the range must be above its start");
  // A user start address with no space given means user space, as in crash.
  if (selectors == 0 && r.start && address_half(VirtAddr{*r.start}, k.layout().levels) == AddressHalf::User) {
    r.where = Where::User;
  }
  if (auto x = args.value('x')) r.context = parse_count(*x);

  const auto& words = args.positional();
  if (words.empty()) throw CommandError("a value to search for is needed (see 'help search')");
  if (args.has('c')) {
    if (args.has('w') || args.has('h') || args.has('m')) throw CommandError("-c excludes -w, -h and -m");
    // Each word is a string of its own (quote one that holds spaces).
    r.pattern = SearchPattern{{}, 1, 0, {}};
    for (const auto& w : words) {
      if (w.empty()) throw CommandError("an empty string cannot be searched for");
      r.pattern.texts.push_back(w);
    }
    return r;
  }
  r.pattern.width = args.has('w') ? 4 : args.has('h') ? 2 : 8;
  if (auto m = args.value('m')) r.pattern.mask = parse_hex("-m", *m);
  const uint64_t limit = r.pattern.width == 8 ? ~0ull : (1ull << (8 * r.pattern.width)) - 1;
  for (const auto& w : words) {
    const uint64_t v = evaluate_value(k, w);
    if (v > limit) throw CommandError(fmt::format("value {} does not fit in {} bits", w, 8 * r.pattern.width));
    r.pattern.values.push_back(v);
  }
  return r;
}

uint64_t thread_size(const Kernel& k) {
  // THREAD_SIZE is 16 KiB on x86_64, twice that with KASAN (KASAN_STACK_ORDER).
  return k.symbols().find("__asan_load8") || k.symbols().find("kasan_flag_enabled") ? 32768 : 16384;
}

char printable(std::byte b) {
  auto c = static_cast<unsigned char>(b);
  return std::isprint(c) ? static_cast<char>(c) : '.';
}

// Prints hits as they are found, and builds the JSON list from the same values.
class HitPrinter {
 public:
  HitPrinter(const Kernel& k, const Request& r, Reader reader, Output& out, Json& results)
      : kernel_(k), r_(r), reader_(std::move(reader)), out_(out), results_(results) {}

  void operator()(const SearchHit& hit) {
    throw_if_interrupted();
    if (r_.pattern.is_text()) return text_hit(hit);
    if (r_.context > 0) return context_hit(hit);
    const std::optional<std::string> symbol = symbol_of(hit.value);
    out_.print("{}: {} {}\n", address(hit.address), value(hit.value), symbol ? "(" + *symbol + ")" : "");
    Json j = {{"address", json_hex(hit.address)}, {"value", json_hex(hit.value)}};
    if (symbol) j["symbol"] = *symbol;
    results_.push_back(std::move(j));
  }

 private:
  // The kernel symbol a 64-bit value is the address of, named (as crash does)
  // in searches of kernel virtual memory, not of stacks, user or physical memory.
  std::optional<std::string> symbol_of(uint64_t v) const {
    const bool kernel_search =
        r_.where == Where::Kernel || r_.where == Where::KernelNoVmalloc || r_.where == Where::KernelNoDirectMap;
    if (!kernel_search || r_.pattern.width != 8 || VirtAddr{v} < kStartKernelMap) return std::nullopt;
    auto hit = kernel_.symbol_at(VirtAddr{v});
    if (!hit || hit->offset != 0) return std::nullopt;
    return std::string(hit->symbol->name);
  }

  std::string address(uint64_t a) const { return fmt::format("{:x}", a); }
  std::string value(uint64_t v) const { return fmt::format("{:0{}x}", v, 2 * r_.pattern.width); }

  // The bytes from `at` on, as many as can be read up to n.
  std::string shown_bytes(uint64_t at, size_t n) const {
    std::string s;
    std::byte b;
    for (size_t i = 0; i < n; ++i) {
      try {
        reader_(at + i, {&b, 1});
      } catch (const Fault&) {
        break;
      }
      s += printable(b);
    }
    return s;
  }

  void text_hit(const SearchHit& hit) {
    std::string shown = shown_bytes(hit.address, kStringShown);
    out_.print("{}: {}\n", address(hit.address), shown);
    results_.push_back(
        {{"address", json_hex(hit.address)}, {"value", r_.pattern.texts[hit.value_index]}, {"shown", shown}});
  }

  void context_hit(const SearchHit& hit) {
    const size_t w = r_.pattern.width;
    const uint64_t span = r_.context * w;
    const uint64_t from = hit.address >= span ? hit.address - span : 0;
    Json context = Json::array();
    std::string text;
    for (uint64_t a = from; a <= hit.address + span; a += w) {
      uint64_t v = 0;
      try {
        reader_(a, {reinterpret_cast<std::byte*>(&v), w});
      } catch (const Fault&) {
        continue;  // the context stops at a page the dump lacks; the hit itself was read
      }
      std::string ascii;
      for (size_t i = 0; i < w; ++i) ascii += printable(std::byte((v >> (8 * i)) & 0xff));
      text += fmt::format("    {:x}:  {}  {}\n", a, value(v), ascii);
      context.push_back({{"address", json_hex(a)}, {"value", json_hex(v)}});
    }
    out_.print("{}\n", text);
    results_.push_back({{"address", json_hex(hit.address)}, {"value", json_hex(hit.value)}, {"context", context}});
  }

  const Kernel& kernel_;
  const Request& r_;
  Reader reader_;
  Output& out_;
  Json& results_;
};

void search_stacks(const Session& session, const Request& r, Output& out, Json& results) {
  const Kernel& k = session.kernel();
  const uint64_t size = thread_size(k);
  const AddressSpace space = AddressSpace::kernel(k);
  Reader reader = [&](uint64_t a, std::span<std::byte> b) { space.read(VirtAddr{a}, b); };
  bool first = true;
  for (const Task& task : k.tasks().all) {
    if (r.where == Where::ActiveStacks && !task.active) continue;
    if (task.stack.value() == 0) continue;
    const uint64_t lo = task.stack.value(), hi = lo + size;
    auto ranges = clip_ranges({SearchRange::virtual_range(k.layout().kernel_pgd, lo, hi)}, r.start.value_or(0),
                              r.end.value_or(0));
    Json hits = Json::array();
    std::string header = task_header(task);
    bool printed_header = false;
    HitPrinter printer(k, r, reader, out, hits);
    search_memory(
        k.memory(), ranges, r.pattern,
        [&](const SearchHit& h) {
          if (!printed_header) {
            out.print("{}{}\n", first ? "" : "\n", header);
            first = false;
            printed_header = true;
          }
          printer(h);
        },
        throw_if_interrupted);
    if (!hits.empty()) {
      Json j = task_header_json(task);
      j["hits"] = std::move(hits);
      results.push_back(std::move(j));
    }
  }
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  Request r = parse_request(session, args);
  Json results = Json::array();
  if (r.where == Where::Stacks || r.where == Where::ActiveStacks) {
    search_stacks(session, r, out, results);
    return out.result(std::move(results));
  }
  std::vector<SearchRange> ranges;
  Reader reader;
  std::optional<AddressSpace> space;
  switch (r.where) {
    case Where::Physical:
      ranges.push_back(SearchRange::physical(0, 0));
      reader = [&](uint64_t a, std::span<std::byte> b) { k.memory().read_phys(PhysAddr{a}, b); };
      break;
    case Where::User: {
      space = context_space(k, session.context(), VirtAddr{0}, AddressSpace::Kind::User);
      ranges.push_back(SearchRange::virtual_range(space->page_table(), 0, user_space_end(k.layout().levels).value()));
      reader = [&](uint64_t a, std::span<std::byte> b) { space->read(VirtAddr{a}, b); };
      break;
    }
    default: {
      space = AddressSpace::kernel(k);
      ranges = kernel_search_ranges(k.memory(), {.vmalloc = r.where != Where::KernelNoVmalloc,
                                                 .direct_map = r.where != Where::KernelNoDirectMap});
      reader = [&](uint64_t a, std::span<std::byte> b) { space->read(VirtAddr{a}, b); };
      break;
    }
  }
  ranges = clip_ranges(std::move(ranges), r.start.value_or(0), r.end.value_or(0));
  HitPrinter printer(k, r, reader, out, results);
  search_memory(k.memory(), ranges, r.pattern, std::ref(printer), throw_if_interrupted);
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "search",
     .summary = "search memory for values or a string",
     .usage = "search [-s start] [-e end | -l length] [-m mask] [-x count] [-c] [-w|-h] [-kKVuptT] value ...",
     .description = "Searches memory for one or more values, or with -c strings, and prints\n"
                    "each place it is found: its address and the value there. The memory searched:\n"
                    "  -k  kernel virtual memory (the default): the direct map of physical memory,\n"
                    "      the vmalloc area, the kernel image and the modules area;\n"
                    "  -K  the same without the vmalloc area;\n"
                    "  -V  the same without the unity-mapped regions (the direct map and the\n"
                    "      kernel image);\n"
                    "  -u  the user space of the current context's process (see set);\n"
                    "  -p  physical memory;\n"
                    "  -t  the kernel stack of every task, -T of the tasks active on a CPU.\n"
                    "-s and -e (or -l, a length in bytes) limit the search to a range; a start\n"
                    "address below the kernel half searches user space unless a space is given.\n"
                    "Values are hex numbers, symbols or expressions ('(init_task+8)'), compared as\n"
                    "64-bit words at 8-byte aligned addresses, or 32-bit (-w) or 16-bit (-h) ones at\n"
                    "their own alignment; -m MASK ignores the mask's bits on both sides. Each\n"
                    "string (-c; quote one with spaces) may start at any address and run across\n"
                    "pages. -x N shows N words either side of each value found. Pages the dump\n"
                    "does not hold (filtered out or zero-filled when it was made) are skipped\n"
                    "without a message; Ctrl-C stops the search.",
     .examples = "Who points at init_task:\n"
                 "\n"
                 "  kdive> search -K init_task\n"
                 "\n"
                 "A string in a process's memory, after making it the context:\n"
                 "\n"
                 "  kdive> set 95\n"
                 "  kdive> search -u -c KDIVE-MMAP-PATTERN\n"
                 "\n"
                 "A 32-bit value in the first 16 MiB of physical memory, ignoring its low byte:\n"
                 "\n"
                 "  kdive> search -p -e 1000000 -w -m ff 12345600",
     .options = {{'s', "start", "start searching at this address"},
                 {'e', "end", "stop searching before this address"},
                 {'l', "length", "search this many bytes from the start"},
                 {'m', "mask", "bits (hex) ignored in the comparison"},
                 {'x', "count", "show count words either side of each hit"},
                 {'c', "", "the values are strings"},
                 {'w', "", "32-bit values"},
                 {'h', "", "16-bit values"},
                 {'k', "", "kernel virtual memory (the default)"},
                 {'K', "", "kernel virtual memory without the vmalloc area"},
                 {'V', "", "kernel virtual memory without the direct map and the kernel image"},
                 {'u', "", "user space of the current context"},
                 {'p', "", "physical memory"},
                 {'t', "", "the kernel stacks of all tasks"},
                 {'T', "", "the kernel stacks of the active tasks"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "value"},
              .notes = "One object per hit: its address (physical with -p) and the value found there\n"
                       "(\"0x…\"). With -x, \"context\" lists {address, value} of the words around it,\n"
                       "the hit among them. -k, -K and -V add \"symbol\" when the value is the address\n"
                       "of a kernel symbol. With -c, value is the string and \"shown\" the bytes from\n"
                       "the hit on as text. With -t/-T, one object per task that has hits: pid, task,\n"
                       "cpu, comm and \"hits\", a list of the objects above.",
              .example = "search -K -s linux_banner -l 64 -c Linux"}},
    run};

}  // namespace
}  // namespace kdive
