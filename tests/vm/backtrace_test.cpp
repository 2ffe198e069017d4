// The ORC unwinder on real kernels: every task of the fixture unwinds to its
// natural end (user entry, ret_from_fork, the idle task's start) with no
// damage reported; the panic task's frames contain the console's own
// Call Trace; the other CPU unwinds from the stop IPI into user space; a
// zeroed stack ends only its own backtrace; without CPU notes the panic task
// is found from panic's frame on its stack.
#include "kernel-model/backtrace.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "console_log.hpp"
#include "dump_edit.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/orc_rules.hpp"
#include "kernel-model/orc_table.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive;
using namespace kdive::test;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<Kernel> open_kernel(const fs::path& vmlinux, const fs::path& dump) {
  return Kernel::open(vmlinux, {dump.string()});
}

std::unique_ptr<Kernel> open_fixture() {
  fs::path dir = fixture_dir(suite());
  return open_kernel(dir / "vmlinux", dir / "vmcore.elf");
}

std::string name_of(const Kernel& k, VirtAddr ip) {
  auto hit = k.symbol_at(ip);
  return hit ? std::string(hit->symbol->name) : fmt::format("{:x}", ip);
}

std::vector<std::string> names(const Kernel& k, const Backtrace& bt) {
  std::vector<std::string> out;
  for (const Frame& f : bt.frames) out.push_back(name_of(k, f.lookup_ip()));
  return out;
}

std::string describe(const Kernel& k, const Task& t, const Backtrace& bt) {
  std::string s = fmt::format("pid {} {} cpu {} start: {}\n", t.pid, t.comm, t.cpu, bt.start);
  for (size_t i = 0; i < bt.frames.size(); ++i) {
    const Frame& f = bt.frames[i];
    s += fmt::format(" #{} [{:x}] {} {} at {:x}{}\n", i, f.sp, f.stack, name_of(k, f.lookup_ip()), f.ip,
                     f.regs ? (f.user_regs ? " (user regs)" : " (kernel regs)") : "");
  }
  if (!bt.stop.empty()) s += "stop: " + bt.stop + "\n";
  return s;
}

// Whether `needle` appears in `hay` in order, not necessarily adjacent.
bool subsequence(const std::vector<std::string>& needle, const std::vector<std::string>& hay) {
  size_t j = 0;
  for (const std::string& h : hay) {
    if (j < needle.size() && h == needle[j]) ++j;
  }
  return j == needle.size();
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The console's trace of the crash, without the "?" (unreliable) entries:
// the last Call Trace with panic in it, from panic down; else (an oops that
// then panics without a trace) the last oops trace, from the function in its
// "RIP: 0010:" line. Kernel-mode RIP lines inside a trace are frames too
// (the interrupted function); the user-mode RIP is kept apart.
struct ConsoleTrace {
  std::vector<std::string> frames;
  std::optional<uint64_t> user_rip;
  bool irq = false;                           // the trace has an <IRQ> part
  std::map<std::string, std::string> module;  // function -> its module, "name+0x12/0x20 [module]"
};

ConsoleTrace console_crash_trace(const fs::path& dir) {
  std::vector<ConsoleTrace> traces;
  std::optional<std::string> oops_rip;  // the faulting function of an Oops header
  bool in_trace = false;
  auto function_of = [&](const std::string& text) {
    std::string name = text.substr(0, text.find('+'));
    size_t open = text.rfind(" [");
    if (open != std::string::npos && text.ends_with("]") && !traces.empty()) {
      traces.back().module[name] = text.substr(open + 2, text.size() - open - 3);
    }
    return name;
  };
  for (const ConsoleLine& l : console_kernel_lines(dir)) {
    std::string t = l.text;
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    if (t.starts_with("Call Trace:")) {
      in_trace = true;
      traces.emplace_back();
      if (oops_rip) traces.back().frames.push_back(oops_rip->substr(0, oops_rip->find('+')));
      if (oops_rip) function_of(*oops_rip);
      oops_rip.reset();
      continue;
    }
    if (t.starts_with("---[ end") || t.starts_with("Kernel Offset:")) in_trace = false;
    if (t.starts_with("RIP: 0010:")) {
      if (in_trace) {
        traces.back().frames.push_back(function_of(t.substr(10)));
      } else {
        oops_rip = t.substr(10);
      }
      continue;
    }
    if (!in_trace) continue;
    if (t.starts_with("RIP: 0033:0x")) {
      traces.back().user_rip = std::stoull(t.substr(12), nullptr, 16);
    } else if (t.starts_with("<IRQ>")) {
      traces.back().irq = true;
    } else if (t.starts_with("<") || t.starts_with("?") || t.find(": ") != std::string::npos) {
      continue;  // <TASK>, </IRQ>, unreliable entries, register lines
    } else if (t.find('+') != std::string::npos && t.find(' ') == std::string::npos) {
      traces.back().frames.push_back(function_of(t));
    } else if (t.find("+0x") != std::string::npos && t.ends_with("]")) {
      traces.back().frames.push_back(function_of(t));  // "name+0x12/0x20 [module]"
    }
  }
  for (auto it = traces.rbegin(); it != traces.rend(); ++it) {
    auto panic = std::find(it->frames.begin(), it->frames.end(), "panic");
    if (panic != it->frames.end()) {
      it->frames.erase(it->frames.begin(), panic);
      return *it;
    }
  }
  return traces.empty() ? ConsoleTrace{} : traces.back();
}

}  // namespace

