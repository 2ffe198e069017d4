// The kernel's taint letters, as /proc/modules (mod) and crash's `sys -t`
// show them.
//
//   taint_letters(1 << 12 | 1 << 13);   // "OE": an out-of-tree, unsigned module
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kdive {

// Taint bits (a module's, or the kernel's tainted_mask) as the kernel prints
// them in /proc/modules and its oops lines, one letter per bit (include/linux/panic.h, taint_flags), in bit order; ""
// for none. A bit past the letters this kdive knows gives the whole mask in hex instead.
std::string taint_letters(uint64_t taints);

// One set taint bit, decoded: {7, 'D', "TAINT_DIE"}. A bit this kdive has no
// name for has letter '?' and name "bit N".
struct TaintFlag {
  int bit;
  char letter;
  std::string name;
};
std::vector<TaintFlag> taint_flags(uint64_t taints);

}  // namespace kdive
