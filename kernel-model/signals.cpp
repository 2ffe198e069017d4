#include "kernel-model/signals.hpp"

#include <fmt/format.h>

#include <array>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/object_links.hpp"

namespace kdive {
namespace {

// More queued signals than this on one list means the links loop: the
// kernel caps queued signals per user by RLIMIT_SIGPENDING, far below it.
constexpr size_t kMaxQueued = 1u << 16;

// x86_64's TIF_SIGPENDING (arch/x86/include/asm/thread_info.h): a macro, not
// in DWARF, and the same bit on every kernel kdive reads.
constexpr uint64_t kTifSigpending = 1ull << 2;

uint64_t sigset(const Object& set) {
  // sigset_t is unsigned long sig[_NSIG_WORDS]: one word on x86_64.
  return set["sig"].at(0).as_u64();
}

PendingSignals read_pending(const Kernel& k, const Object& pending) {
  PendingSignals p;
  p.signal = sigset(pending["signal"]);
  const Type& sigqueue = k.types().require("struct sigqueue");
  const uint64_t info = member_offset(sigqueue, "info");
  Walked<VirtAddr> w = walk_list(k.memory(), pending["list"].address(), member_offset(sigqueue, "list"), kMaxQueued);
  p.queue.breaks = std::move(w.breaks);
  for (VirtAddr q : w.entries) {
    QueuedSignal s{.sigqueue = q, .siginfo = q + info, .signo = 0};
    // si_signo is the first member of every siginfo layout (kernel_siginfo
    // since 4.20, siginfo before): read it there rather than through the
    // anonymous unions around it.
    try {
      s.signo = static_cast<int>(k.memory().read<uint32_t>(s.siginfo));
    } catch (const ModelError&) {
      s.signo = -1;
    }
    p.queue.entries.push_back(s);
  }
  return p;
}

}  // namespace

TaskSignals read_task_signals(const Kernel& k, VirtAddr task) {
  Object t = k.object(task, "struct task_struct");
  TaskSignals s;
  s.signal_struct = t["signal"].pointer();
  s.sighand = t["sighand"].pointer();
  s.blocked = sigset(t["blocked"]);
  // thread_info sits in task_struct on x86_64 since 4.9 (THREAD_INFO_IN_TASK).
  if (t.has_member("thread_info.flags")) s.sigpending = (t["thread_info"]["flags"].as_u64() & kTifSigpending) != 0;
  s.pending = read_pending(k, t["pending"]);
  if (!s.signal_struct.is_null()) {
    Object sig = t["signal"].deref();
    s.nr_threads = sig["nr_threads"].as_i64();
    s.shared = read_pending(k, sig["shared_pending"]);
  }
  if (!s.sighand.is_null()) {
    Object action = t["sighand"]["action"];
    for (int i = 0; i < kSignalCount; ++i) {
      Object a = action.at(static_cast<uint64_t>(i));
      SignalAction sa{.signo = i + 1,
                      .sigaction = a.address(),
                      .handler = a["sa"]["sa_handler"].as_u64(),
                      .flags = a["sa"]["sa_flags"].as_u64(),
                      .mask = sigset(a["sa"]["sa_mask"])};
      // As /proc/PID/status computes SigIgn and SigCgt (collect_sigign_sigcatch).
      if (sa.handler == 1) {
        s.ignored |= 1ull << i;
      } else if (sa.handler != 0) {
        s.caught |= 1ull << i;
      }
      s.actions.push_back(sa);
    }
  }
  return s;
}

std::string signal_name(int signo) {
  static constexpr std::array<const char*, 32> kClassic = {
      "",         "SIGHUP",        "SIGINT",    "SIGQUIT",         "SIGILL",  "SIGTRAP",   "SIGABRT/SIGIOT",
      "SIGBUS",   "SIGFPE",        "SIGKILL",   "SIGUSR1",         "SIGSEGV", "SIGUSR2",   "SIGPIPE",
      "SIGALRM",  "SIGTERM",       "SIGSTKFLT", "SIGCHLD/SIGCLD",  "SIGCONT", "SIGSTOP",   "SIGTSTP",
      "SIGTTIN",  "SIGTTOU",       "SIGURG",    "SIGXCPU",         "SIGXFSZ", "SIGVTALRM", "SIGPROF",
      "SIGWINCH", "SIGIO/SIGPOLL", "SIGPWR",    "SIGSYS/SIGUNUSED"};
  if (signo < 1 || signo > kSignalCount) return "";
  if (signo < 32) return kClassic[static_cast<size_t>(signo)];
  // The real-time signals are named from both ends, as crash names them:
  // SIGRTMIN+N up to 48, SIGRTMAX-N from 49.
  if (signo == 32) return "SIGRTMIN";
  if (signo == kSignalCount) return "SIGRTMAX";
  if (signo <= 48) return fmt::format("SIGRTMIN+{}", signo - 32);
  return fmt::format("SIGRTMAX-{}", kSignalCount - signo);
}

std::vector<std::string> signal_names(uint64_t set) {
  std::vector<std::string> out;
  for (int i = 0; i < kSignalCount; ++i) {
    if (set >> i & 1) out.push_back(signal_name(i + 1));
  }
  return out;
}

std::string sigaction_flag_names(uint64_t flags) {
  // include/uapi/asm-generic/signal-defs.h and x86's SA_RESTORER, in the
  // order crash names them (SA_RESTORER first).
  static constexpr std::array<std::pair<uint64_t, const char*>, 10> kFlags = {{{0x04000000, "SA_RESTORER"},
                                                                               {0x1, "SA_NOCLDSTOP"},
                                                                               {0x2, "SA_NOCLDWAIT"},
                                                                               {0x4, "SA_SIGINFO"},
                                                                               {0x400, "SA_UNSUPPORTED"},
                                                                               {0x800, "SA_EXPOSE_TAGBITS"},
                                                                               {0x08000000, "SA_ONSTACK"},
                                                                               {0x10000000, "SA_RESTART"},
                                                                               {0x40000000, "SA_NODEFER"},
                                                                               {0x80000000, "SA_RESETHAND"}}};
  std::string out;
  uint64_t rest = flags;
  for (const auto& [bit, name] : kFlags) {
    if (!(flags & bit)) continue;
    out += (out.empty() ? "" : "|") + std::string(name);
    rest &= ~bit;
  }
  if (rest != 0) out += fmt::format("{}{:x}", out.empty() ? "" : "|", rest);
  return out;
}

}  // namespace kdive
