// Backtraces of kernel tasks on x86_64: where each task's starting registers
// come from (the dump's NT_PRSTATUS notes, the kernel's per-CPU crash_notes,
// a sleeping task's inactive_task_frame, or a search of the panic task's stack)
// and the ORC unwinder that walks from there across the task, IRQ and
// exception stacks through interrupt and exception register blocks to the
// entry from user space. A dump comes from a kernel that just failed: a garbage
// stack pointer, a missing page or a corrupt ORC entry ends that one backtrace
// with `stop` saying why; nothing here throws for damage, and every walk is
// bounded.
//
//   Unwinder unwinder(kernel);                   // once per command: tables read once
//   for (const Task& t : kernel.tasks().all) {
//     Backtrace bt = unwinder.backtrace(t);
//     for (const Frame& f : bt.frames) {
//       auto sym = kernel.symbol_at(f.lookup_ip());  // the name; offset: f.ip - its address
//       print("#{} [{:x}] {} at {:x}", i, f.sp, ..., f.ip);
//       if (f.regs) print the register block (f.user_regs: the user-mode one)
//     }
//     if (!bt.stop.empty()) print("(damaged: {})", bt.stop);
//   }
//   if (!bt.stop.empty()) unwinder.scan_after_stop(t, bt);  // then guessed frames
//   Backtrace b = backtrace(kernel, task);           // one task, tables read for it
//   Backtrace c = unwinder.backtrace_from(task, ip, sp);  // bt -I IP -S SP
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/orc_table.hpp"
#include "readers/address.hpp"
#include "readers/dump_notes.hpp"

namespace kdive {

class Kernel;
struct Task;

struct Frame {
  // The stack slot of this frame as crash prints it ("#1 [ffffc900...]"): for
  // every frame but the first, where its return address `ip` was read; for
  // the first, the starting stack pointer (a sleeping task: thread.sp, where
  // its inactive_task_frame begins); for the frame after a register block,
  // that block's saved rsp.
  VirtAddr sp;
  // The instruction address: the starting rip, a return address, or the rip
  // saved in a register block.
  VirtAddr ip;
  // The stack `sp` lies on: "task", "irq", "nmi", "#DF", "#DB", "#MC", "#VC",
  // "#VC2", "entry" (the CPU's entry trampoline stack). Commands print a
  // "--- <IRQ stack> ---" line where it changes.
  std::string stack;
  // The pt_regs block this frame's code saved (an interrupt, exception or
  // system-call entry: asm_sysvec_*, asm_exc_*, entry_SYSCALL_64...). When it
  // is a kernel-mode block the next frame is the interrupted code (crash's
  // "[exception RIP: ...]"); a user-mode block is the last frame.
  std::optional<X86Registers> regs;
  VirtAddr regs_address;      // where `regs` was read
  bool partial_regs = false;  // only the hardware iret frame (rip cs eflags rsp ss) is meaningful
  bool user_regs = false;     // `regs` is the user-mode block at the top of the task stack
  // `ip` is a return address (read from the stack), not where execution was:
  // a call as a function's last instruction returns past its end, so name the
  // frame by ip - 1 (the kernel's %pB does the same): lookup_ip().
  bool return_address = false;
  VirtAddr lookup_ip() const { return return_address ? ip - 1 : ip; }
  // Found by scanning the stack for text addresses (the last resort, after
  // the ORC unwind stopped), not by unwinding: may be stale.
  bool guessed = false;
  // Found without the previous frame's own exact ORC rule, yet checked (a
  // return address just after a call, from which exact unwinding goes on):
  // how. "found on the stack": the unwind resynchronised on this return
  // address (a kexec dump's panic CPU, whose saved rip has no ORC entry; a
  // CPU the crash NMI stopped); "caller found with the ORC entry at ...":
  // an earlier entry of the function stood in for an undefined one. Empty
  // for an exact frame. Only this one frame is marked: the frames after it
  // are unwound exactly from it.
  std::string recovered;
};

struct Backtrace {
  std::vector<Frame> frames;
  // Why the unwind ended before a natural end (user entry, ret_from_fork, the
  // idle task's start), or "": "no ORC entry for ffffffffc0a01234",
  // "stack pointer ffff8880... is on none of the task's stacks",
  // "stack at ffffc900... not in the dump". `frames` holds what was reached.
  std::string stop;
  // Where the starting registers came from: "NT_PRSTATUS of CPU 0",
  // "crash_notes of CPU 1", "thread.sp (inactive_task_frame)", "-I/-S",
  // "panic frame found on the stack at ... (no registers for CPU 0)".
  std::string start;
  // The task's CPU when it was running on it at the crash (active), else -1.
  int cpu = -1;
  // The registers the unwind started from, for a debugger that unwinds on its
  // own (the embedded GDB): a full set from a note; for a sleeping task or a
  // frame found on the stack, rip, rsp and rbp (the rest 0). nullopt when the
  // unwind had no start.
  std::optional<X86Registers> start_regs;
};

// The unwinder's per-kernel state: the vmlinux's ORC table (in place in the
// mapped file), each module's ORC table read from memory on first use, the
// orc_entry layout probed from DWARF, and each CPU's stack ranges. Hold one
// for all the backtraces of a command so nothing is read again per task.
class Unwinder {
 public:
  explicit Unwinder(const Kernel& kernel);
  ~Unwinder();
  Unwinder(const Unwinder&) = delete;
  Unwinder& operator=(const Unwinder&) = delete;

