// How a struct page is shown: crash's PAGE PHYSICAL MAPPING INDEX CNT FLAGS
// line (kmem ADDRESS, kmem -p, vtop, files -p) and the same values in JSON.
//
//   out.write(page_header());                  //       PAGE       PHYSICAL      MAPPING ...
//   out.write(page_row(page, &names));         // ffffea0000000040     1000  0  0  1 ... reserved
//   Json j = page_json(page, &names);          // {page, physical, mapping, index, count, flags, flag_names}
#pragma once

#include <string>

#include "commands/api/json_values.hpp"
#include "kernel-model/page_struct.hpp"

namespace kdive {

// With its newline.
std::string page_header();
// With its newline; the flag names follow the flags word when `names` is given.
std::string page_row(const PageStruct& page, const PageFlagNames* names);
// A struct page that could not be read: its address and the reason.
std::string damaged_page_row(VirtAddr page, std::string_view why);
Json page_json(const PageStruct& page, const PageFlagNames* names);

}  // namespace kdive
