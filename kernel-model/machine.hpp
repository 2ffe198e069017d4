// The x86_64 machine as the kernel saw it: the firmware's memory map (the
// e820 table), each CPU's cpuinfo_x86, the per-CPU IRQ and exception stacks,
// and the fixed bases of the kernel's address regions — what crash's mach
// shows.
//
//   std::vector<MemoryMapEntry> map = read_memory_map(kernel);   // mach -m
//   Object cpu1 = cpuinfo(kernel, 1);                             // mach -c
//   MachineStacks s = read_machine_stacks(kernel, 0);             // mach
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/object.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct MemoryMapEntry {
  uint64_t start = 0, end = 0;  // physical, end exclusive
  uint32_t type = 0;            // E820_TYPE_*
  std::string type_name;        // crash's "E820_RAM", "E820_RESERVED", ...
};

// The e820 table the kernel uses (e820_table since 4.12, "x86/boot/e820:
// Rename everything to e820_table"; the struct e820map `e820` before).
// Throws Error when neither is in the kernel or the table reads as
// impossible (more entries than it can hold).
std::vector<MemoryMapEntry> read_memory_map(const Kernel& k);

// crash's name of an e820 type: E820_RAM, E820_RESERVED, E820_ACPI,
// E820_NVS, E820_UNUSABLE, E820_PMEM, E820_PRAM, E820_SOFT_RESERVED, else
// "type N".
std::string e820_type_name(uint32_t type);

// The struct cpuinfo_x86 of `cpu`: the per-CPU cpu_info on SMP kernels,
// boot_cpu_data otherwise.
Object cpuinfo(const Kernel& k, int cpu);

struct StackArea {
  std::string name;  // "IRQ", "DOUBLEFAULT", "NMI", "DEBUG", "MCE", "VC", "VC2"
  uint64_t size = 0;
  VirtAddr base;  // lowest address
};

// One CPU's IRQ stack and exception (IST) stacks. A stack whose per-CPU
// pointer cannot be read is left out and named in `problems`.
struct MachineStacks {
  std::vector<StackArea> stacks;
  std::vector<std::string> problems;
};
MachineStacks read_machine_stacks(const Kernel& k, int cpu);

}  // namespace kdive