  // The task's backtrace: an active task from its CPU's registers (the
  // dump's notes, then crash_notes, then a search of its stack for panic's
  // frames), a sleeping one from thread.sp.
  Backtrace backtrace(const Task& task) const;
  // From given registers (bt -I IP -S SP); rbp unknown (0).
  Backtrace backtrace_from(const Task& task, uint64_t ip, uint64_t sp) const;
  // From a full register set (an exception frame found by bt -e, a test).
  Backtrace backtrace_from_registers(const Task& task, const X86Registers& regs, std::string start) const;

  // The ranges of the stacks a task may run on: its task stack and, for the
  // CPU it is active on, that CPU's IRQ, exception and entry stacks.
  struct StackRange {
    std::string name;  // as Frame::stack
    VirtAddr begin;
    VirtAddr end;  // one past the last byte
    bool contains(VirtAddr a) const { return a >= begin && a < end; }
  };
  std::vector<StackRange> stacks_of(const Task& task) const;

  // The last resort after a backtrace stopped on damage: appends `guessed`
  // frames from the rest of the stack the last frame was on (from the task
  // stack's start when there is none). The first return address there (a
  // text address just after a call instruction) from which the ORC unwind
  // reaches the stack's natural end gives that unwind's frames; when none
  // does, every such return address, at most `max`, stale ones included.
  void scan_after_stop(const Task& task, Backtrace& bt, size_t max = 64) const;

  // The ORC entry that describes `ip` (vmlinux or module text), or why there
  // is none ("ffffffffc0123456 is not kernel text", "no ORC entry for ...").
  std::optional<OrcEntry> orc_entry(VirtAddr ip, std::string& why) const;

  // Problems met while setting up (no ORC in the vmlinux, unreadable per-CPU
  // stacks): each also shows in `stop` of the backtraces it spoils.
  const std::vector<std::string>& problems() const;

  struct State;

 private:
  // A CPU the crash NMI stopped (kexec dumps): its note holds the user-mode
  // registers the NMI interrupted, and it halted in crash_nmi_callback on the
  // task stack. The frames from a return address into that handler, when
  // exact unwinding from there reaches a register block equal to `saved`;
  // else nullopt. The first frame is marked `recovered`.
  std::optional<Backtrace> halted_in_crash_nmi(const Task& task, const X86Registers& saved,
                                               const std::string& source) const;

  std::unique_ptr<State> state_;
};

// One task's backtrace with an Unwinder made for it (fine for one task; for
// many, hold an Unwinder).
Backtrace backtrace(const Kernel& kernel, const Task& task);
Backtrace backtrace_from(const Kernel& kernel, const Task& task, uint64_t ip, uint64_t sp);

}  // namespace kdive
