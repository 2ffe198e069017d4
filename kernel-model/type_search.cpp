#include "kernel-model/type_search.hpp"

#include <algorithm>
#include <map>

#include "kernel-model/name_lists.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// Bounded: an embedded struct nests in its container, so the depth is the
// kernel's nesting depth; the bound only stops a corrupted DWARF loop.
constexpr int kMaxEmbeddingDepth = 32;

// const and volatile are qualifiers of a type, not types of their own.
const Type* unqualified(const Type* t) {
  while (t != nullptr && (t->kind() == TypeKind::Const || t->kind() == TypeKind::Volatile)) t = t->target();
  return t;
}

// Whether a member of `t` (or of a struct or union embedded in it) has a type
// whose name contains `text`. A member's type is looked at through one array
// and one pointer: the name of "struct task_struct *tasks[4]" is
// "task_struct". A typedef is matched by its own name, not its target's.
bool has_member_of_type(const Type& t, const std::string& text, int depth) {
  if (depth > kMaxEmbeddingDepth) return false;
  for (const Member& m : t.members()) {
    const Type* type = unqualified(m.type);
    if (type != nullptr && type->kind() == TypeKind::Array) type = unqualified(type->target());
    if (type == nullptr) continue;
    // crash's gdb recurses into embedded structs only; an anonymous union
    // holding the pointer is searched too, since the member is there all the same.
    if (type->is_struct_like() && has_member_of_type(*type, text, depth + 1)) return true;
    if (type->kind() == TypeKind::Pointer) type = unqualified(type->target());
    if (type != nullptr && !type->name().empty() && type->name().find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<FoundType> search_types(TypeSystem& types, const TypeSearch& query) {
  NameLists names(nullptr, &types);
  // Every named type of the DWARF, as gdb lists type symbols: struct, union
  // and enum tags, typedefs and base types, one entry per name (the first
  // kind that has it, as crash keeps the first symbol of a name).
  std::map<std::string, uint64_t, std::less<>> found;
  constexpr NameKind kKinds[] = {NameKind::Struct, NameKind::Union, NameKind::Enum, NameKind::Typedef, NameKind::Base};
  for (NameKind kind : kKinds) {
    // Only a struct or union has members to search.
    if (query.member_type && kind != NameKind::Struct && kind != NameKind::Union) continue;
    for (std::string_view name : names.types(kind).with_prefix("")) {
      if (found.find(name) != found.end()) continue;
      const Type* t = types.find(kind, name);
      if (t == nullptr || t->is_declaration()) continue;
      const uint64_t size = t->size();
      if (size < query.min_size || size > query.max_size) continue;
      if (query.member_type && !has_member_of_type(t->strip(), *query.member_type, 0)) continue;
      found.emplace(std::string(name), size);
    }
  }
  std::vector<FoundType> out;
  out.reserve(found.size());
  for (auto& [name, size] : found) out.push_back({size, name});
  std::stable_sort(out.begin(), out.end(), [](const FoundType& a, const FoundType& b) { return a.size < b.size; });
  return out;
}

}  // namespace kdive
