// sym: symbol to address and address to symbol, with crash's flags and lines
// ("ffffffff81e00200 (D) linux_banner+16", "... (t) fw_cfg_read_blob [qemu_fw_cfg]").
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// crash prints offsets in decimal here ("schedule+5"), unlike bt's hex.
std::string symbol_line(const Symbol& s, uint64_t offset, uint64_t address) {
  std::string line = fmt::format("{:x} ({}) {}", address, s.type, s.name);
  if (offset != 0) line += fmt::format("+{}", offset);
  if (!s.module.empty()) line += fmt::format(" [{}]", s.module);
  return line;
}

std::string symbol_line(const Symbol& s) { return symbol_line(s, 0, s.address.value()); }

// A text symbol also has its source file and line, as crash shows: the kernel
// image's always, a module's once its object file with debug info is loaded
// (mod -s).
std::optional<SourceLine> source_of(const Kernel& k, const Symbol& s, uint64_t address) {
  if (s.type != 't' && s.type != 'T' && s.type != 'W') return std::nullopt;
  return k.source_line(address);
}

std::string symbol_line_with_source(const Kernel& k, const Symbol& s, uint64_t offset, uint64_t address) {
  std::string line = symbol_line(s, offset, address);
  if (auto where = source_of(k, s, address)) line += fmt::format(" {}: {}", where->file, where->line);
  return line;
}

// One symbol (or an address in it) in JSON; `source` only where the text
// shows it.
Json symbol_json(const Symbol& s, uint64_t offset, uint64_t address, const std::optional<SourceLine>& source) {
  return {{"address", json_hex(address)},
          {"type", std::string(1, s.type)},
          {"name", s.name},
          {"module", s.module.empty() ? Json(nullptr) : Json(s.module)},
          {"offset", offset},
          {"source", source ? Json{{"file", source->file}, {"line", source->line}} : Json(nullptr)}};
}

Json symbol_json(const Symbol& s) { return symbol_json(s, 0, s.address.value(), std::nullopt); }

// All symbols as `sym -l` lists them: by address, ties by name (as nm -n does);
// absolute values (__crc_*, ...) are no addresses and are left out.
std::vector<const Symbol*> sorted(const SymbolTable& table) {
  std::vector<const Symbol*> out;
  out.reserve(table.all().size());
  for (const Symbol& s : table.all()) {
    if (s.type != 'A' && s.type != 'a') out.push_back(&s);
  }
  std::stable_sort(out.begin(), out.end(), [](const Symbol* a, const Symbol* b) {
    if (a->address != b->address) return a->address < b->address;
    return a->name < b->name;
  });
  return out;
}

// A module that could not be read completely: a marker where its symbols
// would be, and in JSON an element naming the struct module, with `error`.
void print_damage(const Module& m, Json& rows, Output& out) {
  out.print("{:x} MODULE {}(damaged: {})\n", m.address.value(), m.name.empty() ? "" : m.name + " ", m.damage);
  out.data_lost(fmt::format("module at {:x}: {}", m.address.value(), m.damage));
  rows.push_back({{"address", json_hex(m.address.value())},
                  {"type", nullptr},
                  {"name", nullptr},
                  {"module", m.name.empty() ? Json(nullptr) : Json(m.name)},
                  {"offset", nullptr},
                  {"source", nullptr},
                  {"error", m.damage}});
}

void print_module(const Module& m, Json& rows, Output& out) {
  if (!m.layout_known) return print_damage(m, rows, out);
  out.print("{:x} MODULE START: {}\n", m.text_base, m.name);
  if (!m.damage.empty()) print_damage(m, rows, out);
  for (const Symbol* s : sorted(m.symbols())) {
    out.print("{:x} ({}) {}\n", s->address, s->type, s->name);
    if (out.json()) rows.push_back(symbol_json(*s));
  }
  out.print("{:x} MODULE END: {}\n", m.core_end(), m.name);
}

const Module& require_module(const Kernel& k, std::string_view name) {
  const Module* m = k.modules().find(name);
  if (m == nullptr) throw CommandError(fmt::format("module not found: {}", name));
  return *m;
}

