// p (print): evaluate a C expression and print its value as gdb does.
#include <fmt/format.h>

#include <cctype>
#include <regex>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/cpu_list.hpp"
#include "commands/gdb_fallback.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

// gdb numbers the values it prints: $1, $2, ... for the life of the session.
int next_history_number() {
  static int n = 0;
  return ++n;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

int cpu_count(const Kernel& k) { return static_cast<int>(evaluate(KernelEvalContext(k), "nr_cpu_ids").as_u64()); }

Json value_entry(const std::string& expr, const Value& v) {
  return {{"expression", expr},
          {"type", v.type().spell()},
          {"address", v.is_lvalue() ? Json(json_hex(v.address().value())) : Json(nullptr)},
          {"value", value_json(v)}};
}

Json print_one(const EvalContext& ctx, const std::string& expr, const std::string& label, const ValueFormat& f,
               Output& out) {
  Value v = evaluate(ctx, expr);
  std::string text = format_top_level(v, f);
  std::string prefix = label.empty() ? "" : label + " = ";
  // crash breaks the line before a named symbol's one-line braced value
  // (an array, a function): "__per_cpu_offset = $1 = \n {0, ...}".
  bool wrap = !label.empty() && text.starts_with("{") && !text.starts_with("{\n");
  out.print("{}${} = {}{}\n", prefix, next_history_number(), wrap ? "\n " : "", text);
  return value_entry(label.empty() ? expr : label, v);
}

// A per-CPU variable named without a CPU: its type and each CPU's copy, as
// crash shows it (print one with symbol:cpu).
Json print_per_cpu_addresses(const Kernel& k, const Symbol& sym, const OfflineCpus& offline, Output& out) {
  std::string name(sym.name);
  const Type* t = k.types().variable_type(name);
  out.print("PER-CPU DATA TYPE:\n  {};\n", t != nullptr ? t->spell(name) : "(no type information) " + name);
  out.print("PER-CPU ADDRESSES:\n");
  Json copies = Json::array();
  int n = cpu_count(k);
  for (int cpu = 0; cpu < n; ++cpu) {
    if (offline.hidden(cpu)) {
      out.print("cpu {} is OFFLINE\n", cpu);
      copies.push_back({{"expression", fmt::format("per_cpu({}, {})", name, cpu)}, {"cpu", cpu}, {"offline", true}});
      continue;
    }
    uint64_t address = (sym.address + k.per_cpu_offset(cpu)).value();
    out.print("  [{}]: {:x}\n", cpu, address);
    copies.push_back({{"expression", fmt::format("per_cpu({}, {})", name, cpu)},
                      {"type", t != nullptr ? Json(t->spell()) : Json(nullptr)},
                      {"address", json_hex(address)},
                      {"value", nullptr},
                      {"cpu", cpu}});
  }
  return copies;
}

// An expression kdive's evaluator does not parse, or GDB's $ history: GDB
// evaluates it, with the same format letter (a note says so the first time).
void print_through_gdb(Session& session, const ParsedArgs& args, const std::string& expr, Output& out) {
  note_gdb_once(out, "p", "p: kdive's evaluator does not handle this expression: GDB evaluated it");
  std::string letter = args.has('x') ? "/x" : args.has('d') ? "/d" : session.settings().radix == 16 ? "/x" : "";
  std::string text = run_in_gdb(session, "print" + letter + " " + expr);
  out.write(text);
  out.result(Json::array({{{"expression", expr},
                           {"type", nullptr},
                           {"address", nullptr},
                           {"value", gdb_value_text(text)},
                           {"gdb", true}}}));
}

// With -u, memory at user addresses is the current context's user space
// (kernel addresses, such as symbols, still read the kernel).
std::unique_ptr<EvalContext> eval_context(Session& session, bool user) {
  const Kernel& k = session.kernel();
  if (!user) return std::make_unique<KernelEvalContext>(k);
  auto space = std::make_shared<AddressSpace>(AddressSpace::of_task(k, session.context()));
  return std::make_unique<ReaderEvalContext>(k, [&k, space](VirtAddr a, std::span<std::byte> bytes) {
    if (address_half(a, k.layout().levels) == AddressHalf::User) {
      space->read(a, bytes);
    } else {
      k.memory().read(a, bytes);
    }
  });
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  if (args.positional().empty()) throw CommandError("an expression is required");
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  std::string expr;
  for (const auto& w : args.positional()) expr += (expr.empty() ? "" : " ") + w;
  ValueFormat f = value_format_for(k,
                                   args.has('x')   ? 16
                                   : args.has('d') ? 10
                                                   : session.settings().radix,
                                   session.settings());

  // "sym:1,3", "sym:a", and "sym:" for the current context's CPU.
  static const std::regex per_cpu(R"(^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([0-9a-z,\-]*)\s*$)");
  std::smatch m;
  if (std::regex_match(expr, m, per_cpu)) {
    if (args.has('u')) throw CommandError("-u reads user memory: a per-CPU variable is kernel data");
    std::string sym = m[1];
    Json values = Json::array();
    const OfflineCpus offline(session);
    for (int cpu : parse_cpu_spec(m[2].str(), cpu_count(k), session.context().cpu)) {
      if (offline.hidden(cpu)) {
        out.print("cpu {} is OFFLINE\n", cpu);
        values.push_back({{"expression", fmt::format("per_cpu({}, {})", sym, cpu)}, {"cpu", cpu}, {"offline", true}});
        continue;
      }
      KernelEvalContext ctx(k, cpu);
      Json one = print_one(ctx, sym, fmt::format("per_cpu({}, {})", sym, cpu), f, out);
      one["cpu"] = cpu;
      values.push_back(std::move(one));
    }
    return out.result(std::move(values));
  }
  if (is_identifier(expr)) {
    const Symbol* sym = k.symbols().find(expr);
    if (sym != nullptr && is_per_cpu_symbol(k, *sym))
      return out.result(print_per_cpu_addresses(k, *sym, OfflineCpus(session), out));
  }
  std::unique_ptr<EvalContext> ctx_owner = eval_context(session, args.has('u'));
  const EvalContext& ctx = *ctx_owner;
  // Like crash, a lone symbol is named before its value: "jiffies = $1 = 4295".
  bool symbol = is_identifier(expr) && k.find_symbol(expr) != nullptr;
  Json one;
  try {
    one = print_one(ctx, expr, symbol ? expr : "", f, out);
  } catch (const std::exception& e) {
    // GDB reads kernel memory only: -u stays kdive's.
    if (args.has('u') || !gdb_takes_over(e, expr)) throw;
    return print_through_gdb(session, args, expr, out);
  }
  one["expression"] = expr;
  out.result(Json::array({std::move(one)}));
}

const CommandRegistrar registrar{
    {.name = "p",
     .summary = "print the value of an expression",
     .usage = "p [-x|-d] [-u] expression | symbol:[cpu[,cpu...]]",
     .description = "Evaluates a C expression over the kernel's symbols, types and memory and\n"
                    "prints its value the way gdb (and so crash) prints it: structures member by\n"
                    "member, pointers in hex with the symbol they point into, enums by name,\n"
                    "char arrays as strings. Values are numbered $1, $2, ...; a lone symbol is\n"
                    "named first.\n"
                    "\n"
                    "Expressions may use global variables, enum constants, integer and character\n"
                    "literals, the member operators '.' and '->', subscripts, unary '*' '&' '-'\n"
                    "'~' '!', casts to a type '(struct page *)addr', sizeof, and the C binary\n"
                    "operators with C precedence. Hex numbers need the 0x prefix.\n"
                    "\n"
                    "A per-CPU variable is printed for given CPUs with symbol:cpu, where cpu is\n"
                    "a number, a list such as 0,2-3, or 'a' for all CPUs; symbol: alone is the\n"
                    "CPU of the current context.\n"
                    "\n"
                    "With -u the expression refers to user memory: its user addresses are read\n"
                    "in the current context's address space (see set), as crash's p -u.\n"
                    "\n"
                    "When kdive has GDB built in, an expression this evaluator does not parse\n"
                    "(function calls, GDB's $ value history, GDB's convenience functions) is\n"
                    "evaluated by GDB instead, which starts on that first use (see gdb); a note\n"
                    "says so the first time. Other format letters than x and d go to GDB as\n"
                    "well: p/t, p/c, p/o.",
     .examples = "  kdive> p jiffies\n"
                 "  jiffies = $1 = 4294896811\n"
                 "\n"
                 "  kdive> p init_task.comm\n"
                 "  $2 = \"swapper/0\\000\\000\\000\\000\\000\\000\"\n"
                 "\n"
                 "  kdive> p -x init_task.se.load\n"
                 "  $3 = {\n"
                 "    weight = 0x100000,\n"
                 "    inv_weight = 0x400000\n"
                 "  }\n"
                 "\n"
                 "  kdive> p *(struct list_head *)0xffffffff82613e08\n"
                 "  kdive> p cpu_number:a\n"
                 "\n"
                 "  kdive> set 117\n"
                 "  kdive> p -u *(int *)0x7ffd5c3a9e3c",
     .options = {{'x', "", "print integers in hexadecimal"},
                 {'d', "", "print integers in decimal (the default)"},
                 {'u', "", "user addresses in the expression are the current context's"}},
     .aliases = {"print"},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"expression", "type", "address", "value"},
              .notes = "One object per value printed: the expression (per_cpu(sym, N) for each CPU\n"
                       "of sym:cpus, which adds \"cpu\"), its type, its address (null for a computed\n"
                       "value) and the value: structs as objects (member -> value), arrays as\n"
                       "arrays, char arrays as text (up to the NUL), pointers and functions as\n"
                       "\"0x...\" strings, enums by name, integers as numbers (beyond 2^53, \"0x...\"\n"
                       "strings). A per-CPU symbol without a CPU gives each CPU's address and a null\n"
                       "value. -x and -d change only the text. An expression GDB evaluated has null\n"
                       "type and address, GDB's text as value and \"gdb\": true.",
              .example = "p init_task.comm"},
     .keeps_quotes = true},
    run};

}  // namespace
}  // namespace kdive