TEST_CASE("every task unwinds to its natural end", "[backtrace]") {
  auto k = open_fixture();
  Unwinder u(*k);
  Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  size_t unwound = 0, to_user = 0, kthreads = 0, idle = 0;
  std::set<int64_t> clean;  // pids whose backtrace reached its natural end
  const std::set<std::string> idle_starts = {"secondary_startup_64", "secondary_startup_64_no_verify",
                                             "common_startup_64",    "start_kernel",
                                             "x86_64_start_kernel",  "x86_64_start_reservations"};
  for (const Task& t : k->tasks().all) {
    if (!t.damage.empty() || t.exit_state != 0) continue;  // a zombie has no stack left
    Backtrace bt = u.backtrace(t);
    INFO(describe(*k, t, bt));
    CHECK(bt.stop.empty());
    REQUIRE_FALSE(bt.frames.empty());
    std::vector<std::string> n = names(*k, bt);
    const Frame& last = bt.frames.back();
    if (t.idle) {
      CHECK(idle_starts.count(n.back()) == 1);
      ++idle;
    } else if (t.is_kernel_thread()) {
      CHECK((n.back() == "ret_from_fork" || n.back() == "ret_from_fork_asm"));
      ++kthreads;
    } else {
      // A user task is in the kernel through a system call or an interrupt,
      // and its last frame holds the user-mode registers.
      CHECK(last.user_regs);
      REQUIRE(last.regs);
      CHECK((last.regs->cs & 3) == 3);
      if (!t.active) {
        CHECK((contains(n, "schedule") || contains(n, "__schedule")));
        CHECK(contains(n, "do_syscall_64"));
      }
      ++to_user;
    }
    ++unwound;
    if (bt.stop.empty()) clean.insert(t.pid);
  }
  INFO(fmt::format("{} tasks: {} to user space, {} kernel threads, {} idle", unwound, to_user, kthreads, idle));
  // Every CPU's idle task, and every task the guest listed before the crash
  // (a kworker may have exited since) unwound cleanly.
  CHECK(idle == static_cast<size_t>(truth.cpus));
  size_t truth_checked = 0, truth_user = 0;
  for (const auto& tt : truth.tasks) {
    if (tt.comm.rfind("kworker/", 0) == 0 && !clean.count(tt.pid)) continue;
    INFO("truth task " << tt.pid << " " << tt.comm);
    CHECK(clean.count(tt.pid) == 1);
    ++truth_checked;
    truth_user += tt.comm != "kthreadd" && tt.ppid != 2 && tt.pid != 2;
  }
  CHECK(truth_checked + 10 >= truth.tasks.size());  // the kworkers that came and went: a few at most
  CHECK(to_user >= truth_user);
  CHECK(kthreads > 0);
}

