#include "kernel-model/machine.hpp"

#include <fmt/format.h>

#include "kernel-model/cpu_stacks.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/struct_layout.hpp"
#include "kernel-model/type.hpp"

namespace kdive {

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
  CpuStacks cpu_stacks = read_cpu_stacks(k, cpu);
  MachineStacks out;
  out.problems = std::move(cpu_stacks.problems);
  for (const CpuStack& st : cpu_stacks.stacks) {
    if (st.kind == CpuStack::Kind::Entry) continue;  // mach lists the IRQ and exception stacks
    // crash's names for them.
    std::string name = st.kind == CpuStack::Kind::Irq ? "IRQ"
                       : st.ist == "DF"               ? "DOUBLEFAULT"
                       : st.ist == "DB"               ? "DEBUG"
                                                      : st.ist;
    out.stacks.push_back({name, st.size, st.base});
  }
  return out;
}

}  // namespace kdive
