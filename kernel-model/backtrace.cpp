// The ORC unwinder over a dump; see backtrace.hpp. It follows the kernel's own
// unwinder (arch/x86/kernel/unwind_orc.c, unwind_next_frame) but reads every
// stack word through a bounded, checked reader: damage ends the one backtrace
// with a reason instead of throwing.
#include "kernel-model/backtrace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <set>

#include "kernel-model/cpu_stacks.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/orc_rules.hpp"
#include "kernel-model/orc_table.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/unwind_recovery.hpp"

namespace kdive {

namespace {

constexpr uint64_t kPageSize = 4096;
constexpr size_t kMaxFrames = 256;  // deeper than any kernel stack holds

Frame frame_at(VirtAddr sp, VirtAddr ip, std::string stack) {
  Frame f;
  f.sp = sp;
  f.ip = ip;
  f.stack = std::move(stack);
  return f;
}

bool user_mode(const X86Registers& r) { return (r.cs & 3) != 0; }

// Whether the code just before `ret` is a call instruction, so `ret` can be a
// return address: call rel32 (e8, also how retpoline thunks are called),
// call *disp32(%rip) (ff 15), call *%reg (ff d0-d7, 41 ff d0-d7 for r8-r15).
bool follows_call(const Kernel& k, VirtAddr ret) {
  std::array<uint8_t, 8> code{};
  try {
    k.memory().read(ret - code.size(), std::as_writable_bytes(std::span(code)));
  } catch (const std::exception&) {
    return false;
  }
  auto at = [&](int back) { return code[code.size() - back]; };
  return at(5) == 0xe8 || (at(6) == 0xff && at(5) == 0x15) || (at(2) == 0xff && (at(1) & 0xf8) == 0xd0) ||
         (at(3) == 0x41 && at(2) == 0xff && (at(1) & 0xf8) == 0xd0);
}

}  // namespace

struct Unwinder::State {
  const Kernel& k;
  OrcLayout layout;
  OrcTable vmlinux_orc;
  std::vector<std::pair<VirtAddr, VirtAddr>> vmlinux_text;           // ranges the vmlinux table covers
  mutable std::map<uint64_t, std::unique_ptr<OrcTable>> module_orc;  // by struct module
  mutable std::map<uint64_t, std::string> module_orc_problem;
  mutable std::map<int, std::vector<StackRange>> cpu_stacks;
  std::vector<std::string> problems;
  uint64_t thread_size = 16384;
  std::optional<uint64_t> frame_bp_offset, frame_ret_offset;  // struct inactive_task_frame
  std::vector<VirtAddr> fork_returns;                         // ret_from_fork (ret_from_fork_asm, 6.5+)

  explicit State(const Kernel& kernel) : k(kernel) {}

  std::optional<VirtAddr> symbol(std::string_view name) const {
    const Symbol* s = k.symbols().find(name);
    if (!s) return std::nullopt;
    return s->address;
  }

  void load_vmlinux_orc() {
    const ElfFile& elf = *k.vmlinux().file();
    const ElfSection* ips = elf.section(".orc_unwind_ip");
    const ElfSection* entries = elf.section(".orc_unwind");
    if (!ips || !entries || ips->compressed() || entries->compressed()) {
      problems.push_back("the vmlinux has no ORC tables (.orc_unwind_ip, .orc_unwind)");
      return;
    }
    // The entries are relative to their own address, which KASLR moved by its offset.
    vmlinux_orc = OrcTable::in_place(elf.contents(*ips), elf.contents(*entries),
                                     VirtAddr{ips->header.sh_addr + k.layout().kaslr_offset});
    vmlinux_text = k.kernel_text_ranges();
    if (vmlinux_text.empty() && !vmlinux_orc.empty()) {
      vmlinux_text.emplace_back(vmlinux_orc.first_ip(), vmlinux_orc.last_ip() + 1);
    }
  }

  bool in_vmlinux_text(VirtAddr ip) const {
    return std::any_of(vmlinux_text.begin(), vmlinux_text.end(),
                       [&](const auto& r) { return ip >= r.first && ip < r.second; });
  }

