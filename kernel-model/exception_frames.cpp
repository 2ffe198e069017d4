// The pt_regs search of bt -e / -E: see exception_frames.hpp.
#include "kernel-model/exception_frames.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>

#include "kernel-model/kernel.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;
constexpr size_t kPtRegsWords = 21;  // struct pt_regs: r15 ... orig_ax, ip, cs, flags, sp, ss
constexpr uint64_t kPtRegsSize = kPtRegsWords * 8;

// Segment selectors of x86_64 Linux (arch/x86/include/asm/segment.h, the
// same since 2.6.24): GDT entries 2, 3, 4, 5, 6 with their privilege levels.
constexpr uint64_t kKernelCs = 0x10;  // __KERNEL_CS
constexpr uint64_t kKernelDs = 0x18;  // __KERNEL_DS, the kernel's ss
constexpr uint64_t kUser32Cs = 0x23;  // __USER32_CS: a 32-bit (compat) task
constexpr uint64_t kUserDs = 0x2b;    // __USER_DS, user ss for 64- and 32-bit tasks
constexpr uint64_t kUserCs = 0x33;    // __USER_CS

// RFLAGS bits that always read as 0: 3, 5, 15 and 22-63 (Intel SDM vol. 1,
// 3.4.3), and VM (17), which cannot be set in 64-bit mode. Bit 1 always reads
// as 1.
constexpr uint64_t kFlagsMustBeZero = ~((1ull << 22) - 1) | (1ull << 3) | (1ull << 5) | (1ull << 15) | (1ull << 17);
constexpr uint64_t kFlagsAlwaysOne = 1ull << 1;

bool text_address(const Kernel& k, uint64_t a) {
  auto hit = k.symbol_at(VirtAddr{a});
  return hit && (hit->symbol->type == 'T' || hit->symbol->type == 't');
}

// Whether the 21 words at `at` on `range` look like a saved pt_regs. The
// rules, each from what the CPU or the entry code always writes there:
// - cs is __KERNEL_CS, or __USER_CS / __USER32_CS: the entry code and the CPU
//   store the selector zero-extended in its 8-byte slot (FRED, 6.9 and newer
//   hardware, puts event data in the upper bits: not supported here).
// - ss matches it: user mode has __USER_DS; kernel mode __KERNEL_DS, or 0
//   (the CPU loads a NULL ss when an interrupt or exception enters ring 0 from
//   user mode or through an IST stack, and the kernel keeps running with it).
// - rflags has bit 1 set and no bit that always reads as 0; user code always
//   runs with interrupts enabled (IF, bit 9), since user space cannot clear it
//   (iopl() is emulated from 5.5, "x86/iopl: Restrict iopl() permission scope").
// - kernel mode: rip is kernel text (vmlinux or module) and rsp, 8-byte
//   aligned, is on a stack of the task or its CPU; on the frame's own stack it
//   lies above the frame, since the block is pushed below the interrupted rsp.
// - user mode: rip and rsp are canonical user addresses (below the 47-bit,
//   or with 5-level paging 56-bit, user half; below 4 GiB for a 32-bit task).
bool plausible(const Kernel& k, const std::array<uint64_t, kPtRegsWords>& w, VirtAddr at,
               const Unwinder::StackRange& range, const std::vector<Unwinder::StackRange>& known, bool& user) {
  const uint64_t rip = w[16], cs = w[17], flags = w[18], rsp = w[19], ss = w[20];
  if ((flags & kFlagsAlwaysOne) == 0 || (flags & kFlagsMustBeZero) != 0) return false;
  if (cs == kKernelCs) {
    if (ss != kKernelDs && ss != 0) return false;
    if (rsp % 8 != 0) return false;
    const VirtAddr sp{rsp};
    if (range.contains(sp) && sp < at + kPtRegsSize) return false;
    bool on_stack = range.contains(sp) || rsp == range.end.value();
    for (const Unwinder::StackRange& s : known) on_stack = on_stack || s.contains(sp) || rsp == s.end.value();
    if (!on_stack) return false;
    user = false;
    return text_address(k, rip);
  }
  if (cs != kUserCs && cs != kUser32Cs) return false;
  if (ss != kUserDs) return false;
  if ((flags & (1ull << 9)) == 0) return false;
  const uint64_t user_end = cs == kUser32Cs ? (1ull << 32) : k.layout().levels == 5 ? (1ull << 56) : (1ull << 47);
  if (rip >= user_end || rsp >= user_end) return false;
  user = true;
  return true;
}

}  // namespace

