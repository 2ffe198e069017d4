// How a VMA is shown, in text as crash's `vm` and `vtop` print it, and in
// JSON: shared by vm and vtop so both say the same.
//
//   out.print("{}\n", vma_header());   //       VMA           START       END     FLAGS FILE
//   out.print("{}\n", vma_row(vma));   // ffff9874c2436258 7f0000200000 7f0000210000 8100073
//   Json j = vma_json(vma);            // {"vma", "start", "end", "flags", "permissions", "pgoff", "file"}
#pragma once

#include <string>

#include "commands/api/json_values.hpp"
#include "kernel-model/page_location.hpp"
#include "kernel-model/vmas.hpp"

namespace kdive {

std::string vma_header();
// A readable VMA's line; for a damaged one its address and "(damaged: why)".
std::string vma_row(const Vma& vma);
Json vma_json(const Vma& vma);

// "SWAP: /dev/vda  OFFSET: 1", crash's words for a swapped-out page.
std::string swap_location_text(const PageLocation& at);
// crash's two lines for a swap entry's PTE: "PTE SWAP OFFSET" and the values,
// each centred on its value's width.
std::string swap_pte_lines(const PageLocation& at);
// {"device", "type", "offset"}
Json swap_json(const PageLocation& at);

}  // namespace kdive
