// StructLayout: sizes and member offsets of kernel structures, by name, taken at
// run time — never from per-version tables. VMCOREINFO (the kernel's own list of
// the offsets dump tools need) answers first, since it needs no debuginfo; DWARF
// from the vmlinux answers what VMCOREINFO leaves out (older kernels export fewer
// printk offsets, and a dump without notes has none at all).
//
//   StructLayout layout(vmcoreinfo, &types);
//   uint64_t off = layout.offset("printk_info", "seq");   // throws Error(Lookup)
//   uint64_t sz = layout.size("prb_desc");
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "readers/vmcoreinfo.hpp"

namespace kdive {

class TypeSystem;

class StructLayout {
 public:
  // `types` may be null: then only VMCOREINFO answers.
  explicit StructLayout(const VmcoreInfo& info, TypeSystem* types = nullptr) : info_(info), types_(types) {}

  std::optional<uint64_t> find_offset(std::string_view type, std::string_view member) const;
  std::optional<uint64_t> find_size(std::string_view type) const;
  // Throw Error(Lookup) naming the member or type when unknown.
  uint64_t offset(std::string_view type, std::string_view member) const;
  uint64_t size(std::string_view type) const;

 private:
  const VmcoreInfo& info_;
  TypeSystem* types_;
};

}  // namespace kdive