  // The ORC table for `ip`, or why there is none (naming `shown`: the
  // address as the user sees it, when ip is a return address minus one).
  const OrcTable* table_for(VirtAddr ip, std::string& why, std::optional<VirtAddr> shown = std::nullopt) const {
    if (in_vmlinux_text(ip)) {
      if (vmlinux_orc.empty()) why = "the vmlinux has no ORC tables";
      return vmlinux_orc.empty() ? nullptr : &vmlinux_orc;
    }
    const Module* mod = nullptr;
    for (const Module& m : k.modules().all()) {
      if (m.layout_known && m.contains(ip)) mod = &m;
    }
    if (!mod) {
      why = fmt::format("{:x} is not kernel text", shown.value_or(ip));
      return nullptr;
    }
    uint64_t key = mod->address.value();
    if (auto it = module_orc.find(key); it != module_orc.end()) return it->second.get();
    if (auto it = module_orc_problem.find(key); it != module_orc_problem.end()) {
      why = it->second;
      return nullptr;
    }
    try {
      Object arch = k.object(mod->address, "struct module")["arch"];
      uint64_t n = arch["num_orcs"].as_u64();
      if (n == 0 || n > (1u << 22)) throw Error(Error::Kind::BadData, fmt::format("num_orcs is {}", n));
      VirtAddr ips = arch["orc_unwind_ip"].pointer(), entries = arch["orc_unwind"].pointer();
      std::vector<uint8_t> ip_bytes(4 * n), entry_bytes(kOrcEntrySize * n);
      k.memory().read(ips, std::as_writable_bytes(std::span(ip_bytes)));
      k.memory().read(entries, std::as_writable_bytes(std::span(entry_bytes)));
      auto t = std::make_unique<OrcTable>(OrcTable::owned(std::move(ip_bytes), std::move(entry_bytes), ips));
      return module_orc.emplace(key, std::move(t)).first->second.get();
    } catch (const std::exception& e) {
      why = fmt::format("the ORC table of module {} cannot be read: {}", mod->name, e.what());
      module_orc_problem.emplace(key, why);
      return nullptr;
    }
  }

  const std::vector<StackRange>& stacks_of_cpu(int cpu) const {
    if (auto it = cpu_stacks.find(cpu); it != cpu_stacks.end()) return it->second;
    std::vector<StackRange> out;
    // bt's names for them; a stack that cannot be read is not followed into.
    for (const CpuStack& st : read_cpu_stacks(k, cpu).stacks) {
      std::string name;
      switch (st.kind) {
        case CpuStack::Kind::Irq:
          name = "irq";
          break;
        case CpuStack::Kind::Exception:
          name = st.ist == "NMI" ? "nmi" : st.ist == "MCE" ? "#MC" : "#" + st.ist;
          break;
        case CpuStack::Kind::Entry:
          name = "entry";
          break;
      }
      out.push_back({name, st.base, st.top()});
    }
    return cpu_stacks.emplace(cpu, std::move(out)).first->second;
  }
};

namespace {

// Stack words read a page at a time and kept for the one backtrace.
class StackReader {
 public:
  StackReader(const Kernel& k, std::vector<Unwinder::StackRange> stacks) : k_(k), stacks_(std::move(stacks)) {}

  const Unwinder::StackRange* stack_of(VirtAddr a) const {
    for (const auto& s : stacks_) {
      if (s.contains(a)) return &s;
    }
    return nullptr;
  }
  const std::vector<Unwinder::StackRange>& stacks() const { return stacks_; }

  // The word at `a`, which must lie on one of the stacks; else `why`.
  std::optional<uint64_t> word(VirtAddr a, std::string& why) {
    if (a.offset_in(8) != 0) {
      why = fmt::format("stack address {:x} is not 8-byte aligned", a);
      return std::nullopt;
    }
    if (!stack_of(a)) {
      why = fmt::format("stack address {:x} is on none of the task's stacks", a);
      return std::nullopt;
    }
    VirtAddr page = a.align_down(kPageSize);
    auto it = pages_.find(page.value());
    if (it == pages_.end()) {
      std::vector<std::byte> bytes(kPageSize);
      std::string error;
      try {
        k_.memory().read(page, bytes);
      } catch (const std::exception& e) {
        bytes.clear();
        error = e.what();
      }
      it = pages_.emplace(page.value(), std::make_pair(std::move(bytes), std::move(error))).first;
    }
    if (it->second.first.empty()) {
      why = fmt::format("stack page {:x} cannot be read: {}", page, it->second.second);
      return std::nullopt;
    }
    uint64_t v;
    std::memcpy(&v, it->second.first.data() + a.offset_in(kPageSize), 8);
    return v;
  }

