#include "commands/vma_rows.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "commands/centered.hpp"

namespace kdive {

std::string vma_header() { return "      VMA           START       END     FLAGS FILE"; }

std::string vma_row(const Vma& vma) {
  if (!vma.error.empty()) return fmt::format("{:016x} (damaged: {})", vma.address, vma.error);
  // crash names anonymous mappings by nothing (no [heap] or [stack]); the
  // file is the path /proc/PID/maps shows.
  return fmt::format("{:016x} {:>10x} {:>10x} {:x} {}", vma.address, vma.start, vma.end, vma.flags, vma.path);
}

Json vma_json(const Vma& vma) {
  Json j = {{"vma", json_hex(vma.address)}};
  if (!vma.error.empty()) {
    j["error"] = vma.error;
    return j;
  }
  j["start"] = json_hex(vma.start);
  j["end"] = json_hex(vma.end);
  j["flags"] = json_hex(vma.flags);
  j["permissions"] = vma.permissions();
  j["pgoff"] = vma.pgoff;
  j["file"] = vma.file.is_null() ? Json(nullptr) : Json(vma.path);
  return j;
}

std::string swap_location_text(const PageLocation& at) {
  const std::string device =
      at.swap_device.empty() ? fmt::format("(no swap device of type {})", at.swap->type) : at.swap_device;
  return fmt::format("SWAP: {}  OFFSET: {}", device, at.swap->offset);
}

std::string swap_pte_lines(const PageLocation& at) {
  const std::string pte = fmt::format("{:x}", at.entry);
  const std::string device = at.swap_device.empty() ? "(unknown)" : at.swap_device;
  const std::string offset = fmt::format("{}", at.swap->offset);
  const size_t offset_width = std::max<size_t>(6, offset.size());
  return fmt::format("{}  {}  {}\n{}  {}  {}", centered("PTE", pte.size()), centered("SWAP", device.size()),
                     centered("OFFSET", offset_width), pte, device, centered(offset, offset_width, true));
}

Json swap_json(const PageLocation& at) {
  return {{"device", at.swap_device.empty() ? Json(nullptr) : Json(at.swap_device)},
          {"type", at.swap->type},
          {"offset", at.swap->offset}};
}

}  // namespace kdive
