// crash's value_to_symstr: an address as "name" or "name+offset" (decimal),
// "" when it is NULL or in no symbol — the form of the function and ops
// columns of dev, irq and timer.
//
//   symbol_text(kernel, VirtAddr{0xffffffff81234567});   // "tick_sched_timer+7"
#pragma once

#include <string>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

std::string symbol_text(const Kernel& k, VirtAddr address);

}  // namespace kdive
