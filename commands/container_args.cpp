#include "commands/container_args.hpp"

#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// "task_struct" names struct task_struct (or a union/typedef of that name).
const Type* find_type(const Kernel& k, std::string_view name) {
  if (name.empty()) return nullptr;
  return k.types().lookup(std::string(name));
}

std::pair<std::string_view, std::string_view> split_first_dot(std::string_view text) {
  size_t dot = text.find('.');
  if (dot == std::string_view::npos) return {text, {}};
  return {text.substr(0, dot), text.substr(dot + 1)};
}

}  // namespace

bool is_type_member(const Kernel& k, std::string_view text) {
  auto [type, member] = split_first_dot(text);
  if (member.empty()) return false;
  const Type* t = find_type(k, type);
  return t != nullptr && t->strip().is_struct_like();
}

uint64_t parse_member_offset(const Kernel& k, std::string_view text) {
  auto [type, member] = split_first_dot(text);
  if (member.empty()) {
    auto n = parse_number(text, 10);
    if (!n) throw CommandError(fmt::format("invalid offset: '{}'", text));
    return *n;
  }
  const Type* t = find_type(k, type);
  if (t == nullptr) throw CommandError(fmt::format("unknown structure: '{}'", type));
  auto m = t->strip().member(member);
  if (!m) throw CommandError(fmt::format("{} has no member '{}'", t->strip().spell(), member));
  return m->offset;
}

uint64_t parse_start(const Kernel& k, std::string_view text) {
  auto [name, member] = split_first_dot(text);
  auto address = member.empty() ? std::nullopt : k.symbols().address(name);
  if (!address) return parse_address(&k, text).value();
  const Type* t = k.types().variable_type(std::string(name));
  if (t == nullptr || !t->strip().is_struct_like()) {
    throw CommandError(fmt::format("'{}' is not a structure: no member '{}'", name, member));
  }
  auto m = t->strip().member(member);
  if (!m) throw CommandError(fmt::format("{} has no member '{}'", t->strip().spell(), member));
  return (*address + m->offset).value();
}

EntryStructs::EntryStructs(const Kernel& k, const std::vector<std::string>& specs, int radix) : k_(k), radix_(radix) {
  for (const std::string& spec : specs) {
    auto [type, members] = split_first_dot(spec);
    const Type* t = find_type(k, type);
    if (t == nullptr || !t->strip().is_struct_like()) {
      throw CommandError(fmt::format("unknown structure: '{}'", type));
    }
    Shown shown{t, std::string(type), {}};
    size_t at = 0;
    while (!members.empty() && at <= members.size()) {
      size_t comma = members.find(',', at);
      std::string name(members.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
      if (name.empty()) throw CommandError(fmt::format("invalid member list: '{}'", spec));
      try {
        member_type_at_path(*t, name);
      } catch (const Error& e) {
        throw CommandError(e.what());
      }
      shown.members.push_back(std::move(name));
      if (comma == std::string_view::npos) break;
      at = comma + 1;
    }
    shown_.push_back(std::move(shown));
  }
}

void EntryStructs::show(Output& out, VirtAddr entry, Json& into) const {
  KernelEvalContext ctx(k_);
  ValueFormat f = settings_ != nullptr ? value_format_for(k_, radix_, *settings_) : value_format_for(k_, radix_);
  for (const Shown& s : shown_) {
    Value v = Value::in_memory(ctx, entry, s.type);
    Json& slot = into[s.name];
    if (slot.is_null()) slot = Json::object();
    try {
      Json j;
      if (s.members.empty()) {
        std::string text = format_instance(v, f);
        out.print("{}\n", text);
        j = value_json(v);
      } else {
        j = print_struct_members(out, v, s.members, f);
      }
      // Two -s of one structure show into one object.
      for (auto& [key, value] : j.items()) slot[key] = value;
    } catch (const Fault& e) {
      out.print("  <{} at {:x}: {}>\n", s.type->strip().spell(), entry.value(), e.what());
      out.data_lost(fmt::format("{} at {:#x}: {}", s.type->strip().spell(), entry.value(), e.what()));
      slot = nullptr;
    }
  }
}

void mark_break(Output& out, std::string_view command, const WalkBreak& b, Json& entries) {
  out.print("{:x}  (damaged: {})\n", b.at.value(), b.reason);
  entries.push_back(Json{{"error", b.reason}, {"at", json_hex(b.at.value())}});
  out.data_lost(fmt::format("{}: {}", command, b.describe()));
}

}  // namespace kdive
