// A search of kernel stacks for possible exception frames: the `struct
// pt_regs` blocks that interrupts, exceptions and system calls save (crash's
// bt -e and bt -E). Unlike the unwinder, which only meets the register blocks
// on its path, this looks at every 8-byte slot of a whole stack, so it also
// finds the blocks of a trace that the unwinder could not follow, and stale
// ones left by an earlier interrupt: the results are candidates that look
// like a pt_regs, not proof that one was saved there.
//
//   Unwinder unwinder(kernel);
//   for (const StackSearch& s : search_task_stack(kernel, unwinder, task)) {      // bt -e
//     for (const ExceptionFrame& f : s.found.entries)
//       print("{} EXCEPTION FRAME AT: {:x}", f.user_mode ? "USER-MODE" : "KERNEL-MODE", f.address);
//     for (const WalkBreak& b : s.found.breaks) print("(damaged: {})", b.describe());
//   }
//   std::vector<StackSearch> cpu0 = search_cpu_stacks(kernel, unwinder, 0);       // bt -E
#pragma once

#include <string>
#include <vector>

#include "kernel-model/backtrace.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"
#include "readers/dump_notes.hpp"

namespace kdive {

class Kernel;
struct Task;

struct ExceptionFrame {
  VirtAddr address;   // where the pt_regs begins (its r15 slot)
  std::string stack;  // the stack it lies on, named as Frame::stack ("task", "irq", "nmi", "#DF", ...)
  bool user_mode = false;
  // The 21 pt_regs words (r15 ... ss); fs_base and the segment registers
  // after ss are not in a pt_regs and stay 0.
  X86Registers regs{};
};

// One searched stack: its range and the frames found on it, lowest address
// first, with a break for each page of it that the dump does not hold (the
// search goes on on the next page).
struct StackSearch {
  Unwinder::StackRange range;
  Walked<ExceptionFrame> found;
  // The #VC stacks of AMD SEV-ES guests are in every CPU's exception stack
  // area but only mapped when the guest runs encrypted: not one page of the
  // stack is mapped, so it holds nothing and is no damage (found is empty).
  bool unmapped = false;
};

// Every 8-byte slot of `range` where a plausible pt_regs begins. `known` are
// the stacks the interrupted code may have run on (the task's and its CPU's):
// a kernel-mode frame's saved rsp must lie on one of them.
StackSearch find_exception_frames(const Kernel& kernel, const Unwinder::StackRange& range,
                                  const std::vector<Unwinder::StackRange>& known);

// bt -e: the task's own kernel stack, the whole of it (one search, or none
// when the task has no stack).
std::vector<StackSearch> search_task_stack(const Kernel& kernel, const Unwinder& unwinder, const Task& task);

// bt -E: the CPU's IRQ stack, its exception (IST) stacks, its entry
// trampoline stack, then the stack of the task running on it, in that order.
// Empty when no task is recorded as running on the CPU.
std::vector<StackSearch> search_cpu_stacks(const Kernel& kernel, const Unwinder& unwinder, int cpu);

}  // namespace kdive
