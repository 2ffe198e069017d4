// The stacks a CPU runs on besides its tasks' own: the IRQ stack, the
// exception (IST) stacks of its cpu_entry_area, and the entry trampoline
// stack. bt follows frames across them; mach lists them.
//
//   CpuStacks s = read_cpu_stacks(kernel, 0);
//   for (const CpuStack& st : s.stacks) ... st.base, st.size, st.ist ("NMI", "DF", ...)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

// THREAD_SIZE: 16 KiB on x86_64, twice that with KASAN (KASAN_STACK_ORDER).
// The IRQ stack has the same size (IRQ_STACK_ORDER follows THREAD_SIZE_ORDER).
uint64_t thread_size(const Kernel& k);

struct CpuStack {
  enum class Kind { Irq, Exception, Entry };
  Kind kind = Kind::Irq;
  // An exception stack's member of struct cea_exception_stacks without its
  // "_stack" suffix: "DF", "NMI", "DB", "MCE", "VC", "VC2" ("" otherwise).
  std::string ist;
  VirtAddr base;  // lowest address
  uint64_t size = 0;
  VirtAddr top() const { return base + size; }
};

// One CPU's stacks, in the order IRQ, exception stacks, entry stack. A stack
// whose per-CPU pointer cannot be read is left out and named in `problems`;
// one the CPU never set up (a null pointer) is left out silently.
struct CpuStacks {
  std::vector<CpuStack> stacks;
  std::vector<std::string> problems;
};
CpuStacks read_cpu_stacks(const Kernel& k, int cpu);

}  // namespace kdive