TEST_CASE("the panic task's frames contain the console's Call Trace", "[backtrace]") {
  auto k = open_fixture();
  auto cpu = k->panic_cpu();
  REQUIRE(cpu);
  const Task* t = k->tasks().active_on(*cpu);
  REQUIRE(t);
  Backtrace bt = Unwinder(*k).backtrace(*t);
  INFO(describe(*k, *t, bt));
  CHECK(bt.stop.empty());
  CHECK(bt.start == fmt::format("NT_PRSTATUS of CPU {}", *cpu));
  ConsoleTrace console = console_crash_trace(fixture_dir(suite()));
  INFO("console: " << fmt::format("{}", fmt::join(console.frames, " ")));
  REQUIRE(console.frames.size() >= 3);
  CHECK(subsequence(console.frames, names(*k, bt)));
  if (t->idle) {
    // A panic in an interrupt of the idle task: down to the idle task's start.
    CHECK_FALSE(bt.frames.back().regs);
  } else {
    // The task entered the kernel from user space: the same block the console printed.
    REQUIRE(bt.frames.back().user_regs);
    REQUIRE(console.user_rip);
    CHECK(bt.frames.back().regs->rip == *console.user_rip);
  }
  if (console.irq) {
    // The panic ran on the IRQ stack and the unwind crossed back to the task's.
    auto irq = std::find_if(bt.frames.begin(), bt.frames.end(), [](const Frame& f) { return f.stack == "irq"; });
    REQUIRE(irq != bt.frames.end());
    CHECK(std::find_if(irq, bt.frames.end(), [](const Frame& f) { return f.stack == "task"; }) != bt.frames.end());
  }
  if (recipe(suite()).kexec) {
    // The capture kernel took over from __crash_kexec (panic -> __crash_kexec):
    // the NT_PRSTATUS rip is crash_setup_regs()'s label there, where ORC is
    // undefined (objtool gave this __crash_kexec no entries). The unwind
    // resynchronises on panic's return address, the first above the saved
    // rsp whose call went to __crash_kexec (marked: only that frame), and is
    // exact from there to the system call.
    Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
    CHECK(t->pid == truth.role("panic"));
    std::vector<std::string> n = names(*k, bt);
    const std::vector<std::string> top = {"__crash_kexec", "panic", "sysrq_handle_crash", "__handle_sysrq.cold",
                                          "write_sysrq_trigger"};
    REQUIRE(n.size() > top.size());
    CHECK(std::vector<std::string>(n.begin(), n.begin() + static_cast<std::ptrdiff_t>(top.size())) == top);
    CHECK(n.back().starts_with("entry_SYSCALL_64"));
    CHECK(bt.frames.front().ip.value() == k->dump().notes().cpus.at(*cpu).prstatus->regs.rip);
    for (size_t i = 0; i < bt.frames.size(); ++i) {
      INFO("frame " << i);
      CHECK_FALSE(bt.frames[i].guessed);
      CHECK(bt.frames[i].recovered.empty() == (i != 1));
    }
  }
  // Module frames unwind through the module's in-memory ORC table and are
  // named from its in-memory symbols, with the module the console names.
  for (const auto& [function, module] : console.module) {
    INFO("module function " << function << " [" << module << "]");
    auto f = std::find_if(bt.frames.begin(), bt.frames.end(), [&](const Frame& fr) {
      auto hit = k->symbol_at(fr.lookup_ip());
      return hit && hit->symbol->name == function;
    });
    REQUIRE(f != bt.frames.end());
    CHECK(k->symbol_at(f->lookup_ip())->symbol->module == module);
  }
}