// The table a symbol belongs to, to step to its neighbours.
bool holds(const SymbolTable& table, const Symbol& s) {
  const auto& all = table.all();
  return !all.empty() && &s >= all.data() && &s < all.data() + all.size();
}

const SymbolTable& table_of(const Kernel& k, const Symbol& s) {
  if (!s.module.empty()) return require_module(k, s.module).symbols();
  if (holds(k.symbols(), s)) return k.symbols();
  return k.kallsyms().symbols();  // found only in the kernel's own table
}

// The preferred symbol at the next (or previous) address in the same table.
const Symbol* neighbour(const SymbolTable& table, const Symbol& s, bool next) {
  const auto& all = table.all();
  size_t i = table.index_of(&s);
  if (next) {
    while (i < all.size() && all[i].address <= s.address) ++i;
    return i < all.size() ? &all[i] : nullptr;
  }
  while (i > 0 && all[i - 1].address >= s.address) --i;
  if (i == 0) return nullptr;
  VirtAddr at = all[i - 1].address;
  while (i > 1 && all[i - 2].address == at) --i;  // the preferred one sorts first
  return &all[i - 1];
}

struct Target {
  const Symbol* symbol;
  uint64_t address;
  uint64_t offset;
};

Target resolve(const Kernel& k, const std::string& word) {
  if (const Symbol* s = k.find_symbol(word)) return {s, s->address.value(), 0};
  auto value = parse_number(word, 16);
  if (!value) throw CommandError(fmt::format("symbol not found: {}", word));
  // Per-CPU offsets and small numbers are not addresses of anything.
  auto hit = VirtAddr{*value} >= kStartKernelMap ? k.symbol_at(VirtAddr{*value}) : std::nullopt;
  if (!hit) throw CommandError(fmt::format("invalid address: {}", word));
  return {hit->symbol, *value, hit->offset};
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  const bool lists_modules = args.has('l') || args.has('M') || args.has('m') || args.has('q');
  for (const auto& problem : k.modules().problems) {
    out.warning(fmt::format("sym: warning: {}", problem));
    if (lists_modules) out.data_lost(problem);
  }
  Json rows = Json::array();
  if (args.has('l')) {
    for (const Symbol* s : sorted(k.symbols())) {
      out.print("{}\n", symbol_line(*s));
      if (out.json()) rows.push_back(symbol_json(*s));
    }
    for (const Module& m : k.modules().all()) print_module(m, rows, out);
    return out.result(std::move(rows));
  }
  if (args.has('M')) {
    for (const Module& m : k.modules().all()) print_module(m, rows, out);
    return out.result(std::move(rows));
  }
  if (auto name = args.value('m')) {
    print_module(require_module(k, *name), rows, out);
    return out.result(std::move(rows));
  }
  if (auto text = args.value('q')) {
    auto search = [&](const SymbolTable& table) {
      for (const Symbol* s : sorted(table)) {
        if (s->name.find(*text) == std::string_view::npos) continue;
        out.print("{}\n", symbol_line(*s));
        rows.push_back(symbol_json(*s));
      }
    };
    search(k.symbols());
    for (const Module& m : k.modules().all()) {
      search(m.symbols());
      // Its symbols could not all be searched.
      if (!m.damage.empty()) {
        out.warning(fmt::format("sym: warning: module at {:x}{}: {}", m.address.value(),
                                m.name.empty() ? "" : " (" + m.name + ")", m.damage));
        out.data_lost(fmt::format("module at {:x}: {}", m.address.value(), m.damage));
      }
    }
    return out.result(std::move(rows));
  }
  if (args.positional().empty()) throw CommandError("a symbol or an address is needed (see 'help sym')");
  // The neighbours -p and -n show, with their source lines like the target's.
  auto neighbour_of = [&](const Symbol& s, bool next) -> Json {
    const Symbol* n = neighbour(table_of(k, s), s, next);
    if (n == nullptr) return nullptr;
    out.print("{}\n", symbol_line_with_source(k, *n, 0, n->address.value()));
    return symbol_json(*n, 0, n->address.value(), source_of(k, *n, n->address.value()));
  };
  for (const auto& word : args.positional()) {
    Target t = resolve(k, word);
    Json previous = args.has('p') ? neighbour_of(*t.symbol, false) : Json();
    out.print("{}\n", symbol_line_with_source(k, *t.symbol, t.offset, t.address));
    Json row = symbol_json(*t.symbol, t.offset, t.address, source_of(k, *t.symbol, t.address));
    if (args.has('p')) row["previous"] = std::move(previous);
    if (args.has('n')) row["next"] = neighbour_of(*t.symbol, true);
    rows.push_back(std::move(row));
  }
  out.result(std::move(rows));
}

