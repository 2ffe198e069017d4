#include "commands/page_rows.hpp"

#include <fmt/format.h>

#include "commands/value_format.hpp"

namespace kdive {

std::string page_header() { return "      PAGE       PHYSICAL      MAPPING       INDEX CNT FLAGS\n"; }

std::string page_row(const PageStruct& p, const PageFlagNames* names) {
  std::string line = fmt::format("{:016x} {:>8x} {:>16x} {:>8x} {:>2} {:x}", p.page.value(), p.physical().value(),
                                 p.mapping, p.index, p.count, p.flags);
  if (names != nullptr) {
    const std::string flags = names->describe(p.flags);
    if (!flags.empty()) line += " " + flags;
  }
  return line + "\n";
}

std::string damaged_page_row(VirtAddr page, std::string_view why) {
  return fmt::format("{:016x}  (damaged: {})\n", page.value(), why);
}

Json page_json(const PageStruct& p, const PageFlagNames* names) {
  Json j{{"page", json_hex(p.page)},
         {"physical", json_hex(p.physical())},
         {"mapping", json_hex(p.mapping)},
         {"index", json_integer(p.index)},  // a page offset in its file or mapping: a count
         {"count", p.count},
         {"flags", json_hex(p.flags)}};
  if (names != nullptr) j["flag_names"] = names->describe(p.flags);
  return j;
}

}  // namespace kdive