TEST_CASE("the other CPU unwinds from the stop IPI into user space", "[backtrace]") {
  if (recipe(suite()).kexec) KDIVE_SKIP("a kexec dump's other CPU was stopped by the crash NMI: the next test");
  auto k = open_fixture();
  auto panic_cpu = k->panic_cpu();
  REQUIRE(panic_cpu);
  Unwinder u(*k);
  size_t checked = 0;
  for (int cpu = 0; cpu < static_cast<int>(k->tasks().active.size()); ++cpu) {
    if (cpu == *panic_cpu) continue;
    const Task* t = k->tasks().active_on(cpu);
    REQUIRE(t);
    Backtrace bt = u.backtrace(*t);
    INFO(describe(*k, *t, bt));
    CHECK(bt.stop.empty());
    CHECK(bt.start == fmt::format("NT_PRSTATUS of CPU {}", cpu));
    std::vector<std::string> n = names(*k, bt);
    CHECK(subsequence({"stop_this_cpu", "sysvec_reboot", "asm_sysvec_reboot"}, n));
    if (!t->idle) CHECK(bt.frames.back().user_regs);
    ++checked;
  }
  CHECK(checked + 1 == k->tasks().active.size());
}

TEST_CASE("a CPU the crash NMI stopped unwinds from crash_nmi_callback to its saved registers", "[backtrace]") {
  // kexec dumps: nmi_shootdown_cpus() stops the other CPUs with an NMI whose
  // handler saves the registers it interrupted into crash_notes and halts.
  // These CPUs ran user code (the guest's busy loop), so the NMI ran on the
  // task stack and its note holds the user-mode registers.
  if (!recipe(suite()).kexec) KDIVE_SKIP("only a kexec dump's other CPUs were stopped by the crash NMI");
  auto k = open_fixture();
  auto panic_cpu = k->panic_cpu();
  REQUIRE(panic_cpu);
  Unwinder u(*k);
  size_t checked = 0;
  for (int cpu = 0; cpu < static_cast<int>(k->tasks().active.size()); ++cpu) {
    if (cpu == *panic_cpu) continue;
    const Task* t = k->tasks().active_on(cpu);
    REQUIRE(t);
    const auto& notes = k->dump().notes().cpus;
    REQUIRE(static_cast<size_t>(cpu) < notes.size());
    REQUIRE(notes[cpu].prstatus);
    const X86Registers& saved = notes[cpu].prstatus->regs;
    REQUIRE((saved.cs & 3) == 3);
    Backtrace bt = u.backtrace(*t);
    INFO(describe(*k, *t, bt));
    CHECK(bt.stop.empty());
    CHECK(bt.start.starts_with("crash_nmi_callback's frame found on the task stack"));
    std::vector<std::string> n = names(*k, bt);
    REQUIRE_FALSE(n.empty());
    CHECK(n.front() == "crash_nmi_callback");
    CHECK(subsequence({"crash_nmi_callback", "default_do_nmi", "exc_nmi", "asm_exc_nmi"}, n));
    CHECK(n.back() == "asm_exc_nmi");
    // Only the frame found on the stack is marked; none is guessed.
    for (size_t i = 0; i < bt.frames.size(); ++i) {
      INFO("frame " << i);
      CHECK_FALSE(bt.frames[i].guessed);
      CHECK(bt.frames[i].recovered.empty() == (i != 0));
    }
    // The user-mode block at the top of the task stack is the note's registers.
    const Frame& last = bt.frames.back();
    REQUIRE(last.user_regs);
    REQUIRE(last.regs);
    auto ranges = u.stacks_of(*t);
    auto task_stack = std::find_if(ranges.begin(), ranges.end(), [](const auto& r) { return r.name == "task"; });
    REQUIRE(task_stack != ranges.end());
    CHECK(last.regs_address == task_stack->end - kPtRegsSize);
    CHECK(std::memcmp(&*last.regs, &saved, kPtRegsSize) == 0);
    ++checked;
  }
  CHECK(checked + 1 == k->tasks().active.size());
}

