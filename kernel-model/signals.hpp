// A task's signal state, as /proc/PID/status summarizes it (SigPnd, ShdPnd,
// SigBlk, SigIgn, SigCgt) and crash's sig shows it in full: the handlers of
// its sighand_struct (one k_sigaction per signal), the signals pending for the
// thread and for its whole group with their queued siginfos, and the mask it
// blocks. Signal N is bit N-1 of a sigset, as in the kernel.
//
//   TaskSignals s = read_task_signals(kernel, task.address);
//   s.blocked;                  // SigBlk
//   s.shared.signal;            // ShdPnd
//   s.actions[8].handler;       // signal 9's handler (SIG_DFL is 0)
//   signal_names(1ull << 14);   // {"SIGTERM"}
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

constexpr int kSignalCount = 64;  // _NSIG on x86_64

struct SignalAction {
  int signo = 0;
  VirtAddr sigaction;    // the struct k_sigaction in sighand->action[]
  uint64_t handler = 0;  // sa.sa_handler: 0 SIG_DFL, 1 SIG_IGN, else a user address
  uint64_t flags = 0;    // sa.sa_flags (SA_*)
  uint64_t mask = 0;     // sa.sa_mask
};

struct QueuedSignal {
  VirtAddr sigqueue;  // struct sigqueue
  VirtAddr siginfo;   // its info (crash's SIGINFO column)
  int signo = 0;
};

struct PendingSignals {
  uint64_t signal = 0;  // the pending set
  Walked<QueuedSignal> queue;
};

struct TaskSignals {
  VirtAddr signal_struct, sighand;
  int64_t nr_threads = 0;
  std::vector<SignalAction> actions;  // kSignalCount of them; empty without a sighand
  bool sigpending = false;            // TIF_SIGPENDING in the thread's flags
  uint64_t blocked = 0;
  PendingSignals pending;            // the thread's own (task->pending)
  PendingSignals shared;             // the group's (signal->shared_pending)
  uint64_t ignored = 0, caught = 0;  // SigIgn and SigCgt, from the handlers
};

// Throws Error/Fault when the task_struct, its signal_struct or its
// sighand_struct cannot be read; a damaged sigqueue list is a break in its
// queue instead.
TaskSignals read_task_signals(const Kernel& k, VirtAddr task);

// crash's names for signal 1..64: "SIGHUP", "SIGABRT/SIGIOT", "SIGRTMIN+3",
// "SIGRTMAX-1". "" outside 1..64.
std::string signal_name(int signo);
// The names of the signals in a sigset, in signal order.
std::vector<std::string> signal_names(uint64_t set);
// The SA_* flags of a sigaction by name ("SA_RESTORER", "SA_SIGINFO|SA_RESTART"),
// bits without a name in hex at the end.
std::string sigaction_flag_names(uint64_t flags);

}  // namespace kdive
