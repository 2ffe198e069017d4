#include "kernel-model/cpu_stacks.hpp"

#include <fmt/format.h>

#include <optional>
#include <string_view>

#include "kernel-model/kernel.hpp"
#include "kernel-model/struct_layout.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

constexpr uint64_t kPageSize = 4096;

uint64_t thread_size(const Kernel& k) {
  const bool kasan = k.symbols().find("__asan_load8") || k.symbols().find("kasan_flag_enabled");
  return kasan ? 32768 : 16384;
}

namespace {

// The IRQ stack: its per-CPU pointer sits 8 below the top from 5.12
// ("x86/irq/64: Adjust the per CPU irq stack pointer by 8") and at the top
// before, so rounding up to the page gives the top either way. It moved into
// pcpu_hot in 6.2 ("x86/percpu: Move irq_stack variables next to current_task").
void add_irq_stack(const Kernel& k, int cpu, CpuStacks& out) {
  std::optional<VirtAddr> slot;
  if (k.symbols().find("hardirq_stack_ptr")) {
    slot = k.per_cpu("hardirq_stack_ptr", cpu);
  } else if (k.symbols().find("pcpu_hot")) {
    slot = k.per_cpu("pcpu_hot", cpu) + k.structs().offset("pcpu_hot", "hardirq_stack_ptr");
  }
  if (!slot) return;
  const uint64_t p = k.memory().read<uint64_t>(*slot);
  if (p == 0) return;
  const uint64_t top = (p + kPageSize - 1) & ~(kPageSize - 1);
  const uint64_t size = thread_size(k);
  out.stacks.push_back({CpuStack::Kind::Irq, "", VirtAddr{top - size}, size});
}

// The exception (IST) stacks: members "<NAME>_stack" of the CPU's struct
// cea_exception_stacks in the cpu_entry_area, found through the per-CPU
// pointer (the area is randomized from 6.2, so never computed).
void add_exception_stacks(const Kernel& k, int cpu, CpuStacks& out) {
  const Type* t = k.types().lookup("struct cea_exception_stacks");
  if (t == nullptr || !k.symbols().find("cea_exception_stacks")) return;
  const VirtAddr base = k.memory().read_pointer(k.per_cpu("cea_exception_stacks", cpu));
  if (base.is_null()) return;
  for (const Member& m : t->strip().members()) {
    std::string_view n = m.name;
    if (!n.ends_with("_stack")) continue;  // not the "<NAME>_stack_guard" gaps
    n.remove_suffix(6);
    out.stacks.push_back({CpuStack::Kind::Exception, std::string(n), base + m.offset, m.type->size()});
  }
}

// The entry trampoline stack: the TSS's sp0 is its top on x86_64 since the
// PTI entry stack (4.15).
void add_entry_stack(const Kernel& k, int cpu, CpuStacks& out) {
  const Type* es = k.types().lookup("struct entry_stack");
  if (es == nullptr || !k.symbols().find("cpu_tss_rw")) return;
  const VirtAddr tss = k.per_cpu("cpu_tss_rw", cpu);
  const uint64_t sp0 = k.memory().read<uint64_t>(tss + k.structs().offset("tss_struct", "x86_tss") +
                                                 k.structs().offset("x86_hw_tss", "sp0"));
  if (sp0 != 0) out.stacks.push_back({CpuStack::Kind::Entry, "", VirtAddr{sp0 - es->size()}, es->size()});
}

}  // namespace

CpuStacks read_cpu_stacks(const Kernel& k, int cpu) {
  CpuStacks out;
  const std::pair<const char*, void (*)(const Kernel&, int, CpuStacks&)> parts[] = {
      {"IRQ stack", add_irq_stack}, {"exception stacks", add_exception_stacks}, {"entry stack", add_entry_stack}};
  for (const auto& [what, add] : parts) {
    try {
      add(k, cpu, out);
    } catch (const std::exception& e) {  // a Fault, or a layout this code does not know
      out.problems.push_back(fmt::format("CPU {} {}: {}", cpu, what, e.what()));
    }
  }
  return out;
}

}  // namespace kdive