TEST_CASE("a zeroed stack ends its own backtrace, no other", "[backtrace]") {
  Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  const int64_t sleeper = truth.role("sleeper");
  DamagedDump d = DamagedDump::copy_of(suite());
  VirtAddr victim;
  {
    auto k = open_fixture();
    const Task* t = k->tasks().by_pid(sleeper);
    REQUIRE(t);
    REQUIRE_FALSE(t->active);
    victim = t->address;
    // From thread.sp to the top of the stack: the saved frame and every caller.
    VirtAddr from{t->kernel_sp};
    d.zero(from, t->stack + 16384 - from);
  }
  auto k = open_kernel(d.vmlinux(), d.path());
  Unwinder u(*k);
  size_t others = 0;
  for (const Task& t : k->tasks().all) {
    if (!t.damage.empty() || t.exit_state != 0) continue;
    Backtrace bt = u.backtrace(t);
    INFO(describe(*k, t, bt));
    if (t.address == victim) {
      CHECK_FALSE(bt.stop.empty());
      // Nothing is left above thread.sp to guess from: the zeroed range.
      size_t before = bt.frames.size();
      u.scan_after_stop(t, bt);
      CHECK(bt.frames.size() == before);
    } else {
      CHECK(bt.stop.empty());
      ++others;
    }
  }
  CHECK(others > 10);
}

TEST_CASE("a garbage thread.sp or return address ends that backtrace with the reason", "[backtrace]") {
  Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  DamagedDump d = DamagedDump::copy_of(suite());
  VirtAddr bad_sp_task, bad_ret_task;
  {
    auto k = open_fixture();
    std::vector<const Task*> sleeping;
    for (const char* role : {"sleeper", "threaded", "files"}) {
      const Task* t = k->tasks().by_pid(truth.role(role));
      if (t && !t->active && std::find(sleeping.begin(), sleeping.end(), t) == sleeping.end()) sleeping.push_back(t);
    }
    REQUIRE(sleeping.size() >= 2);
    bad_sp_task = sleeping[0]->address;
    d.write_u64(bad_sp_task + member_offset(suite(), "struct task_struct", "thread.sp"), 0xdead000000001000);
    bad_ret_task = sleeping[1]->address;
    d.write_u64(VirtAddr{sleeping[1]->kernel_sp} + member_offset(suite(), "struct inactive_task_frame", "ret_addr"),
                0x4141414141414141);
  }
  auto k = open_kernel(d.vmlinux(), d.path());
  Unwinder u(*k);
  size_t others = 0;
  for (const Task& t : k->tasks().all) {
    if (!t.damage.empty() || t.exit_state != 0) continue;
    Backtrace bt = u.backtrace(t);
    INFO(describe(*k, t, bt));
    if (t.address == bad_sp_task) {
      CHECK(bt.stop.find("dead000000001000") != std::string::npos);
      CHECK(bt.stop.find("none of the task's stacks") != std::string::npos);
      CHECK(bt.frames.empty());
    } else if (t.address == bad_ret_task) {
      CHECK(bt.stop == "4141414141414141 is not kernel text");
      CHECK(bt.frames.size() == 1);
      // The stack above the broken return address still holds the callers:
      // the scan finds the system call path, each frame marked as guessed.
      u.scan_after_stop(t, bt);
      INFO(describe(*k, t, bt));
      REQUIRE(bt.frames.size() > 2);
      CHECK(bt.frames[1].guessed);
      CHECK(contains(names(*k, bt), "do_syscall_64"));
      CHECK(names(*k, bt).back() == "entry_SYSCALL_64_after_hwframe");
    } else {
      CHECK(bt.stop.empty());
      ++others;
    }
  }
  CHECK(others > 10);
}

