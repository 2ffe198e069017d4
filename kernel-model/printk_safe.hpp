// The per-CPU printk "safe" buffers of 4.11 – 5.14: messages printed from NMI
// context (nmi_print_seq) or while the log lock was held (safe_print_seq) wait
// there until irq_work flushes them into the main log. At a crash they may hold
// the last words that never reached the log. 5.15 removed them (the lockless
// ring takes those messages directly).
//
//   auto bufs = read_printk_safe_buffers(kernel);   // nullopt: none in this kernel
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct PrintkSafeBuffer {
  std::string name;  // "nmi_print_seq" or "safe_print_seq"
  int cpu = 0;
  VirtAddr address;  // this CPU's struct printk_safe_seq_buf
  uint32_t len = 0;
  uint32_t message_lost = 0;
  std::string text;   // the first `len` bytes of the buffer
  std::string error;  // set when this CPU's buffer could not be read
};

// Every CPU's buffers, nmi_print_seq first; nullopt when the kernel has none.
std::optional<std::vector<PrintkSafeBuffer>> read_printk_safe_buffers(const Kernel& kernel);

}  // namespace kdive
