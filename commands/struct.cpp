// struct: a structure's layout, or its contents at an address (crash's forms).
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/container_args.hpp"
#include "commands/struct_command.hpp"
#include "commands/type_layout.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"

namespace kdive {
namespace {

struct Target {
  const Type* type;
  std::vector<std::string> members;  // empty: the whole struct
};

std::vector<std::string> split_members(std::string_view list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string_view m = list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (m.empty()) throw CommandError(fmt::format("empty member name in '{}'", list));
    out.emplace_back(m);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// "task_struct", "task_struct.pid,comm", "task_struct.se.on_rq".
Target parse_target(TypeSystem& types, std::string_view spec, std::string_view keyword) {
  size_t dot = spec.find('.');
  std::string name(spec.substr(0, dot));
  const Type* t = types.lookup(fmt::format("{} {}", keyword, name));
  if (t == nullptr) {
    // A typedef naming a struct ("struct spinlock_t") is accepted too.
    const Type* td = types.lookup(name);
    if (td != nullptr && td->strip().kind() == (keyword == "union" ? TypeKind::Union : TypeKind::Struct)) t = td;
  }
  if (t == nullptr) throw CommandError(fmt::format("invalid data structure reference: {}", spec));
  Target target{t, {}};
  if (dot != std::string_view::npos) {
    target.members = split_members(spec.substr(dot + 1));
    for (const auto& m : target.members) {
      try {
        member_type_at_path(*t, m);
      } catch (const Error&) {
        throw CommandError(fmt::format("invalid data structure reference: {}.{}", name, m));
      }
    }
  }
  return target;
}

// One instance at `address`: the whole struct, or the selected members.
Json print_instance(const Kernel& k, const Target& target, uint64_t address, const ValueFormat& f, Output& out) {
  KernelEvalContext ctx(k);
  Value v = Value::in_memory(ctx, VirtAddr{address}, target.type);
  Json j = {{"address", json_hex(address)}, {"type", target.type->strip().spell()}};
  if (!target.members.empty()) {
    j["value"] = print_struct_members(out, v, target.members, f);
    return j;
  }
  out.print("{}\n", format_instance(v, f));
  j["value"] = value_json(v);
  return j;
}

// crash's -o with an address: each member's address instead of its offset.
Json print_member_addresses(const Target& target, uint64_t address, Output& out) {
  const Type& t = target.type->strip();
  std::vector<std::string> names = target.members;
  if (names.empty()) {
    for (const Member& m : t.members()) {
      if (!m.name.empty()) names.push_back(m.name);
    }
  }
  out.print("{} {{\n", layout_heading(t));
  for (const auto& n : names) {
    Member m = t.require_member(n);
    std::string decl = m.type->spell(n);
    if (m.bit_size != 0) decl += fmt::format(" : {}", m.bit_size);
    out.print("  [{:x}] {};\n", address + m.offset, decl);
  }
  out.print("}}\n");
  if (target.members.empty()) out.print("SIZE: {}\n", t.size());
  return target.members.empty() ? layout_json(t, address) : member_layout_json(t, target.members, address);
}

}  // namespace

void run_struct_command(Session& session, const ParsedArgs& args, Output& out, std::string_view keyword) {
  const Kernel& k = session.kernel();
  const auto& pos = args.positional();
  if (pos.empty()) throw CommandError(fmt::format("a {} name is required", keyword));
  if (pos.size() > 3) throw CommandError(fmt::format("unexpected argument '{}'", pos[3]));
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  int radix = args.has('x') ? 16 : args.has('d') ? 10 : session.settings().radix;
  Target target = parse_target(k.types(), pos[0], keyword);

  if (pos.size() == 1) {
    TypeLayoutOptions o{.offsets = args.has('o'), .radix = radix};
    if (target.members.empty()) {
      out.write(format_layout(*target.type, o));
      out.result(layout_json(*target.type));
    } else {
      out.write(format_member_layout(*target.type, target.members, o));
      out.result(member_layout_json(*target.type, target.members));
    }
    return;
  }

  uint64_t address = parse_start(k, pos[1]);
  int64_t count = 1;
  if (pos.size() == 3) {
    std::string_view c = pos[2];
    bool negative = !c.empty() && c[0] == '-';
    if (negative) c.remove_prefix(1);
    count = static_cast<int64_t>(parse_count(c));
    if (negative) count = -count;
    if (count == 0) throw CommandError("the count must not be 0");
  }
  uint64_t size = target.type->size();
  // A negative count shows the structures before the address, ending with it.
  if (count < 0) {
    address -= static_cast<uint64_t>(-count - 1) * size;
    count = -count;
  }
  ValueFormat f = value_format_for(k, radix);
  Json instances = Json::array();
  for (int64_t i = 0; i < count; ++i) {
    uint64_t at = address + static_cast<uint64_t>(i) * size;
    if (args.has('o')) {
      // Each member of each instance, told apart by their addresses.
      for (Json& member : print_member_addresses(target, at, out)) instances.push_back(std::move(member));
    } else {
      if (i > 0 && target.members.empty()) out.print("\n");
      instances.push_back(print_instance(k, target, at, f, out));
    }
  }
  out.result(std::move(instances));
}

namespace {

void run(Session& session, const ParsedArgs& args, Output& out) { run_struct_command(session, args, out, "struct"); }

const CommandRegistrar registrar{
    {.name = "struct",
     .summary = "structure contents or layout",
     .usage = "struct [-o] [-x|-d] struct_name[.member[,member...]] [address | symbol] [count]",
     .description = "Without an address, shows the layout of a structure as C declarations and\n"
                    "its size; -o adds each member's offset. With an address (hex, a symbol, or a\n"
                    "global variable's member such as init_task.se), shows the structure stored\n"
                    "there, member by member, as gdb prints values; a count shows that many\n"
                    "consecutive structures (a negative count, those before the address).\n"
                    "Members may be selected with .member[,member...], including nested members\n"
                    "such as se.on_rq and array elements such as cpus_mask.bits[0]; then only\n"
                    "those lines print. -x and -d choose hexadecimal or decimal integers.",
     .examples = "  kdive> struct -o list_head\n"
                 "  struct list_head {\n"
                 "     [0] struct list_head *next;\n"
                 "     [8] struct list_head *prev;\n"
                 "  }\n"
                 "  SIZE: 16\n"
                 "\n"
                 "  kdive> struct task_struct.pid,comm ffffffff82613940\n"
                 "    pid = 0,\n"
                 "    comm = \"swapper/0\\000\\000\\000\\000\\000\\000\",\n"
                 "\n"
                 "  kdive> struct -x page ffffea0000040000 2",
     .options = {{'o', "", "show member offsets (with an address: member addresses)"},
                 {'x', "", "integers in hexadecimal"},
                 {'d', "", "integers in decimal (the default)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "type", "value"},
              .notes = "With an address, one object per structure shown: its address, its type and\n"
                       "its value — the whole struct as an object (member -> value), or the selected\n"
                       "members as {\"pid\": 1, \"se.on_rq\": 0}. Values: structs are objects, arrays\n"
                       "arrays, char arrays text (up to the NUL), pointers \"0x...\" strings, enums\n"
                       "names, integers numbers (beyond 2^53, \"0x...\" strings); a member that\n"
                       "cannot be read is null. -x and -d change only the text. Without an address,\n"
                       "the layout: a list of {member, offset, size, type} (bitfields add bit_offset\n"
                       "and bit_size); -o with an address adds each member's address.",
              .example = "struct task_struct.pid,comm init_task"}},
    run};

}  // namespace
}  // namespace kdive
