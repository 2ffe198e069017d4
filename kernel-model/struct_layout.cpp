#include "kernel-model/struct_layout.hpp"

#include <fmt/format.h>

#include <string>

#include "kernel-model/errors.hpp"

namespace kdive {

std::optional<uint64_t> StructLayout::find_offset(std::string_view type, std::string_view member) const {
  return info_.offset(std::string(type) + "." + std::string(member));
}

std::optional<uint64_t> StructLayout::find_size(std::string_view type) const {
  return info_.size(type);
}

uint64_t StructLayout::offset(std::string_view type, std::string_view member) const {
  if (auto v = find_offset(type, member)) return *v;
  throw Error(Error::Kind::Lookup,
              fmt::format("offset of {}.{} is unknown (not in the dump's VMCOREINFO)", type, member));
}

uint64_t StructLayout::size(std::string_view type) const {
  if (auto v = find_size(type)) return *v;
  throw Error(Error::Kind::Lookup, fmt::format("size of {} is unknown (not in the dump's VMCOREINFO)", type));
}

}  // namespace kdive