StackSearch find_exception_frames(const Kernel& k, const Unwinder::StackRange& range,
                                  const std::vector<Unwinder::StackRange>& known) {
  StackSearch out{range, {}};
  const uint64_t begin = range.begin.value() & ~uint64_t{7}, end = range.end.value();
  if (end <= begin) return out;
  // The stack's words, a page at a time; a page the dump lacks is a break
  // and leaves its words unknown (no frame is made of them).
  std::vector<uint64_t> words((end - begin) / 8);
  std::vector<bool> known_word(words.size(), false);
  for (uint64_t page = begin & ~(kPageSize - 1); page < end; page += kPageSize) {
    const uint64_t from = std::max(page, begin), to = std::min(page + kPageSize, end);
    std::vector<std::byte> bytes(to - from);
    try {
      k.memory().read(VirtAddr{from}, bytes);
    } catch (const std::exception& e) {
      out.found.breaks.push_back({0, VirtAddr{from}, fmt::format("stack page cannot be read: {}", e.what())});
      continue;
    }
    const size_t first = (from - begin) / 8;
    std::memcpy(&words[first], bytes.data(), bytes.size() / 8 * 8);
    for (size_t i = first; i < first + bytes.size() / 8; ++i) known_word[i] = true;
  }
  // cpu_entry_area.c maps the VC and VC2 stacks only for SEV-ES guests
  // (cc_platform_has(CC_ATTR_GUEST_STATE_ENCRYPT) from 5.16, sev_es_active()
  // before): elsewhere they are holes in the area, not lost data.
  if ((range.name == "#VC" || range.name == "#VC2") &&
      std::none_of(known_word.begin(), known_word.end(), [](bool b) { return b; })) {
    out.found.breaks.clear();
    out.unmapped = true;
    return out;
  }
  size_t next_break = 0;
  for (size_t i = 0; i + kPtRegsWords <= words.size(); ++i) {
    const VirtAddr at{begin + 8 * i};
    // Breaks before this slot sit after the frames found so far.
    while (next_break < out.found.breaks.size() && out.found.breaks[next_break].at <= at) {
      out.found.breaks[next_break++].position = out.found.entries.size();
    }
    bool readable = true;
    for (size_t j = i; j < i + kPtRegsWords && readable; ++j) readable = known_word[j];
    if (!readable) continue;
    std::array<uint64_t, kPtRegsWords> w{};
    std::copy(words.begin() + static_cast<ptrdiff_t>(i), words.begin() + static_cast<ptrdiff_t>(i + kPtRegsWords),
              w.begin());
    bool user = false;
    if (!plausible(k, w, at, range, known, user)) continue;
    ExceptionFrame f;
    f.address = at;
    f.stack = range.name;
    f.user_mode = user;
    std::memcpy(&f.regs, w.data(), sizeof(w));  // pt_regs and X86Registers agree on these 21
    out.found.entries.push_back(std::move(f));
  }
  for (; next_break < out.found.breaks.size(); ++next_break) {
    out.found.breaks[next_break].position = out.found.entries.size();
  }
  return out;
}

std::vector<StackSearch> search_task_stack(const Kernel& k, const Unwinder& unwinder, const Task& task) {
  std::vector<Unwinder::StackRange> stacks = unwinder.stacks_of(task);
  std::vector<StackSearch> out;
  for (const Unwinder::StackRange& s : stacks) {
    if (s.name == "task") out.push_back(find_exception_frames(k, s, stacks));
  }
  return out;
}

std::vector<StackSearch> search_cpu_stacks(const Kernel& k, const Unwinder& unwinder, int cpu) {
  const Task* active = k.tasks().active_on(cpu);
  if (active == nullptr) return {};
  std::vector<Unwinder::StackRange> stacks = unwinder.stacks_of(*active);
  std::vector<StackSearch> out;
  // The CPU's own stacks first (as stacks_of lists them: IRQ, exception,
  // entry), the running task's stack last.
  for (const Unwinder::StackRange& s : stacks) {
    if (s.name != "task") out.push_back(find_exception_frames(k, s, stacks));
  }
  for (const Unwinder::StackRange& s : stacks) {
    if (s.name == "task") out.push_back(find_exception_frames(k, s, stacks));
  }
  return out;
}

}  // namespace kdive
