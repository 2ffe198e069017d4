// ptype: a type, or the type of an expression, written out as gdb's ptype does.
#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/gdb_fallback.hpp"
#include "commands/type_layout.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"

namespace kdive {
namespace {

// What wraps the expanded struct in the final spelling: "const struct x {...} *"
// has prefix "const " and suffix " *".
std::string expanded(const Type& type) {
  const Type* t = &type;
  std::string suffix;
  std::string qualifiers;
  // Peel typedefs, qualifiers and pointers down to the struct, union or enum.
  while (true) {
    if (t->kind() == TypeKind::Typedef) {
      t = t->target();
    } else if (t->kind() == TypeKind::Const || t->kind() == TypeKind::Volatile) {
      qualifiers += t->kind() == TypeKind::Const ? "const " : "volatile ";
      t = t->target();
    } else if (t->kind() == TypeKind::Pointer && t->target() != nullptr &&
               t->target()->strip().kind() != TypeKind::Function) {
      suffix = " *" + suffix;
      t = t->target();
    } else {
      break;
    }
  }
  if (!t->is_struct_like() && t->kind() != TypeKind::Enum) {
    return fmt::format("type = {}\n", type.strip().kind() == TypeKind::Base && type.kind() == TypeKind::Typedef
                                          ? type.strip().spell()
                                          : type.spell());
  }
  TypeLayoutOptions o{.size_line = false, .gdb_style = true};
  std::string body = format_layout(*t, o);  // "type = struct x {\n...}\n"
  body.insert(7, qualifiers);
  body.pop_back();
  return body + suffix + "\n";
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  if (args.positional().empty()) throw CommandError("a type or expression is required");
  std::string arg;
  for (const auto& w : args.positional()) arg += (arg.empty() ? "" : " ") + w;
  const Type* t = parse_type_name(k.types(), arg);
  // Types are kdive's alone (GDB would take 20 s and 1.8 GB to expand a
  // vmlinux's DWARF for one); only an expression kdive cannot parse goes to GDB.
  std::optional<Value> v;
  if (t == nullptr) {
    try {
      v = evaluate(KernelEvalContext(k), arg);
    } catch (const std::exception& e) {
      if (!gdb_takes_over(e, arg)) throw;
      return type_through_gdb(session, "ptype", arg, out);
    }
    t = &v->type();
  }
  out.write(expanded(*t));
  Json j = {{"name", arg}};
  Json type = type_json(*t);
  for (auto& [key, value] : type.items()) j[key] = value;
  out.result(std::move(j));
}

const CommandRegistrar registrar{
    {.name = "ptype",
     .summary = "print a type's definition, expanded",
     .usage = "ptype type | expression",
     .description = "Prints a type the way gdb's ptype does: typedefs followed to the type they\n"
                    "name, structs, unions and enums written out member by member (anonymous\n"
                    "ones inline), pointers to structs shown with the struct expanded. Given an\n"
                    "expression, prints the type of its value.",
     .examples = "  kdive> ptype struct list_head\n"
                 "  type = struct list_head {\n"
                 "      struct list_head *next;\n"
                 "      struct list_head *prev;\n"
                 "  }\n"
                 "\n"
                 "  kdive> ptype pid_t\n"
                 "  type = int\n"
                 "\n"
                 "  kdive> ptype init_task.sched_class",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"name", "kind", "type", "size"},
              .notes = "name is the type or expression asked for; kind is the C kind under typedefs\n"
                       "(struct, union, enum, pointer, array, function, base, void) and type its\n"
                       "spelling. A struct or union adds members, a list of {member, offset, size,\n"
                       "type} with the members of anonymous ones inline; an enum adds enumerators\n"
                       "[{name, value}].",
              .example = "ptype struct list_head"},
     .keeps_quotes = true},
    run};

}  // namespace
}  // namespace kdive
