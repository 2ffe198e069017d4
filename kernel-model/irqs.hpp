// The interrupt descriptors (struct irq_desc) of a kernel, as crash's `irq`
// and /proc/interrupts show them: each IRQ's handler chain (irqaction:
// handler, thread_fn, name), its chip and flow handler names, the per-CPU
// counts (kstat_irqs) and the affinity mask; plus the softirq vectors and the
// x86_64 IDT.
//
// Where the descriptors are depends on the kernel (probed by symbol):
//  * CONFIG_SPARSE_IRQ before 6.5: the radix tree `irq_desc_tree` (an XArray
//    since 4.20);
//  * CONFIG_SPARSE_IRQ from 6.5: the maple tree `sparse_irqs` (commit
//    721255b9826b);
//  * without SPARSE_IRQ: the array `irq_desc[NR_IRQS]`.
// kstat_irqs is a per-CPU unsigned int before 6.10 and a per-CPU struct
// irqstat { cnt, ref } from it (commit 86d2a2f51fba); cnt is what
// /proc/interrupts shows.
//
// Walks are bounded and cycle-safe; a damaged tree node is a WalkBreak (the
// IRQs under it lost), a descriptor or action that cannot be read carries
// `error` and the table goes on.
//
//   IrqTable t = read_irq_table(k);
//   for (const IrqDesc& d : t.descs) d.irq, d.actions[0].name, d.counts[cpu];
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct IrqAction {
  VirtAddr action;  // struct irqaction
  VirtAddr handler;
  VirtAddr thread_fn;  // threaded handlers; null otherwise
  std::string name;
};

struct IrqDesc {
  uint32_t irq = 0;
  VirtAddr desc;                             // struct irq_desc
  std::vector<IrqAction> actions;            // the chain from irq_desc.action
  VirtAddr chip;                             // irq_data.chip
  std::string chip_name;                     // irq_chip.name ("IO-APIC", "PCI-MSI")
  std::string flow_name;                     // irq_desc.name: the flow handler ("edge", "fasteoi")
  uint64_t hwirq = 0;                        // irq_data.hwirq
  std::vector<uint32_t> counts;              // kstat_irqs per CPU (index = CPU); empty when unreadable
  std::optional<std::vector<int>> affinity;  // the CPUs of the affinity mask
  std::string error;                         // what could not be read of this descriptor
};

struct IrqTable {
  uint32_t nr_irqs = 0;           // the kernel's nr_irqs: crash lists 0 .. nr_irqs-1
  int cpus = 0;                   // possible CPUs: the length of each counts
  std::string source;             // "irq_desc_tree", "sparse_irqs" or "irq_desc"
  std::vector<IrqDesc> descs;     // the IRQs that have a descriptor, in IRQ order
  std::vector<WalkBreak> breaks;  // positions index `descs`
};

// Every descriptor. Throws Error(Lookup) when the kernel has none of the
// three places (naming them).
IrqTable read_irq_table(const Kernel& k);

struct Softirq {
  int nr = 0;
  VirtAddr action;
  std::string name;  // softirq_to_name[nr] ("TIMER", "NET_RX"), "" when unknown
};
// softirq_vec[NR_SOFTIRQS].
std::vector<Softirq> read_softirqs(const Kernel& k);

struct IdtGate {
  int vector = 0;
  VirtAddr handler;  // the gate's offset, 0 for a gate that is not present
};
// idt_table[256] (x86_64 gate_struct: offset split in three).
std::vector<IdtGate> read_idt(const Kernel& k);

}  // namespace kdive
