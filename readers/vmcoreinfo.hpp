// VmcoreInfo: the kernel's own description of itself that it puts into every dump
// (the VMCOREINFO note: "KEY=value" lines). Keys follow the kernel's macros:
// SYMBOL(name) and KERNELOFFSET are hex, NUMBER(name), OFFSET(s.m), SIZE(s),
// LENGTH(a) and PAGESIZE are decimal (NUMBER may be negative).
//
//   VmcoreInfo info(notes.vmcoreinfo);
//   info.get("OSRELEASE");            // "6.1.0-56-cloud-amd64"
//   info.symbol("init_uts_ns");       // 0xffffffff82a12340
//   info.number("pgtable_l5_enabled");
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kdive {

class VmcoreInfo {
 public:
  VmcoreInfo() = default;
  explicit VmcoreInfo(std::string_view text);

  bool empty() const { return values_.empty(); }
  std::optional<std::string> get(std::string_view key) const;
  std::optional<uint64_t> symbol(std::string_view name) const;    // SYMBOL(name)
  std::optional<int64_t> number(std::string_view name) const;     // NUMBER(name)
  std::optional<uint64_t> offset(std::string_view member) const;  // OFFSET(struct.member)
  std::optional<uint64_t> size(std::string_view type) const;      // SIZE(type)
  std::optional<uint64_t> length(std::string_view name) const;    // LENGTH(name)
  std::optional<uint64_t> kernel_offset() const;                  // KERNELOFFSET
  std::optional<uint64_t> page_size() const;                      // PAGESIZE

  const std::map<std::string, std::string, std::less<>>& all() const { return values_; }

 private:
  std::optional<uint64_t> unsigned_value(std::string_view key, int base) const;
  std::map<std::string, std::string, std::less<>> values_;
};

}  // namespace kdive