TEST_CASE("the orc_entry layout is probed from DWARF", "[backtrace]") {
  auto k = open_fixture();
  OrcLayout l = OrcLayout::probe(k->types());
  Truth truth = Truth::load(fixture_dir(suite()) / "truth.txt");
  int major = 0, minor = 0;
  REQUIRE(std::sscanf(truth.release.c_str(), "%d.%d", &major, &minor) == 2);
  // 6.4 dropped `end` and widened `type` to 3 bits (x86,objtool: Split UNWIND_HINT_EMPTY in two).
  bool new_layout = major > 6 || (major == 6 && minor >= 4);
  CHECK(l.has_end_bit() == !new_layout);
  CHECK(l.type.width == (new_layout ? 3u : 2u));
  CHECK(l.sp_reg.bit == 32);
  CHECK(l.bp_reg.bit == 36);
}

TEST_CASE("at a function's first instruction the ORC entry is a call with the return address on top", "[backtrace]") {
  auto k = open_fixture();
  Unwinder u(*k);
  // The kernel's own functions, and each loaded module's from its in-memory
  // ORC table (modules' text has no entry in the vmlinux's table).
  std::vector<std::pair<std::string, VirtAddr>> functions;
  for (const char* name : {"panic", "schedule", "do_syscall_64", "vfs_write"}) {
    functions.emplace_back(name, k->symbol_address(name));
  }
  size_t module_functions = 0;
  for (const Module& m : k->modules().all()) {
    for (const Symbol& sym : m.symbols().all()) {
      if ((sym.type == 't' || sym.type == 'T') && sym.size > 16 && m.contains(sym.address)) {
        functions.emplace_back(fmt::format("{} [{}]", sym.name, m.name), sym.address);
        ++module_functions;
        break;
      }
    }
  }
  CHECK(module_functions == k->modules().all().size());
  CHECK(module_functions > 0);
  for (const auto& [name, address] : functions) {
    INFO(name << " at " << fmt::format("{:x}", address));
    std::string why;
    auto e = u.orc_entry(address, why);
    INFO(why);
    REQUIRE(e);
    CHECK(e->type == OrcType::Call);
    CHECK(e->sp_reg == static_cast<uint8_t>(OrcReg::Sp));
    CHECK(e->sp_offset == 8);
  }
}

TEST_CASE("each CPU's IRQ and exception stacks are found and in the dump", "[backtrace]") {
  auto k = open_fixture();
  Unwinder u(*k);
  for (int cpu = 0; cpu < static_cast<int>(k->tasks().active.size()); ++cpu) {
    const Task* t = k->tasks().active_on(cpu);
    REQUIRE(t);
    std::map<std::string, Unwinder::StackRange> by_name;
    for (const auto& r : u.stacks_of(*t)) by_name.emplace(r.name, r);
    for (const char* name : {"task", "irq", "nmi", "#DF", "#DB", "#MC", "entry"}) {
      INFO("CPU " << cpu << " stack " << name);
      REQUIRE(by_name.count(name) == 1);
      const auto& r = by_name.at(name);
      // THREAD_SIZE and IRQ_STACK_SIZE: 16 KiB; EXCEPTION_STKSZ: 8 KiB
      // (EXCEPTION_STACK_ORDER 1; no KASAN in these kernels).
      uint64_t size = std::string_view(name) == "task" || std::string_view(name) == "irq" ? 16384
                      : std::string_view(name) == "entry"                                 ? 0
                                                                                          : 8192;
      if (size) CHECK(r.end - r.begin == size);
      std::array<std::byte, 8> top{};
      CHECK_NOTHROW(k->memory().read(r.end - 8, top));
      CHECK_NOTHROW(k->memory().read(r.begin, top));
    }
  }
}

