// irq: the interrupt descriptors with their handlers, and (-s) their per-CPU
// counts like /proc/interrupts, (-a) affinity, (-b) the softirq vectors and
// (-d) the IDT, in crash's layout.
#include <fmt/format.h>

#include <charconv>
#include <map>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/centered.hpp"
#include "commands/cpu_list.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/symbol_text.hpp"
#include "kernel-model/cpu_mask.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/irqs.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/task_sources.hpp"

namespace kdive {
namespace {

std::string names_of(const IrqDesc& d) {
  std::string names;
  for (const IrqAction& a : d.actions) {
    if (a.name.empty()) continue;
    if (!names.empty()) names += ',';
    names += a.name;
  }
  return names;
}

Json desc_json(const Kernel& k, const IrqDesc& d) {
  Json actions = Json::array();
  for (const IrqAction& a : d.actions) {
    actions.push_back({{"irqaction", json_hex(a.action)},
                       {"handler", json_hex(a.handler)},
                       {"handler_symbol", symbol_text(k, a.handler)},
                       {"thread_fn", a.thread_fn.is_null() ? Json(nullptr) : Json(json_hex(a.thread_fn))},
                       {"name", a.name}});
  }
  Json j = {{"irq", d.irq},        {"irq_desc", json_hex(d.desc)}, {"actions", std::move(actions)},
            {"chip", d.chip_name}, {"flow", d.flow_name},          {"hwirq", d.hwirq},
            {"counts", d.counts}};
  j["affinity"] = d.affinity ? Json(*d.affinity) : Json(nullptr);
  if (!d.error.empty()) j["error"] = d.error;
  return j;
}

const IrqDesc* find(const IrqTable& t, uint32_t irq) {
  for (const IrqDesc& d : t.descs) {
    if (d.irq == irq) return &d;
  }
  return nullptr;
}

void print_breaks_before(const IrqTable& t, size_t position, Output& out) {
  for (const WalkBreak& b : t.breaks) {
    if (b.position != position) continue;
    out.print("(damaged: {})\n", b.describe());
    out.data_lost(b.describe());
  }
}

// The IRQ table: every IRQ below nr_irqs (crash's default), the in-use ones
// (-u), or the ones asked for.
void print_table(const Kernel& k, const IrqTable& t, const std::vector<uint32_t>& irqs, bool in_use, Output& out,
                 Json& rows) {
  out.print(" IRQ  {}  {}  NAME\n", centered("IRQ_DESC/_DATA", 16), centered("IRQACTION", 16));
  const std::string unused = centered("(unused)", 16);
  for (uint32_t irq : irqs) {
    const IrqDesc* d = find(t, irq);
    if (in_use && d == nullptr) continue;
    std::string line = fmt::format("{}  {}  ", centered(fmt::format("{}", irq), 4, true),
                                   d ? fmt::format("{:16x}", d->desc.value()) : unused);
    if (d == nullptr) {
      out.print("{}{}\n", line, unused);
      continue;
    }
    rows.push_back(desc_json(k, *d));
    if (d->actions.empty()) {
      out.print("{}{}  {}\n", line, unused, d->error.empty() ? "" : fmt::format("(damaged: {})", d->error));
    } else {
      for (size_t i = 0; i < d->actions.size(); ++i) {
        out.print("{}{:16x}  \"{}\"\n", i == 0 ? line : std::string(24, ' '), d->actions[i].action.value(),
                  d->actions[i].name);
      }
      if (!d->error.empty()) out.print("{}(damaged: {})\n", std::string(24, ' '), d->error);
    }
    if (!d->error.empty()) out.data_lost(fmt::format("IRQ {}", irq));
  }
  // A damaged tree node loses a range of IRQs (its break names them); the
  // rows above show what was reached, the breaks say what was not.
  for (const WalkBreak& b : t.breaks) {
    out.print("(damaged: {})\n", b.describe());
    out.data_lost(b.describe());
  }
}

void print_stats(const Kernel& k, const IrqTable& t, const std::vector<int>& cpus, Output& out, Json& rows) {
  out.print("     ");
  for (int c : cpus) out.print("{:>10} ", fmt::format("CPU{}", c));
  out.print("\n");
  for (size_t i = 0; i <= t.descs.size(); ++i) {
    print_breaks_before(t, i, out);
    if (i == t.descs.size()) break;
    const IrqDesc& d = t.descs[i];
    if (d.irq >= t.nr_irqs && t.nr_irqs != 0) continue;
    if (d.actions.empty()) continue;
    out.print("{:3}: ", d.irq);
    for (int c : cpus) {
      if (static_cast<size_t>(c) < d.counts.size()) {
        out.print("{:10} ", d.counts[static_cast<size_t>(c)]);
      } else {
        out.print("{:>10} ", "?");
      }
    }
    std::string chip = fmt::format("{:>8}", d.chip_name);
    if (!d.flow_name.empty()) chip += fmt::format("-{:<8}", d.flow_name);
    out.print("{} {}\n", chip, names_of(d));
    if (d.counts.empty()) {
      out.print("     (damaged: counts not read{})\n", d.error.empty() ? "" : ": " + d.error);
      out.data_lost(fmt::format("IRQ {} counts", d.irq));
    }
    rows.push_back(desc_json(k, d));
  }
}

void print_affinity(const Kernel& k, const IrqTable& t, Output& out, Json& rows) {
  out.print("IRQ NAME                 AFFINITY\n");
  for (size_t i = 0; i <= t.descs.size(); ++i) {
    print_breaks_before(t, i, out);
    if (i == t.descs.size()) break;
    const IrqDesc& d = t.descs[i];
    if (d.actions.empty()) continue;
    out.print("{:3} {:<20} {}\n", d.irq, names_of(d),
              d.affinity ? cpu_ranges(*d.affinity) : fmt::format("(damaged: {})", d.error));
    if (!d.affinity) out.data_lost(fmt::format("IRQ {} affinity", d.irq));
    rows.push_back(desc_json(k, d));
  }
}

Json softirqs(const Kernel& k, Output& out) {
  std::vector<Softirq> vec;
  try {
    vec = read_softirqs(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("-b: this kernel has no softirq_vec ({})", e.what()));
  }
  out.print("SOFTIRQ_VEC {}\n", centered("ACTION", 16, true));
  Json rows = Json::array();
  for (const Softirq& s : vec) {
    rows.push_back(
        {{"nr", s.nr}, {"name", s.name}, {"action", json_hex(s.action)}, {"symbol", symbol_text(k, s.action)}});
    if (s.action.is_null()) continue;
    std::string module;
    if (auto hit = k.symbol_at(s.action); hit && !hit->symbol->module.empty()) {
      module = fmt::format("  [{}]", hit->symbol->module);
    }
    out.print("    [{}]{} {:16x}  <{}>{}\n", s.nr, s.nr < 10 ? "    " : "   ", s.action.value(),
              symbol_text(k, s.action), module);
  }
  return rows;
}

Json idt(const Kernel& k, Output& out) {
  std::vector<IdtGate> gates;
  try {
    gates = read_idt(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("-d: this kernel has no idt_table ({})", e.what()));
  }
  Json rows = Json::array();
  for (const IdtGate& g : gates) {
    const std::string sym = symbol_text(k, g.handler);
    out.print("{:>5} {}\n", fmt::format("[{}]", g.vector), sym.empty() ? fmt::format("{:x}", g.handler.value()) : sym);
    rows.push_back({{"vector", g.vector}, {"handler", json_hex(g.handler)}, {"symbol", sym}});
  }
  return rows;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  Json result = {{"nr_irqs", nullptr}, {"irqs", Json::array()}, {"softirqs", Json::array()}, {"idt", Json::array()}};
  if (args.has('d')) {
    result["idt"] = idt(k, out);
    out.result(std::move(result));
    return;
  }
  if (args.has('b')) {
    result["softirqs"] = softirqs(k, out);
    out.result(std::move(result));
    return;
  }
  if (args.has('c') && !args.has('s')) throw CommandError("-c: only with -s");
  IrqTable t;
  try {
    t = read_irq_table(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(e.what());
  }
  result["nr_irqs"] = t.nr_irqs;
  Json rows = Json::array();
  if (args.has('s')) {
    std::vector<int> cpus;
    if (auto spec = args.value('c')) {
      cpus = parse_cpu_list(*spec, t.cpus);
    } else {
      for (int c = 0; c < t.cpus; ++c) cpus.push_back(c);
    }
    // `set offline hide`: an offline CPU's column is left out, and said.
    const OfflineCpus offline(session);
    std::erase_if(cpus, [&](int c) {
      if (offline.hidden(c)) out.warning(fmt::format("irq: CPU{} is OFFLINE.", c));
      return offline.hidden(c);
    });
    print_stats(k, t, cpus, out, rows);
  } else if (args.has('a')) {
    print_affinity(k, t, out, rows);
  } else {
    std::vector<uint32_t> irqs;
    if (!args.positional().empty()) {
      for (const std::string& word : args.positional()) {
        uint32_t irq = 0;
        auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), irq);
        if (ec != std::errc() || end != word.data() + word.size()) {
          throw CommandError(fmt::format("invalid IRQ value: '{}'", word));
        }
        if (irq >= t.nr_irqs) {
          throw CommandError(fmt::format("invalid IRQ value: {}  ({} max)", irq, t.nr_irqs == 0 ? 0 : t.nr_irqs - 1));
        }
        irqs.push_back(irq);
      }
    } else {
      for (uint32_t i = 0; i < t.nr_irqs; ++i) irqs.push_back(i);
      // A descriptor past nr_irqs would be a damaged tree; show it anyway.
      for (const IrqDesc& d : t.descs) {
        if (d.irq >= t.nr_irqs) irqs.push_back(d.irq);
      }
    }
    print_table(k, t, irqs, args.has('u') && args.positional().empty(), out, rows);
  }
  result["irqs"] = std::move(rows);
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "irq",
     .summary = "interrupt descriptors, handlers, counts, softirqs",
     .usage = "irq [[irq ...] | -u] | -d | -b | -a | -s [-c cpu(s)]",
     .description = "Lists each IRQ below nr_irqs with its struct irq_desc and the irqaction chain\n"
                    "of its handlers with their names; an IRQ with no descriptor or no handler is\n"
                    "(unused). The descriptors come from the kernel's sparse IRQ tree (a radix tree\n"
                    "before 6.5, the maple tree sparse_irqs from 6.5) or its irq_desc[] array.\n"
                    "\n"
                    "  -u  only the IRQs that have a descriptor (crash's \"in use\"), handled or not.\n"
                    "  -s  per-CPU counts (kstat_irqs) of the IRQs with handlers, like\n"
                    "      /proc/interrupts: chip name and flow handler, then the handler names.\n"
                    "  -c  with -s, only these CPUs.\n"
                    "  -a  each handled IRQ's affinity mask (the CPUs it may be delivered to).\n"
                    "  -b  the softirq vectors (softirq_vec) and their action functions.\n"
                    "  -d  the x86_64 interrupt descriptor table (idt_table): each vector's handler.\n"
                    "\n"
                    "A damaged descriptor or tree node is marked; the rest of the table is listed.",
     .examples = "  kdive> irq -s\n"
                 "             CPU0       CPU1\n"
                 "    0:         77          0  IO-APIC-edge     timer\n"
                 "    1:          0          9  IO-APIC-edge     i8042\n"
                 "  kdive> irq 4\n"
                 "   IRQ   IRQ_DESC/_DATA      IRQACTION      NAME\n"
                 "    4   ffff8da601150400  ffff8da6013b3d00  \"ttyS0\"",
     .options = {{'u', "", "only the IRQs that have a descriptor"},
                 {'s', "", "per-CPU interrupt counts, like /proc/interrupts"},
                 {'c', "cpu", "with -s: only these CPUs (1, 1,3, 0-3, all)"},
                 {'a', "", "the affinity of each IRQ in use"},
                 {'b', "", "the softirq vectors"},
                 {'d', "", "the interrupt descriptor table"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"nr_irqs", "irqs", "softirqs", "idt"},
              .notes = "irqs: the descriptors shown, each {irq, irq_desc, actions [{irqaction,\n"
                       "handler, handler_symbol, thread_fn, name}], chip, flow, hwirq, counts (per\n"
                       "CPU), affinity (CPU numbers), error (when part could not be read)}. -b fills\n"
                       "softirqs [{nr, name, action, symbol}] and -d idt [{vector, handler, symbol}]\n"
                       "instead (irqs empty, nr_irqs null).",
              .example = "irq -u"}},
    run};

}  // namespace
}  // namespace kdive
