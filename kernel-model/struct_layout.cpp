#include "kernel-model/struct_layout.hpp"

#include <fmt/format.h>

#include <string>

#include "kernel-model/errors.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// VMCOREINFO names structs without the keyword ("printk_info"); the kernel's
// printk types are all structs, so DWARF is asked for "struct <name>".
const Type* dwarf_struct(TypeSystem* types, std::string_view type) {
  if (types == nullptr) return nullptr;
  try {
    const Type* t = types->lookup("struct " + std::string(type));
    if (t == nullptr || t->is_declaration()) return nullptr;
    return t;
  } catch (const ModelError&) {
    return nullptr;  // unreadable debuginfo: the caller reports the name
  }
}

}  // namespace

std::optional<uint64_t> StructLayout::find_offset(std::string_view type, std::string_view member) const {
  if (auto v = info_.offset(std::string(type) + "." + std::string(member))) return v;
  if (const Type* t = dwarf_struct(types_, type)) {
    if (auto m = t->member(member)) return m->offset;
  }
  return std::nullopt;
}

std::optional<uint64_t> StructLayout::find_size(std::string_view type) const {
  if (auto v = info_.size(type)) return v;
  if (const Type* t = dwarf_struct(types_, type)) {
    if (uint64_t size = t->size()) return size;
  }
  return std::nullopt;
}

uint64_t StructLayout::offset(std::string_view type, std::string_view member) const {
  if (auto v = find_offset(type, member)) return *v;
  throw Error(
      Error::Kind::Lookup,
      fmt::format("offset of {}.{} is unknown (not in the dump's VMCOREINFO nor the vmlinux's DWARF)", type, member));
}

uint64_t StructLayout::size(std::string_view type) const {
  if (auto v = find_size(type)) return *v;
  throw Error(Error::Kind::Lookup,
              fmt::format("size of {} is unknown (not in the dump's VMCOREINFO nor the vmlinux's DWARF)", type));
}

}  // namespace kdive