 private:
  const Kernel& k_;
  std::vector<Unwinder::StackRange> stacks_;
  std::map<uint64_t, std::pair<std::vector<std::byte>, std::string>> pages_;
};

using UnwindState = OrcFrameRegs;

// The registers an unwind that began without a full set starts from.
X86Registers partial_start(const UnwindState& st) {
  X86Registers r{};
  r.rip = st.ip;
  r.rsp = st.sp;
  r.rbp = st.bp;
  return r;
}

}  // namespace

Unwinder::Unwinder(const Kernel& kernel) : state_(std::make_unique<State>(kernel)) {
  State& s = *state_;
  try {
    s.layout = OrcLayout::probe(kernel.types());
  } catch (const std::exception&) {
  }
  try {
    s.load_vmlinux_orc();
  } catch (const std::exception& e) {
    s.problems.push_back(fmt::format("the vmlinux's ORC tables cannot be read: {}", e.what()));
  }
  s.thread_size = thread_size(kernel);
  s.frame_bp_offset = kernel.structs().find_offset("inactive_task_frame", "bp");
  s.frame_ret_offset = kernel.structs().find_offset("inactive_task_frame", "ret_addr");
  for (const char* name : {"ret_from_fork", "ret_from_fork_asm"}) {
    if (auto a = s.symbol(name)) s.fork_returns.push_back(*a);
  }
}

Unwinder::~Unwinder() = default;

std::optional<OrcEntry> Unwinder::orc_entry(VirtAddr ip, std::string& why) const {
  const OrcTable* table = state_->table_for(ip, why);
  if (!table) return std::nullopt;
  auto raw = table->find(ip);
  if (!raw) {
    why = fmt::format("no ORC entry for {:x}", ip);
    return std::nullopt;
  }
  return decode(*raw, state_->layout);
}

const std::vector<std::string>& Unwinder::problems() const { return state_->problems; }

std::vector<Unwinder::StackRange> Unwinder::stacks_of(const Task& task) const {
  std::vector<StackRange> out;
  if (!task.stack.is_null()) out.push_back({"task", task.stack, task.stack + state_->thread_size});
  if (task.active && task.cpu >= 0) {
    for (const StackRange& r : state_->stacks_of_cpu(task.cpu)) out.push_back(r);
  }
  return out;
}

namespace {

std::vector<uint64_t> frame_pointer_candidates(const Unwinder::State& s, StackReader& mem, VirtAddr ip, uint64_t sp);
void unwind(const Unwinder::State& s, StackReader& mem, UnwindState st, const Task& task, Backtrace& bt);

// The target of the direct call that returns to `ret`, if it was one.
std::optional<uint64_t> call_target(const Kernel& k, VirtAddr ret) {
  std::array<uint8_t, 5> code{};
  try {
    k.memory().read(ret - code.size(), std::as_writable_bytes(std::span(code)));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return direct_call_target(code, ret.value());
}

// The first frame's saved registers are in a function with no usable ORC
// entry (objtool left __crash_kexec without any on 6.1; crash_setup_regs()
// saved its rip there): resynchronise on the first return address above the
// saved stack pointer, on the same stack, whose call went to that function
// and from which exact unwinding reaches the stack's natural end. Only that
// frame is marked; on success `bt` holds the whole unwind.
bool resynchronise(const Unwinder::State& s, StackReader& mem, const UnwindState& st, const Task& task, Backtrace& bt) {
  auto fn = s.k.symbol_at(VirtAddr{st.ip});
  const auto* range = mem.stack_of(VirtAddr{st.sp});
  if (!fn || !range) return false;
  const uint64_t fn_start = fn->symbol->address.value();
  StackWordReader read_word = [&mem](VirtAddr a, std::string& w) { return mem.word(a, w); };
  std::optional<Backtrace> found;
  const VirtAddr end = std::min(range->end, VirtAddr{st.sp} + kPageSize);
  first_matching_slot(VirtAddr{st.sp}, end, read_word, [&](VirtAddr slot, uint64_t w) {
    std::string unused;
    if (!s.table_for(VirtAddr{w} - 1, unused)) return false;
    auto target = call_target(s.k, VirtAddr{w});
    if (!target || *target != fn_start) return false;
    // rbp as saved first (the function may not have touched it), then the
    // frame-pointer layouts the caller's entry allows.
    std::vector<uint64_t> bps = {st.bp};
    for (uint64_t bp : frame_pointer_candidates(s, mem, VirtAddr{w - 1}, slot.value() + 8)) {
      if (bp != st.bp) bps.push_back(bp);
    }
    for (uint64_t bp : bps) {
      Backtrace attempt = bt;
      attempt.frames.push_back(frame_at(slot, VirtAddr{w}, range->name));
      attempt.frames.back().return_address = true;
      attempt.frames.back().recovered = "found on the stack";
      UnwindState next;
      next.ip = w;
      next.sp = slot.value() + 8;
      next.bp = bp;
      unwind(s, mem, next, task, attempt);
      if (attempt.stop.empty()) {
        found = std::move(attempt);
        return true;
      }
    }
    return false;
  });
  if (!found) return false;
  bt = std::move(*found);
  return true;
}

// unwind_next_frame() until the end of the stack or damage.
void unwind(const Unwinder::State& s, StackReader& mem, UnwindState st, const Task& task, Backtrace& bt) {
  std::set<std::string> left;  // stacks the unwind has moved off: it never goes back
  const VirtAddr task_regs = task.stack + s.thread_size - kPtRegsSize;
  auto stack_name = [&](uint64_t a) {
    const auto* r = mem.stack_of(VirtAddr{a});
    return r ? r->name : std::string();
  };
  while (true) {
    Frame& cur = bt.frames.back();
    if (bt.frames.size() >= kMaxFrames) {
      bt.stop = fmt::format("more than {} frames", kMaxFrames);
      return;
    }
    VirtAddr ip{st.ip};
    std::string why;
    const OrcTable* table = s.table_for(st.signal ? ip : ip - 1, why, ip);
    auto raw = table ? table->find(st.signal ? ip : ip - 1) : std::nullopt;
    if (!raw) {
      bt.stop = table ? fmt::format("no ORC entry for {:x}", ip) : why;
      return;
    }
    OrcEntry e = decode(*raw, s.layout);
    if (e.type == OrcType::EndOfStack) return;
    StackWordReader read_word = [&mem](VirtAddr a, std::string& w) { return mem.word(a, w); };
    std::string borrowed;  // how the caller was found when not by this entry
    if (e.type == OrcType::Undefined && bt.frames.size() == 1 && st.signal) {
      // Saved registers at an address objtool left undefined: crash_setup_regs()
      // stores `_THIS_IP_` (a label's address) as the panic CPU's rip on kexec
      // dumps. The stack pointer saved with it is the function body's, which
      // an earlier entry of the same function describes; its answer is taken
      // only when it finds a return address just after a call.
      auto fn = s.k.symbol_at(ip);
      std::string unused;
      auto is_return = [&](uint64_t ret) {
        return s.table_for(VirtAddr{ret} - 1, unused) && follows_call(s.k, VirtAddr{ret});
      };
      if (fn) {
        if (auto c = caller_by_preceding_entry(*table, s.layout, st, fn->symbol->address, read_word, is_return, why)) {
          e = c->entry;
          borrowed = fmt::format("caller found with the ORC entry at {:x} (the one at the saved rip {:x} is undefined)",
                                 c->entry_ip, ip);
        }
      }
    }
    if (e.type == OrcType::Undefined && bt.frames.size() == 1 && st.signal && resynchronise(s, mem, st, task, bt)) {
      return;
    }
    if (e.type == OrcType::Undefined) {
      bt.stop = fmt::format("the ORC entry for {:x} is undefined", ip);
      return;
    }
    if (e.type == OrcType::Invalid) {
      bt.stop = fmt::format("corrupt ORC entry for {:x}: type {}", ip, e.raw_type);
      return;
    }
    // The caller's stack pointer (the CFA).
    const UnwindState before = st;
    auto caller_sp = orc_caller_sp(e, before, read_word, why);
    if (!caller_sp) {
      bt.stop = why;
      return;
    }
    const uint64_t cfa = *caller_sp;
    // The stack must grow within one stack, and a stack once left stays left
    // (the kernel's "wrong direction" check and its visit mask).
    bool call = e.type == OrcType::Call;
    std::string from = stack_name(st.sp), to = stack_name(call ? cfa - 8 : cfa);
    if (to.empty()) {
      bt.stop =
          fmt::format("stack pointer {:x} (from the ORC entry for {:x}) is on none of the task's stacks", cfa, ip);
      return;
    }
    if (call && to == from && cfa <= st.sp) {
      bt.stop = fmt::format("stack pointer goes the wrong way at {:x}: {:x} after {:x}", ip, cfa, st.sp);
      return;
    }
    if (to != from) {
      if (left.count(to)) {
        bt.stop = fmt::format("the unwind went back to the {} stack at {:x}", to, ip);
        return;
      }
      left.insert(from);
    }
    switch (e.type) {
      case OrcType::Call: {
        auto ret = mem.word(VirtAddr{cfa - 8}, why);
        if (!ret) {
          bt.stop = why;
          return;
        }
        st.ip = *ret;
        st.sp = cfa;
        st.signal = false;
        st.regs.reset();
        bt.frames.push_back(frame_at(VirtAddr{cfa - 8}, VirtAddr{*ret}, to));
        bt.frames.back().return_address = true;
        bt.frames.back().recovered = std::move(borrowed);
        break;
      }
      case OrcType::Regs:
      case OrcType::RegsPartial: {
        bool partial = e.type == OrcType::RegsPartial;
        VirtAddr block = orc_register_block_address(partial, cfa);
        std::optional<X86Registers> regs = orc_register_block(partial, cfa, read_word, why);
        if (!regs) {
          bt.stop = fmt::format("the register block at {:x} cannot be read: {}", block, why);
          return;
        }
        if (user_mode(*regs)) {
          cur.regs = regs;
          cur.regs_address = block;
          cur.partial_regs = partial;
          cur.user_regs = true;
          return;
        }
        // A kernel thread's register block at the top of its stack (zeroed by
        // copy_thread): the end, nothing to show.
        if (block == task_regs) return;
        cur.regs = regs;
        cur.regs_address = block;
        cur.partial_regs = partial;
        st.ip = regs->rip;
        if (st.sp >= regs->rsp && stack_name(regs->rsp) == from) {
          bt.stop = fmt::format("the register block at {:x} holds a stack pointer {:x} that goes the wrong way", block,
                                regs->rsp);
          return;
        }
        st.sp = regs->rsp;
        if (!partial) st.bp = regs->rbp;
        st.signal = true;
        if (partial) {
          st.regs.reset();
        } else {
          st.regs = regs;
        }
        std::string next = stack_name(regs->rsp);
        if (next.empty()) {
          bt.stop = fmt::format("the register block at {:x} holds a stack pointer {:x} on none of the task's stacks",
                                block, regs->rsp);
          return;
        }
        if (next != to) left.insert(to);
        bt.frames.push_back(frame_at(VirtAddr{regs->rsp}, VirtAddr{regs->rip}, next));
        break;
      }
      default:
        break;
    }
    // The caller's frame pointer; left as it is (a register block may just
    // have set it) when the entry does not say.
    if (static_cast<OrcReg>(e.bp_reg) == OrcReg::Undefined) continue;
    auto caller_bp = orc_caller_bp(e, cfa, before, read_word, why);
    if (!caller_bp) {
      bt.stop = why;
      return;
    }
    st.bp = *caller_bp;
  }
}

// The rbp values to try for a return address found on the stack: none (0)
// when its ORC entry does not find the caller through rbp; else each slot
// above `sp` with a text address where the entry puts the return address —
// the layout "push %rbp; mov %rsp,%rbp" leaves (panic() keeps a frame
// pointer: it has a va_list). The saved rbp itself may be anything: these
// kernels use rbp as a general register.
std::vector<uint64_t> frame_pointer_candidates(const Unwinder::State& s, StackReader& mem, VirtAddr ip, uint64_t sp) {
  std::string why;
  const OrcTable* table = s.table_for(ip, why);
  auto raw = table ? table->find(ip) : std::nullopt;
  if (!raw) return {0};
  OrcEntry e = decode(*raw, s.layout);
  if (e.sp_reg != static_cast<uint8_t>(OrcReg::Bp) || e.sp_offset < 16) return {0};
  std::vector<uint64_t> out;
  for (uint64_t p = sp; p < sp + 4096 && out.size() < 32; p += 8) {
    auto ret = mem.word(VirtAddr{p + e.sp_offset - 8}, why);
    if (!ret) break;
    std::string none;
    if (s.table_for(VirtAddr{*ret}, none)) out.push_back(p);
  }
  return out;
}

}  // namespace

void Unwinder::scan_after_stop(const Task& task, Backtrace& bt, size_t max) const {
  const State& s = *state_;
  StackReader mem(s.k, stacks_of(task));
  VirtAddr from = bt.frames.empty() ? task.stack : bt.frames.back().sp + 8;
  const StackRange* range = mem.stack_of(bt.frames.empty() ? task.stack : bt.frames.back().sp);
  if (!range) return;
  std::string why;
  std::vector<Frame> scanned;
  for (VirtAddr a = from.align_down(8); a < range->end && scanned.size() < max; a += 8) {
    auto v = mem.word(a, why);
    if (!v) break;  // an unreadable page: nothing more to find above it
    std::string none;
    VirtAddr ip{*v};
    if (!s.table_for(ip - 1, none) || !follows_call(s.k, ip)) continue;
    // A return address from which the ORC unwind reaches the stack's natural
    // end is taken with the frames it finds (all still marked guessed: the
    // start was a guess); otherwise the scan goes on collecting candidates.
    for (uint64_t bp : frame_pointer_candidates(s, mem, ip - 1, a.value() + 8)) {
      Backtrace attempt;
      attempt.frames.push_back(frame_at(a, ip, range->name));
      attempt.frames.back().return_address = true;
      UnwindState st;
      st.ip = ip.value();
      st.sp = a.value() + 8;
      st.bp = bp;
      unwind(s, mem, st, task, attempt);
      if (attempt.stop.empty() && attempt.frames.size() > 1) {
        for (Frame& f : attempt.frames) {
          f.guessed = true;
          bt.frames.push_back(std::move(f));
        }
        return;
      }
    }
    Frame f = frame_at(a, ip, range->name);
    f.return_address = true;
    f.guessed = true;
    scanned.push_back(std::move(f));
  }
  for (Frame& f : scanned) bt.frames.push_back(std::move(f));
}

Backtrace Unwinder::backtrace_from_registers(const Task& task, const X86Registers& regs, std::string start) const {
  Backtrace bt;
  bt.start = std::move(start);
  bt.cpu = task.active ? task.cpu : -1;
  bt.start_regs = regs;
  StackReader mem(state_->k, stacks_of(task));
  const StackRange* on = mem.stack_of(VirtAddr{regs.rsp});
  bt.frames.push_back(frame_at(VirtAddr{regs.rsp}, VirtAddr{regs.rip}, on ? on->name : ""));
  if (!on) {
    bt.stop = fmt::format("stack pointer {:x} is on none of the task's stacks", regs.rsp);
    return bt;
  }
  unwind(*state_, mem, {.ip = regs.rip, .sp = regs.rsp, .bp = regs.rbp, .signal = true, .regs = regs}, task, bt);
  return bt;
}

Backtrace Unwinder::backtrace_from(const Task& task, uint64_t ip, uint64_t sp) const {
  X86Registers r{};
  r.rip = ip;
  r.rsp = sp;
  return backtrace_from_registers(task, r, "-I/-S");
}

std::optional<Backtrace> Unwinder::halted_in_crash_nmi(const Task& task, const X86Registers& saved,
                                                       const std::string& source) const {
  const State& s = *state_;
  const Symbol* anchor = s.k.symbols().find("crash_nmi_callback");
  if (!anchor || anchor->size == 0 || task.stack.is_null()) return std::nullopt;
  StackReader mem(s.k, stacks_of(task));
  StackWordReader read_word = [&mem](VirtAddr a, std::string& w) { return mem.word(a, w); };
  const uint64_t lo = anchor->address.value(), hi = lo + anchor->size;
  std::optional<Backtrace> found;
  // The task stack first (an NMI from user mode runs on it), then the CPU's
  // IRQ and exception stacks (an NMI from kernel mode runs on the NMI stack).
  for (const StackRange& range : mem.stacks()) {
    auto accept = [&](VirtAddr slot, uint64_t w) {
      // A return address into the handler: the last call it made (its halt)
      // left it where the handler's frame begins.
      if (w - 1 < lo || w - 1 >= hi || !follows_call(s.k, VirtAddr{w})) return false;
      for (uint64_t bp : frame_pointer_candidates(s, mem, VirtAddr{w - 1}, slot.value() + 8)) {
        Backtrace bt;
        bt.cpu = task.cpu;
        bt.frames.push_back(frame_at(slot, VirtAddr{w}, range.name));
        bt.frames.back().return_address = true;
        bt.frames.back().recovered = "found on the stack";
        UnwindState st;
        st.ip = w;
        st.sp = slot.value() + 8;
        st.bp = bp;
        bt.start_regs = partial_start(st);
        unwind(s, mem, st, task, bt);
        // Exact from here to the block the NMI pushed, and that block is the
        // one the note holds: then these are the frames the CPU halted in.
        const Frame& last = bt.frames.back();
        if (bt.stop.empty() && last.user_regs && last.regs && same_pt_regs(*last.regs, saved)) {
          bt.start = fmt::format(
              "crash_nmi_callback's frame found on the {} stack at {:x}: the {} holds the user-mode registers the "
              "crash NMI interrupted (equal to the register block at {:x})",
              range.name, slot, source, last.regs_address);
          found = std::move(bt);
          return true;
        }
      }
      return false;
    };
    if (first_matching_slot(range.begin, range.end, read_word, accept)) return found;
  }
  return std::nullopt;
}

Backtrace Unwinder::backtrace(const Task& task) const {
  const State& s = *state_;
  const Kernel& k = s.k;
  if (task.active && task.cpu >= 0) {
    auto usable = [&](const X86Registers& r) {
      if (user_mode(r) || r.rip == 0) return false;
      for (const StackRange& range : stacks_of(task)) {
        if (range.contains(VirtAddr{r.rsp})) return true;
      }
      return false;
    };
    const auto& cpus = k.dump().notes().cpus;
    if (static_cast<size_t>(task.cpu) < cpus.size() && cpus[task.cpu].prstatus &&
        usable(cpus[task.cpu].prstatus->regs)) {
      return backtrace_from_registers(task, cpus[task.cpu].prstatus->regs,
                                      fmt::format("NT_PRSTATUS of CPU {}", task.cpu));
    }
    if (static_cast<size_t>(task.cpu) < cpus.size() && cpus[task.cpu].prstatus &&
        user_mode(cpus[task.cpu].prstatus->regs)) {
      if (auto bt = halted_in_crash_nmi(task, cpus[task.cpu].prstatus->regs,
                                        fmt::format("NT_PRSTATUS of CPU {}", task.cpu))) {
        return *bt;
      }
    }
    // kexec dumps: crash_save_cpu() wrote an NT_PRSTATUS note into the CPU's
    // crash_notes buffer, there even when the vmcore lost its note.
    try {
      if (k.symbols().find("crash_notes")) {
        VirtAddr buf{k.memory().read<uint64_t>(k.symbol_address("crash_notes")) + k.per_cpu_offset(task.cpu)};
        // note_buf_t: CRASH_CORE_NOTE_BYTES, two note headers, "CORE" and one elf_prstatus.
        uint64_t size = 368;
        if (const Type* t = k.types().variable_type("crash_notes"); t && t->strip().target()) {
          if (uint64_t n = t->strip().target()->size(); n >= 12 && n <= 4096) size = n;
        }
        std::vector<std::byte> bytes(size);
        k.memory().read(buf, bytes);
        DumpNotes notes;
        parse_elf_notes(bytes, notes);
        if (!notes.cpus.empty() && notes.cpus[0].prstatus && usable(notes.cpus[0].prstatus->regs)) {
          return backtrace_from_registers(task, notes.cpus[0].prstatus->regs,
                                          fmt::format("crash_notes of CPU {}", task.cpu));
        }
        if (!notes.cpus.empty() && notes.cpus[0].prstatus && user_mode(notes.cpus[0].prstatus->regs)) {
          if (auto bt = halted_in_crash_nmi(task, notes.cpus[0].prstatus->regs,
                                            fmt::format("crash_notes of CPU {}", task.cpu))) {
            return *bt;
          }
        }
      }
    } catch (const std::exception&) {
    }
    // No registers: panic's own frame on the stack, as crash finds it. A
    // stale return address into panic, or a wrong guess of rbp, shows as an
    // unwind that stops early: the first candidate that unwinds to its end wins.
    const Symbol* panic = k.symbols().find("panic");
    if (panic && !task.stack.is_null()) {
      StackReader mem(k, stacks_of(task));
      std::string why;
      std::optional<Backtrace> first;
      size_t tries = 0;
      // Every stack the task may have been on: a panic in an interrupt runs on the IRQ stack.
      for (const StackRange& range : mem.stacks()) {
        for (VirtAddr a = range.begin; a < range.end && tries < 64; a += 8) {
          auto v = mem.word(a, why);
          // A return address into panic. Where panic() ends in its call to
          // vpanic() (6.12), the return address is panic's end: compare ip - 1.
          if (!v || *v - 1 < panic->address.value() || *v - 1 >= panic->address.value() + panic->size) continue;
          for (uint64_t bp : frame_pointer_candidates(s, mem, VirtAddr{*v - 1}, a.value() + 8)) {
            ++tries;
            Backtrace bt;
            bt.start = fmt::format("panic's frame found on the {} stack at {:x} (no registers for CPU {})", range.name,
                                   a, task.cpu);
            bt.cpu = task.cpu;
            bt.frames.push_back(frame_at(a, VirtAddr{*v}, range.name));
            bt.frames.back().return_address = true;
            UnwindState st;
            st.ip = *v;
            st.sp = a.value() + 8;
            st.bp = bp;
            bt.start_regs = partial_start(st);
            unwind(s, mem, st, task, bt);
            if (bt.stop.empty() && bt.frames.size() > 1) return bt;
            if (!first) first = std::move(bt);
          }
        }
      }
      if (first) return *first;
    }
    // thread.sp is stale for a task that was running: say so rather than unwind it.
    Backtrace bt;
    bt.cpu = task.cpu;
    bt.start = fmt::format("none: no registers for CPU {} (no NT_PRSTATUS, no crash_notes)", task.cpu);
    bt.stop = fmt::format("no registers for CPU {} and no frame of panic on the task's stack", task.cpu);
    return bt;
  }
  // A task switched out: thread.sp points at its inactive_task_frame.
  Backtrace bt;
  bt.start = "thread.sp (inactive_task_frame)";
  if (!s.frame_ret_offset || !s.frame_bp_offset) {
    bt.stop = "struct inactive_task_frame is unknown";
    return bt;
  }
  StackReader mem(k, stacks_of(task));
  std::string why;
  VirtAddr slot{task.kernel_sp + *s.frame_ret_offset};
  auto ret = mem.word(slot, why);
  auto bp = mem.word(VirtAddr{task.kernel_sp + *s.frame_bp_offset}, why);
  if (!ret || !bp) {
    bt.stop = fmt::format("thread.sp {:x}: {}", task.kernel_sp, why);
    return bt;
  }
  // crash shows thread.sp itself as the first frame's slot.
  bt.frames.push_back(frame_at(VirtAddr{task.kernel_sp}, VirtAddr{*ret}, "task"));
  // A task that never ran starts at ret_from_fork: an exact address.
  bool new_task = std::find(s.fork_returns.begin(), s.fork_returns.end(), VirtAddr{*ret}) != s.fork_returns.end();
  bt.frames.back().return_address = !new_task;
  UnwindState st;
  st.ip = *ret;
  st.sp = slot.value() + 8;
  st.bp = *bp;
  st.signal = new_task;
  bt.start_regs = partial_start(st);
  unwind(s, mem, st, task, bt);
  return bt;
}

Backtrace backtrace(const Kernel& kernel, const Task& task) { return Unwinder(kernel).backtrace(task); }

Backtrace backtrace_from(const Kernel& kernel, const Task& task, uint64_t ip, uint64_t sp) {
  return Unwinder(kernel).backtrace_from(task, ip, sp);
}

}  // namespace kdive
