#include "readers/vmcoreinfo.hpp"

#include <charconv>

namespace kdive {

VmcoreInfo::VmcoreInfo(std::string_view text) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    // Later lines win: the kernel appends, and a key is never meant twice.
    values_.insert_or_assign(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
}

std::optional<std::string> VmcoreInfo::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint64_t> VmcoreInfo::unsigned_value(std::string_view key, int base) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  std::string_view v = it->second;
  if (base == 16 && (v.starts_with("0x") || v.starts_with("0X"))) v.remove_prefix(2);
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, base);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<uint64_t> VmcoreInfo::symbol(std::string_view name) const {
  return unsigned_value("SYMBOL(" + std::string(name) + ")", 16);
}

std::optional<int64_t> VmcoreInfo::number(std::string_view name) const {
  auto it = values_.find("NUMBER(" + std::string(name) + ")");
  if (it == values_.end()) return std::nullopt;
  const std::string& v = it->second;
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 10);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

std::optional<uint64_t> VmcoreInfo::offset(std::string_view member) const {
  return unsigned_value("OFFSET(" + std::string(member) + ")", 10);
}

std::optional<uint64_t> VmcoreInfo::size(std::string_view type) const {
  return unsigned_value("SIZE(" + std::string(type) + ")", 10);
}

std::optional<uint64_t> VmcoreInfo::length(std::string_view name) const {
  return unsigned_value("LENGTH(" + std::string(name) + ")", 10);
}

std::optional<uint64_t> VmcoreInfo::kernel_offset() const { return unsigned_value("KERNELOFFSET", 16); }

std::optional<uint64_t> VmcoreInfo::page_size() const { return unsigned_value("PAGESIZE", 10); }

}  // namespace kdive