TEST_CASE("without CPU notes the panic task starts from panic's frame on its stack", "[backtrace]") {
  fs::path dir = fixture_dir(suite());
  TempDir tmp_dir("bt-notes");
  const fs::path& tmp = tmp_dir.path;
  copy_without_notes(dir / "vmcore.elf", tmp / "vmcore.elf", {"CORE", "QEMU"});
  {
    auto k = open_kernel(dir / "vmlinux", tmp / "vmcore.elf");
    auto cpu = k->panic_cpu();
    REQUIRE(cpu);
    const Task* t = k->tasks().active_on(*cpu);
    REQUIRE(t);
    Backtrace bt = Unwinder(*k).backtrace(*t);
    INFO(describe(*k, *t, bt));
    if (recipe(suite()).kexec) {
      // The kernel's own crash_notes still hold the note the dump lost.
      CHECK(bt.start == fmt::format("crash_notes of CPU {}", *cpu));
    } else {
      CHECK(bt.start.find("panic's frame found on the ") != std::string::npos);
    }
    CHECK(bt.stop.empty());
    ConsoleTrace console = console_crash_trace(dir);
    REQUIRE_FALSE(console.frames.empty());
    CHECK(subsequence(console.frames, names(*k, bt)));
  }
}

TEST_CASE("a kexec dump's registers come from the kernel's crash_notes", "[backtrace]") {
  // What crash_save_cpu() leaves in a kexec dump: the panic CPU's NT_PRSTATUS
  // note in its per-CPU crash_notes buffer. Written into a copy of the QEMU
  // dump, whose own CPU notes are then removed.
  fs::path dir = fixture_dir(suite());
  DamagedDump d = DamagedDump::copy_of(suite());
  int cpu = 0;
  std::vector<std::pair<VirtAddr, VirtAddr>> expected;  // (sp, ip) of each frame
  {
    auto k = open_fixture();
    REQUIRE(k->panic_cpu());
    cpu = *k->panic_cpu();
    const Task* t = k->tasks().active_on(cpu);
    REQUIRE(t);
    Backtrace bt = Unwinder(*k).backtrace(*t);
    REQUIRE(bt.stop.empty());
    for (const Frame& f : bt.frames) expected.emplace_back(f.sp, f.ip);
    const auto& notes = k->dump().notes().cpus;
    REQUIRE(static_cast<size_t>(cpu) < notes.size());
    REQUIRE(notes[cpu].prstatus);
    // Elf64_Nhdr{namesz 5, descsz 336, NT_PRSTATUS}, "CORE" padded to 8, then
    // struct elf_prstatus with pr_reg at 112; the buffer's zeros end the notes.
    std::vector<std::byte> note(12 + 8 + 336);
    auto put32 = [&](size_t at, uint32_t v) { std::memcpy(note.data() + at, &v, 4); };
    put32(0, 5);
    put32(4, 336);
    put32(8, 1);
    std::memcpy(note.data() + 12, "CORE", 4);
    std::memcpy(note.data() + 20 + 112, &notes[cpu].prstatus->regs, sizeof(X86Registers));
    VirtAddr buffer{k->memory().read<uint64_t>(k->symbol_address("crash_notes")) + k->per_cpu_offset(cpu)};
    d.write(buffer, note);
  }
  TempDir tmp_dir("bt-kexec");
  const fs::path& tmp = tmp_dir.path;
  copy_without_notes(d.path(), tmp / "vmcore.elf", {"CORE", "QEMU"});
  {
    auto k = open_kernel(d.vmlinux(), tmp / "vmcore.elf");
    const Task* t = k->tasks().active_on(cpu);
    REQUIRE(t);
    Backtrace bt = Unwinder(*k).backtrace(*t);
    INFO(describe(*k, *t, bt));
    CHECK(bt.start == fmt::format("crash_notes of CPU {}", cpu));
    CHECK(bt.stop.empty());
    std::vector<std::pair<VirtAddr, VirtAddr>> got;
    for (const Frame& f : bt.frames) got.emplace_back(f.sp, f.ip);
    CHECK(got == expected);
  }
}

