#include "kernel-model/type_search.hpp"

#include <algorithm>

#include "kernel-model/name_lists.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// Bounded: an embedded struct nests in its container, so the depth is the
// kernel's nesting depth; the bound only stops a corrupted DWARF loop.
constexpr int kMaxEmbeddingDepth = 32;

bool has_member_of_type(const Type& t, const std::string& text, int depth) {
  if (depth > kMaxEmbeddingDepth) return false;
  for (const Member& m : t.members()) {
    if (m.type->spell().find(text) != std::string::npos) return true;
    const Type& inner = m.type->strip();
    if (inner.is_struct_like() && has_member_of_type(inner, text, depth + 1)) return true;
  }
  return false;
}

}  // namespace

std::vector<FoundStruct> search_structs(TypeSystem& types, const TypeSearch& query) {
  NameLists names(nullptr, &types);
  std::vector<FoundStruct> found;
  for (std::string_view name : names.types(NameKind::Struct).with_prefix("")) {
    const Type* t = types.find(NameKind::Struct, name);
    if (t == nullptr || t->is_declaration()) continue;
    const uint64_t size = t->size();
    if (size < query.min_size || size > query.max_size) continue;
    if (query.member_type && !has_member_of_type(t->strip(), *query.member_type, 0)) continue;
    found.push_back({size, std::string(name)});
  }
  std::sort(found.begin(), found.end(),
            [](const FoundStruct& a, const FoundStruct& b) { return std::tie(a.size, a.name) < std::tie(b.size, b.name); });
  return found;
}

}  // namespace kdive
