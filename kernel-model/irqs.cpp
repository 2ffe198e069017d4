#include "kernel-model/irqs.hpp"

#include <fmt/format.h>

#include <set>

#include "kernel-model/cpu_mask.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/maple_tree.hpp"
#include "kernel-model/task_sources.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

// A shared IRQ line chains a handful of actions; more than this is a loop.
constexpr size_t kMaxActions = 256;

void read_actions(const Kernel& k, Object desc, IrqDesc& d) {
  std::set<uint64_t> seen;
  VirtAddr a = desc["action"].pointer();
  while (!a.is_null()) {
    if (!seen.insert(a.value()).second || seen.size() > kMaxActions) {
      d.error = fmt::format("irqaction chain loops at {:x}", a.value());
      return;
    }
    Object act = k.object(a, "struct irqaction");
    IrqAction ia;
    ia.action = a;
    ia.handler = act["handler"].pointer();
    if (act.has_member("thread_fn")) ia.thread_fn = act["thread_fn"].pointer();
    if (!act["name"].is_null()) ia.name = act["name"].string(256);
    d.actions.push_back(std::move(ia));
    a = act["next"].pointer();
  }
}

void read_counts(const Kernel& k, Object desc, int cpus, IrqDesc& d) {
  Object stat = desc["kstat_irqs"];
  if (stat.is_null()) return;
  const Type* target = stat.type().strip().target();
  // struct irqstat { cnt; ref; } from 6.10: cnt first; an unsigned int before.
  uint64_t cnt_offset = 0;
  if (target != nullptr && target->strip().is_struct_like()) cnt_offset = target->strip().require_member("cnt").offset;
  for (int cpu = 0; cpu < cpus; ++cpu) {
    const VirtAddr at{stat.pointer().value() + k.per_cpu_offset(cpu) + cnt_offset};
    d.counts.push_back(k.memory().read<uint32_t>(at));
  }
}

IrqDesc read_desc(const Kernel& k, uint32_t irq, VirtAddr addr, int cpus) {
  IrqDesc d;
  d.irq = irq;
  d.desc = addr;
  try {
    Object desc = k.object(addr, "struct irq_desc");
    Object data = desc["irq_data"];
    d.hwirq = data["hwirq"].as_u64();
    d.chip = data["chip"].pointer();
    if (!d.chip.is_null()) {
      Object chip = data["chip"].deref();
      if (!chip["name"].is_null()) d.chip_name = chip["name"].string(64);
    }
    if (!desc["name"].is_null()) d.flow_name = desc["name"].string(64);
    read_actions(k, desc, d);
    read_counts(k, desc, cpus, d);
    // The affinity moved from irq_data to irq_common_data in 4.3 (commit
    // 9df872faa7e1).
    std::optional<Object> mask;
    if (desc.has_member("irq_common_data.affinity")) {
      mask = desc["irq_common_data"]["affinity"];
    } else if (data.has_member("affinity")) {
      mask = data["affinity"];
    }
    if (mask) d.affinity = read_cpumask(k, *mask, cpus);
  } catch (const ModelError& e) {
    if (!d.error.empty()) d.error += "; ";
    d.error += e.what();
  }
  return d;
}

}  // namespace

IrqTable read_irq_table(const Kernel& k) {
  IrqTable t;
  t.cpus = possible_cpus(k);
  if (k.find_symbol("nr_irqs") != nullptr) t.nr_irqs = static_cast<uint32_t>(k.object("nr_irqs").as_u64());
  auto add = [&](uint64_t irq, uint64_t value) {
    if (value == 0) return;
    t.descs.push_back(read_desc(k, static_cast<uint32_t>(irq), VirtAddr{value}, t.cpus));
  };
  auto take_breaks = [&](const std::vector<WalkBreak>& breaks) {
    // The trees give entries in IRQ order, so a break's position counts the
    // descriptors before it, as in `descs`.
    for (const WalkBreak& b : breaks) t.breaks.push_back(b);
  };
  if (k.find_symbol("sparse_irqs") != nullptr) {
    t.source = "sparse_irqs";
    Walked<MapleEntry> w = walk_maple_entries(k, k.symbol_address("sparse_irqs"));
    for (const MapleEntry& e : w.entries) {
      // One descriptor per index (irq_insert_desc stores [irq, irq]); a range
      // would be one descriptor for several IRQs, which the kernel never makes.
      add(e.first, e.value);
    }
    take_breaks(w.breaks);
  } else if (k.find_symbol("irq_desc_tree") != nullptr) {
    t.source = "irq_desc_tree";
    Walked<XarrayEntry> w = walk_xarray_entries(k, k.symbol_address("irq_desc_tree"));
    for (const XarrayEntry& e : w.entries) add(e.index, e.value);
    take_breaks(w.breaks);
  } else if (k.find_symbol("irq_desc") != nullptr) {
    t.source = "irq_desc";
    Object array = k.object("irq_desc");
    const uint64_t n = array.type().strip().count().value_or(0);
    const uint64_t size = array.type().strip().target()->size();
    for (uint64_t i = 0; i < n; ++i) add(i, array.address().value() + i * size);
    if (t.nr_irqs == 0) t.nr_irqs = static_cast<uint32_t>(n);
  } else {
    throw Error(Error::Kind::Lookup, "no interrupt descriptors: none of sparse_irqs, irq_desc_tree, irq_desc");
  }
  return t;
}

std::vector<Softirq> read_softirqs(const Kernel& k) {
  Object vec = k.object("softirq_vec");
  const uint64_t n = vec.type().strip().count().value_or(0);
  std::optional<Object> names;
  if (k.find_symbol("softirq_to_name") != nullptr) names = k.object("softirq_to_name");
  std::vector<Softirq> out;
  for (uint64_t i = 0; i < n; ++i) {
    Softirq s;
    s.nr = static_cast<int>(i);
    s.action = vec.at(i)["action"].pointer();
    if (names) {
      try {
        if (!names->at(i).is_null()) s.name = names->at(i).string(32);
      } catch (const ModelError&) {
        // The name is decoration; the vector stays.
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<IdtGate> read_idt(const Kernel& k) {
  // struct gate_struct (arch/x86/include/asm/desc_defs.h) is the CPU's 16-byte
  // long-mode gate: offset bits 0-15 at byte 0, 16-31 at byte 6, 32-63 at byte 8.
  const VirtAddr table = k.symbol_address("idt_table");
  std::vector<IdtGate> out;
  for (int v = 0; v < 256; ++v) {
    const uint64_t at = table.value() + static_cast<uint64_t>(v) * 16;
    const uint64_t low = k.memory().read<uint16_t>(VirtAddr{at});
    const uint64_t mid = k.memory().read<uint16_t>(VirtAddr{at + 6});
    const uint64_t high = k.memory().read<uint32_t>(VirtAddr{at + 8});
    out.push_back({v, VirtAddr{low | (mid << 16) | (high << 32)}});
  }
  return out;
}

}  // namespace kdive