TEST_CASE("the kdump-compressed dump gives the same backtraces as the ELF dump", "[backtrace]") {
  fs::path dir = fixture_dir(suite());
  auto elf = open_fixture();
  auto kdump = open_kernel(dir / "vmlinux", dir / "vmcore.kdump-zlib");
  Unwinder ue(*elf), uk(*kdump);
  size_t compared = 0;
  for (const Task& t : elf->tasks().all) {
    const Task* other = kdump->tasks().by_address(t.address);
    REQUIRE(other);
    Backtrace a = ue.backtrace(t), b = uk.backtrace(*other);
    INFO(describe(*elf, t, a) << describe(*kdump, *other, b));
    CHECK(a.start == b.start);
    CHECK(a.stop == b.stop);
    REQUIRE(a.frames.size() == b.frames.size());
    for (size_t i = 0; i < a.frames.size(); ++i) {
      CHECK(a.frames[i].sp == b.frames[i].sp);
      CHECK(a.frames[i].ip == b.frames[i].ip);
    }
    ++compared;
  }
  CHECK(compared == elf->tasks().all.size());
}

TEST_CASE("every backtrace crash 8.0.2 can make is the tail of kdive's", "[backtrace]") {
  // crash reads only the bullseye dump; there its `foreach bt` is a second
  // opinion on every frame's stack slot and function. It starts the panic
  // task at panic (kdive also shows the frames panic's loop was in) and fails
  // on the task the stop IPI interrupted: those show as a shorter or empty list.
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (std::system("command -v crash > /dev/null 2>&1") != 0) KDIVE_SKIP("the crash utility is not installed");
  fs::path dir = fixture_dir(suite());
  TempDir tmp_dir("bt-crash");
  fs::path out = tmp_dir.path / "foreach-bt.out";
  std::string cmd = fmt::format("printf 'foreach bt\\n' | crash -s '{}' '{}' > '{}' 2>&1", (dir / "vmlinux").string(),
                                (dir / "vmcore.elf").string(), out.string());
  int raw = std::system(cmd.c_str());  // crash exits 1 after the task it cannot unwind
  REQUIRE(WIFEXITED(raw));
  std::ifstream in(out);
  std::map<uint64_t, std::vector<std::pair<uint64_t, std::string>>> crash;  // task -> (slot, function)
  uint64_t task = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, std::regex(R"(^PID: +\d+ +TASK: ([0-9a-f]+))"))) {
      task = std::stoull(m[1], nullptr, 16);
      crash[task];
    } else if (std::regex_search(line, m, std::regex(R"(^ *#\d+ \[([0-9a-f]+)\] (\S+) at )")) && task) {
      crash[task].emplace_back(std::stoull(m[1], nullptr, 16), m[2]);
    }
  }
  REQUIRE_FALSE(crash.empty());
  auto k = open_fixture();
  Unwinder u(*k);
  size_t same = 0, shorter = 0;
  for (const auto& [address, frames] : crash) {
    const Task* t = k->tasks().by_address(VirtAddr{address});
    REQUIRE(t);
    Backtrace bt = u.backtrace(*t);
    INFO(describe(*k, *t, bt));
    std::vector<std::pair<uint64_t, std::string>> ours;
    for (const Frame& f : bt.frames) ours.emplace_back(f.sp.value(), name_of(*k, f.lookup_ip()));
    REQUIRE(ours.size() >= frames.size());
    CHECK(std::equal(frames.begin(), frames.end(), ours.end() - static_cast<std::ptrdiff_t>(frames.size())));
    (ours.size() == frames.size() ? same : shorter) += 1;
  }
  INFO(fmt::format("{} the same as crash's, {} longer", same, shorter));
  CHECK(crash.size() == k->tasks().all.size());
  CHECK(shorter <= 2);  // the panic task and the one the stop IPI interrupted
}
