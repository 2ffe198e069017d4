#include "kernel-model/machine.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/struct_layout.hpp"
#include "kernel-model/type.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

}  // namespace

std::string e820_type_name(uint32_t type) {
  // arch/x86/include/asm/e820/types.h
  switch (type) {
    case 1:
      return "E820_RAM";
    case 2:
      return "E820_RESERVED";
    case 3:
      return "E820_ACPI";
    case 4:
      return "E820_NVS";
    case 5:
      return "E820_UNUSABLE";
    case 7:
      return "E820_PMEM";
    case 12:
      return "E820_PRAM";
    case 0xefffffff:
      return "E820_SOFT_RESERVED";
    default:
      return fmt::format("type {}", type);
  }
}

std::vector<MemoryMapEntry> read_memory_map(const Kernel& k) {
  Object table = k.symbols().find("e820_table") != nullptr ? k.object("e820_table").deref() : k.object("e820");
  const uint64_t n = table.has_member("nr_entries") ? table["nr_entries"].as_u64() : table["nr_map"].as_u64();
  Object entries = table.has_member("entries") ? table["entries"] : table["map"];
  const uint64_t capacity = entries.type().strip().size() / entries.at(0).type().strip().size();
  if (n > capacity) {
    throw Error(Error::Kind::BadData,
                fmt::format("the e820 table at {:x} says {} entries; it holds {}", table.address(), n, capacity));
  }
  std::vector<MemoryMapEntry> out;
  for (uint64_t i = 0; i < n; ++i) {
    Object e = entries.at(i);
    MemoryMapEntry m;
    m.start = e["addr"].as_u64();
    m.end = m.start + e["size"].as_u64();
    m.type = static_cast<uint32_t>(e["type"].as_u64());
    m.type_name = e820_type_name(m.type);
    out.push_back(std::move(m));
  }
  return out;
}

Object cpuinfo(const Kernel& k, int cpu) {
  const Type& t = k.types().require("struct cpuinfo_x86");
  if (k.symbols().find("cpu_info") != nullptr) return Object(k, k.per_cpu("cpu_info", cpu), &t);
  if (cpu != 0) throw Error(Error::Kind::Lookup, "this kernel keeps one cpuinfo_x86 (boot_cpu_data): CPU 0 only");
  return k.object("boot_cpu_data");
}

MachineStacks read_machine_stacks(const Kernel& k, int cpu) {
  MachineStacks out;
  // The IRQ stack: its per-CPU pointer sits 8 below the top from 5.12
  // ("x86/irq/64: Adjust the per CPU irq stack pointer by 8") and at the top
  // before, so rounding up to the page gives the top either way; it moved
  // into pcpu_hot in 6.2 ("x86/percpu: Move irq_stack variables next to
  // current_task"). IRQ_STACK_SIZE is THREAD_SIZE (16 KiB) on x86_64.
  constexpr uint64_t kIrqStackSize = 16384;
  try {
    std::optional<VirtAddr> slot;
    if (k.symbols().find("hardirq_stack_ptr")) {
      slot = k.per_cpu("hardirq_stack_ptr", cpu);
    } else if (k.symbols().find("pcpu_hot")) {
      slot = k.per_cpu("pcpu_hot", cpu) + k.structs().offset("pcpu_hot", "hardirq_stack_ptr");
    }
    if (slot) {
      const uint64_t p = k.memory().read<uint64_t>(*slot);
      const uint64_t top = (p + kPageSize - 1) & ~(kPageSize - 1);
      if (p != 0) out.stacks.push_back({"IRQ", kIrqStackSize, VirtAddr{top - kIrqStackSize}});
    }
  } catch (const ModelError& e) {
    out.problems.push_back(fmt::format("CPU {} IRQ stack: {}", cpu, e.what()));
  }
  // The exception stacks: members "<NAME>_stack" of the CPU's struct
  // cea_exception_stacks in the cpu_entry_area, found through the per-CPU
  // pointer (the area is randomized from 6.2, so never computed).
  try {
    const Type* t = k.types().lookup("struct cea_exception_stacks");
    if (t != nullptr && k.symbols().find("cea_exception_stacks")) {
      VirtAddr base = k.memory().read_pointer(k.per_cpu("cea_exception_stacks", cpu));
      for (const Member& m : t->strip().members()) {
        std::string_view n = m.name;
        if (!n.ends_with("_stack") || n.ends_with("_stack_guard")) continue;
        n.remove_suffix(6);
        // crash's names for the IST stacks.
        std::string name = n == "DF" ? "DOUBLEFAULT" : n == "DB" ? "DEBUG" : std::string(n);
        out.stacks.push_back({name, m.type->size(), base + m.offset});
      }
    }
  } catch (const ModelError& e) {
    out.problems.push_back(fmt::format("CPU {} exception stacks: {}", cpu, e.what()));
  }
  return out;
}

}  // namespace kdive
