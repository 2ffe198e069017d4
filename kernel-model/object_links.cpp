#include "kernel-model/object_links.hpp"

#include <fmt/format.h>

#include "kernel-model/containers.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

void require_type(const Object& o, std::string_view type_name, std::string_view what) {
  const Type& t = o.type().strip();
  if (t.kind() != TypeKind::Struct || t.name() != type_name) {
    throw Error(Error::Kind::Lookup, fmt::format("{} is a {}, not a struct {}", what, t.spell(), type_name));
  }
}

std::vector<Object> as_objects(const Kernel& k, const std::vector<VirtAddr>& addresses, const Type& type) {
  std::vector<Object> out;
  out.reserve(addresses.size());
  for (VirtAddr a : addresses) out.emplace_back(k, a, &type);
  return out;
}

}  // namespace

uint64_t member_offset(const Type& type, std::string_view member) {
  auto m = type.strip().member(member);
  if (!m) throw Error(Error::Kind::Lookup, fmt::format("{} has no member '{}'", type.spell(), member));
  return m->offset;
}

Object container_of(const Kernel& k, VirtAddr member_address, const Type& type, std::string_view member) {
  return Object(k, member_address - member_offset(type, member), &type);
}

std::vector<Object> list_objects(const Kernel& k, const Object& head, const Type& type, std::string_view member) {
  require_type(head, "list_head", "a list head");
  return as_objects(k, list_entries(k, head.address(), member_offset(type, member)), type);
}

Walked<Object> walk_list_objects(const Kernel& k, const Object& head, const Type& type, std::string_view member) {
  require_type(head, "list_head", "a list head");
  Walked<VirtAddr> w = walk_list(k.memory(), head.address(), member_offset(type, member));
  return Walked<Object>{as_objects(k, w.entries, type), std::move(w.breaks)};
}

std::vector<Object> rbtree_objects(const Kernel& k, const Object& root, const Type& type, std::string_view member) {
  require_type(root, "rb_root", "a tree root");
  return as_objects(k, rbtree_entries(k, root.address(), member_offset(type, member)), type);
}

}  // namespace kdive
