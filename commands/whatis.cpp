// whatis: what a name is — a symbol's declaration, or a type's layout.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/gdb_fallback.hpp"
#include "commands/type_layout.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/type_search.hpp"

namespace kdive {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

Json named(const std::string& name, Json type) {
  Json j = {{"name", name}};
  for (auto& [key, value] : type.items()) j[key] = value;
  return j;
}

// -r SIZE or -r LOW-HIGH.
void parse_size_range(const std::string& text, TypeSearch& q) {
  size_t dash = text.find('-');
  auto low = parse_number(text.substr(0, dash), 10);
  auto high = dash == std::string::npos ? low : parse_number(text.substr(dash + 1), 10);
  if (!low || !high || *high < *low) throw CommandError(fmt::format("invalid size or size range: '{}'", text));
  q.min_size = *low;
  q.max_size = *high;
}

// crash's search form: types by size (-r), structs and unions by member type (-m).
void search(const Kernel& k, const ParsedArgs& args, Output& out) {
  if (!args.positional().empty()) {
    throw CommandError(fmt::format("-r and -m search all types: unexpected argument '{}'", args.positional()[0]));
  }
  TypeSearch q;
  if (auto r = args.value('r')) parse_size_range(*r, q);
  if (auto m = args.value('m')) {
    if (m->empty()) throw CommandError("-m needs a type name");
    q.member_type = *m;
  }
  std::vector<FoundType> found = search_types(k.types(), q);
  size_t width = 4;  // "SIZE"
  for (const auto& f : found) width = std::max(width, fmt::format("{}", f.size).size());
  if (found.empty()) {
    out.print("(none found)\n");
  } else {
    out.print("{:>{}}  TYPE\n", "SIZE", width);
  }
  Json list = Json::array();
  for (const auto& f : found) {
    out.print("{:>{}}  {}\n", f.size, width, f.name);
    list.push_back({{"size", f.size}, {"name", f.name}});
  }
  Json query = {{"min_size", q.min_size}, {"max_size", json_integer(q.max_size)}};
  query["member_type"] = q.member_type ? Json(*q.member_type) : Json(nullptr);
  out.result({{"query", std::move(query)}, {"types", std::move(list)}});
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  if (args.has('r') || args.has('m')) return search(k, args, out);
  if (args.positional().empty()) throw CommandError("a symbol, type or expression is required");
  std::string arg = join(args.positional());
  TypeSystem& types = k.types();
  TypeLayoutOptions o{.offsets = args.has('o'), .radix = args.has('x') ? 16 : 10};

  // A symbol: its declaration, as in C.
  if (k.symbols().find(arg) != nullptr) {
    const Type* t = types.variable_type(arg);
    if (t == nullptr) throw CommandError(fmt::format("{}: no type information (not compiled with debug info)", arg));
    std::string declaration = t->spell(arg) + ";";
    out.print("{}\n", declaration);
    Json j = named(arg, type_json(*t));
    j["declaration"] = declaration;
    return out.result(std::move(j));
  }
  // "task_struct.pid": the member with its offset, as crash shows it.
  if (size_t dot = arg.find('.'); dot != std::string::npos && arg.find_first_of(" *()[]-") == std::string::npos) {
    const Type* t = parse_type_name(types, arg.substr(0, dot));
    if (t != nullptr && t->strip().is_struct_like()) {
      std::string path = arg.substr(dot + 1);
      out.write(format_member_layout(*t, {path}, o));
      Member m = t->require_member(path);
      Json j = named(arg, type_json(*m.type));
      j["offset"] = m.offset;
      return out.result(std::move(j));
    }
  }
  // A type name: its layout; a typedef of a scalar: its definition.
  if (const Type* t = parse_type_name(types, arg)) {
    const Type& s = t->strip();
    if ((s.is_struct_like() || s.kind() == TypeKind::Enum) && t->kind() == TypeKind::Typedef && s.name().empty()) {
      // A typedef of an anonymous struct: "typedef struct {...} atomic_t;".
      TypeLayoutOptions body = o;
      body.size_line = false;
      std::string layout = format_layout(s, body);
      layout.pop_back();  // the closing brace's newline
      out.print("typedef {} {};\nSIZE: {}\n", layout, t->name(), t->size());
    } else if (s.is_struct_like() || s.kind() == TypeKind::Enum) {
      out.write(format_layout(*t, o));
    } else if (t->kind() == TypeKind::Typedef) {
      // crash follows the typedef chain to the type underneath.
      out.print("typedef {};\nSIZE: {}\n", s.spell(t->name()), t->size());
    } else {
      out.print("{}\nSIZE: {}\n", t->spell(), t->size());
    }
    return out.result(named(arg, type_json(*t)));
  }
  // Any other expression: the type of its value.
  std::optional<Value> parsed;
  try {
    parsed = evaluate(KernelEvalContext(k), arg);
  } catch (const std::exception& e) {
    if (!gdb_takes_over(e, arg)) throw;
    return type_through_gdb(session, "whatis", arg, out);
  }
  const Value& v = *parsed;
  out.print("{}\n", v.type().spell());
  out.result(named(arg, type_json(v.type())));
}

const CommandRegistrar registrar{
    {.name = "whatis",
     .summary = "the type of a symbol, or the layout of a type",
     .usage = "whatis [-o] [-x] symbol | struct | union | typedef | struct.member | expression\n"
              "       whatis [-r size | -r low-high] [-m type]",
     .description = "For a global variable or function, prints its C declaration. For a struct,\n"
                    "union or enum, prints its layout and size like struct (-o adds member\n"
                    "offsets, -x shows them in hex); for a typedef, its definition and size; for\n"
                    "struct.member, that member with its offset. For any other expression,\n"
                    "prints the type of its value.\n"
                    "\n"
                    "The second form searches the named types of the kernel's debug information\n"
                    "(struct, union and enum tags, typedefs, base types): -r those of one size or\n"
                    "a range of sizes in bytes (\"192\", \"256-512\"); -m the structs and unions\n"
                    "with a member whose type name contains the text given (\"task_struct\" finds\n"
                    "struct task_struct members, arrays of them and pointers to one), counting\n"
                    "the members of structs and unions embedded in them. Both together: both\n"
                    "must hold. The list is sorted by size, then name; it reads every type, so it\n"
                    "takes a few seconds.",
     .examples = "  kdive> whatis linux_banner\n"
                 "  const char linux_banner[192];\n"
                 "\n"
                 "  kdive> whatis pid_t\n"
                 "  typedef int pid_t;\n"
                 "  SIZE: 4\n"
                 "\n"
                 "  kdive> whatis task_struct.pid\n"
                 "  struct task_struct {\n"
                 "    [2232] pid_t pid;\n"
                 "  }\n"
                 "\n"
                 "  kdive> whatis init_task.se\n"
                 "  struct sched_entity\n"
                 "\n"
                 "  kdive> whatis -r 2000-3000 -m task_struct\n"
                 "  SIZE  TYPE\n"
                 "  2240  kvm_vcpu_arch\n"
                 "  ...",
     .options = {{'o', "", "show member offsets"},
                 {'x', "", "offsets and sizes in hexadecimal"},
                 {'r', "size", "search for types of this size, or low-high range of sizes"},
                 {'m', "type", "search for structs and unions with a member whose type name contains this"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"name", "kind", "type", "size"},
              .notes = "name is what was asked; kind is the C kind under typedefs (struct, union,\n"
                       "enum, pointer, array, function, base, void); type is its spelling. A struct\n"
                       "or union adds members, a list of {member, offset, size, type}; an enum adds\n"
                       "enumerators [{name, value}]; a symbol adds its declaration; struct.member\n"
                       "adds the member's offset. -o and -x change only the text. The search form\n"
                       "gives {query: {min_size, max_size, member_type}, types: [{size, name}]}.",
              .example = "whatis linux_banner"},
     .keeps_quotes = true},
    run};

}  // namespace
}  // namespace kdive
