// StructLayout: sizes and member offsets of kernel structures, by name, taken at
// run time — never from per-version tables. The source today is VMCOREINFO (the
// kernel's own list of the offsets dump tools need); DWARF from the vmlinux joins
// as the primary source with the type engine.
//
//   StructLayout layout(vmcoreinfo);
//   uint64_t off = layout.offset("printk_info", "seq");   // throws Error(Lookup)
//   uint64_t sz = layout.size("prb_desc");
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "readers/vmcoreinfo.hpp"

namespace kdive {

class StructLayout {
 public:
  explicit StructLayout(const VmcoreInfo& info) : info_(info) {}

  std::optional<uint64_t> find_offset(std::string_view type, std::string_view member) const;
  std::optional<uint64_t> find_size(std::string_view type) const;
  // Throw Error(Lookup) naming the member or type when unknown.
  uint64_t offset(std::string_view type, std::string_view member) const;
  uint64_t size(std::string_view type) const;

 private:
  const VmcoreInfo& info_;
};

}  // namespace kdive
