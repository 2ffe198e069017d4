#include "kernel-model/name_lists.hpp"

#include <algorithm>
#include <cctype>

#include "kernel-model/modules.hpp"
#include "kernel-model/symbol_table.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// Bounds the walk through a damaged or self-referencing type graph; C nests
// anonymous members a few levels deep at most.
constexpr int kMaxAnonymousDepth = 16;

void collect_members(const Type& type, int depth, std::vector<MemberName>& out) {
  for (const Member& m : type.members()) {
    if (m.type == nullptr) continue;
    if (m.name.empty()) {
      // An anonymous struct or union: its members are named as if they were
      // this type's own (task_struct's anonymous union around `tasks`...).
      if (depth < kMaxAnonymousDepth && m.type->strip().is_struct_like()) {
        collect_members(m.type->strip(), depth + 1, out);
      }
      continue;
    }
    out.push_back({m.name, struct_behind(*m.type) != nullptr});
  }
}

bool is_identifier_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

}  // namespace

SortedNames::SortedNames(std::vector<std::string_view> names) : names_(std::move(names)) {
  std::sort(names_.begin(), names_.end());
  names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
  names_.shrink_to_fit();
}

std::span<const std::string_view> SortedNames::with_prefix(std::string_view prefix) const {
  auto first = std::lower_bound(names_.begin(), names_.end(), prefix);
  // Every name with the prefix sorts at or after it and before the first
  // name that no longer starts with it.
  auto last = std::partition_point(first, names_.end(),
                                   [&](std::string_view n) { return n.substr(0, prefix.size()) == prefix; });
  return {first, last};
}

const SortedNames& NameLists::symbols() {
  std::call_once(symbols_once_, [this] {
    std::vector<std::string_view> names;
    if (symbols_ != nullptr) {
      names.reserve(symbols_->all().size());
      for (const Symbol& s : symbols_->all()) {
        if (!s.name.empty()) names.push_back(s.name);
      }
    }
    symbol_list_ = std::make_unique<SortedNames>(std::move(names));
  });
  return *symbol_list_;
}

const SortedNames& NameLists::types(NameKind kind) {
  auto& list = type_lists_[static_cast<size_t>(kind)];
  std::call_once(types_once_[static_cast<size_t>(kind)], [&] {
    std::vector<std::string_view> names;
    if (types_ != nullptr) {
      const DwarfIndexImage& image = types_->index().image();
      auto entries = image.entries(kind);
      names.reserve(entries.size());
      for (const DwarfIndexEntry& e : entries) {
        std::string_view name = image.name(e);
        if (!name.empty()) names.push_back(name);
      }
    }
    list = std::make_unique<SortedNames>(std::move(names));
  });
  return *list;
}

void NameLists::prepare() {
  symbols();
  for (NameKind k : {NameKind::Struct, NameKind::Union, NameKind::Enum, NameKind::Typedef}) types(k);
}

void module_symbols_with_prefix(const ModuleTable& modules, std::string_view prefix, std::vector<std::string>& out) {
  for (const Module& m : modules.all()) {
    for (const Symbol& s : m.symbols().all()) {
      if (s.name.starts_with(prefix)) out.emplace_back(s.name);
    }
  }
}

std::vector<MemberName> member_names(const Type& type) {
  std::vector<MemberName> out;
  const Type& t = type.strip();
  if (t.is_struct_like()) collect_members(t, 0, out);
  return out;
}

const Type* struct_behind(const Type& type) {
  const Type* t = &type.strip();
  // A pointer to a pointer is not followed: `a.b` cannot reach through two.
  bool pointer_seen = false;
  for (int depth = 0; depth < kMaxAnonymousDepth; ++depth) {
    if (t->is_struct_like()) return t;
    if (t->kind() == TypeKind::Array || (t->kind() == TypeKind::Pointer && !pointer_seen)) {
      pointer_seen = pointer_seen || t->kind() == TypeKind::Pointer;
      if (t->target() == nullptr) return nullptr;
      t = &t->target()->strip();
      continue;
    }
    return nullptr;
  }
  return nullptr;
}

const Type* struct_at_path(const Type& root, std::string_view path) {
  const Type* current = struct_behind(root);
  size_t i = 0;
  while (current != nullptr && i < path.size()) {
    // Separators: '.', "->"; an index "[...]" after a name only says which
    // element, and the element's type is what the array's type already says.
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path.compare(i, 2, "->") == 0) {
      i += 2;
      continue;
    }
    if (path[i] == '[') {  // the root's own index: "tasks[1].pid"
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return nullptr;
      i = close + 1;
      continue;
    }
    size_t begin = i;
    while (i < path.size() && is_identifier_char(path[i])) ++i;
    if (i == begin) return nullptr;
    std::string_view name = path.substr(begin, i - begin);
    while (i < path.size() && path[i] == '[') {
      size_t close = path.find(']', i);
      if (close == std::string_view::npos) return nullptr;
      i = close + 1;
    }
    auto member = current->member(name);
    if (!member || member->type == nullptr) return nullptr;
    current = struct_behind(*member->type);
  }
  return current;
}

}  // namespace kdive