const CommandRegistrar registrar{
    {.name = "sym",
     .summary = "translate a symbol to its address, or an address to its symbol",
     .usage = "sym [-l] | [-M] | [-m module] | [-p|-n] | [-q string] | [symbol | vaddr] ...",
     .description = "Shows a symbol's address, or the symbol a kernel virtual address falls in,\n"
                    "as 'ADDRESS (TYPE) NAME[+OFFSET] [MODULE]'. TYPE is nm's letter: T/t text,\n"
                    "D/d data, R/r read-only data, B/b bss (upper case: global). The offset is\n"
                    "decimal. Symbols of loaded modules are found as well and carry their module\n"
                    "name in brackets; they come from the kernel's own copy of each module's\n"
                    "symbol table, or from the module's object file after 'mod -s'. A name the\n"
                    "vmlinux does not know is looked up in the kernel's kallsyms table read from\n"
                    "the dump. A module that could not be read completely shows\n"
                    "'ADDRESS MODULE [NAME] (damaged: ...)' in the listings, and breaks in the\n"
                    "module list or address tree are warnings (see 'help mod').\n"
                    "\n"
                    "  -l         list every symbol, by address, then each module's symbols\n"
                    "             between MODULE START and MODULE END lines\n"
                    "  -M         list the symbols of all modules\n"
                    "  -m module  list the symbols of one module\n"
                    "  -p         also show the symbol before the target\n"
                    "  -n         also show the symbol after the target\n"
                    "  -q string  list the symbols whose names contain the string",
     .examples = "  kdive> sym linux_banner\n"
                 "  ffffffff8a91ffe0 (D) linux_banner\n"
                 "\n"
                 "  kdive> sym ffffffff8a91fff0\n"
                 "  ffffffff8a91fff0 (D) linux_banner+16\n"
                 "\n"
                 "  kdive> sym -q fw_cfg_read\n"
                 "  ffffffffc03d81c0 (t) fw_cfg_read_blob [qemu_fw_cfg]\n"
                 "\n"
                 "  kdive> sym -np schedule\n"
                 "  ffffffff8a2b14a0 (t) __schedule\n"
                 "  ffffffff8a2b1d10 (T) schedule\n"
                 "  ffffffff8a2b1dc0 (T) yield",
     .options = {{'l', "", "list all symbols"},
                 {'M', "", "list all module symbols"},
                 {'m', "module", "list the symbols of a module"},
                 {'p', "", "show the previous symbol too"},
                 {'n', "", "show the next symbol too"},
                 {'q', "string", "search symbols by substring"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "type", "name", "module", "offset", "source"},
              .notes = "One object per symbol or address asked for: address is the address given (the\n"
                       "symbol's own plus offset, in bytes), type nm's letter, module null for the\n"
                       "kernel image, source {file, line} for kernel text as the text shows it (null\n"
                       "otherwise). -p and -n add \"previous\" and \"next\", the neighbouring symbols in\n"
                       "the same form (null at either end). -l, -M, -m and -q list symbols, offset 0\n"
                       "and source null (not looked up for whole tables), without the MODULE START/END\n"
                       "lines (each symbol names its module). A module that could not be read\n"
                       "completely is an element whose address is its struct module, module its name\n"
                       "(null when unreadable), the other keys null, and error what could not be read.",
              .example = "sym schedule"}},
    run};

}  // namespace
}  // namespace kdive
