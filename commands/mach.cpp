// mach: the machine as the kernel saw it, in crash's layout — type, memory,
// CPUs and speed, HZ, page size, the bases of the kernel's address regions,
// the stack sizes and each CPU's IRQ and exception stacks; -m the firmware
// memory map (e820), -c each CPU's struct cpuinfo_x86.
#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_layout.hpp"
#include "kernel-model/machine.hpp"
#include "kernel-model/system_info.hpp"

namespace kdive {
namespace {

// x86_64's fixed values (arch/x86/include/asm/page_64_types.h,
// pgtable_64_types.h): __START_KERNEL_map, MODULES_VADDR (the start map plus
// the 1 GiB KERNEL_IMAGE_SIZE), THREAD_SIZE without KASAN (Debian's kernels).
constexpr uint64_t kStartKernelMap = 0xffffffff80000000;
constexpr uint64_t kModulesBase = 0xffffffffc0000000;
constexpr uint64_t kThreadSize = 16384;
constexpr uint64_t kPageSize = 4096;

void line(Output& out, std::string_view label, std::string_view value) {
  out.print("{:>22}:{}{}\n", label, value.empty() ? "" : " ", value);
}

std::string memory_size(uint64_t bytes) {
  // As sys prints it: "511.5 MB", "2 GB".
  const double gb = static_cast<double>(bytes) / (1ull << 30);
  const double mb = static_cast<double>(bytes) / (1ull << 20);
  std::string s = fmt::format("{:.1f}", gb >= 1.0 ? gb : mb);
  if (s.ends_with(".0")) s.resize(s.size() - 2);
  return s + (gb >= 1.0 ? " GB" : " MB");
}

void print_summary(const Kernel& k, Output& out, const OfflineCpus& offline) {
  SystemInfo s = read_system_info(k);
  const KernelLayout& l = k.layout();
  Json j = Json::object();
  line(out, "MACHINE TYPE", s.machine);
  j["machine"] = s.machine;
  if (s.memory_bytes) line(out, "MEMORY SIZE", memory_size(*s.memory_bytes));
  j["memory"] = s.memory_bytes ? Json(*s.memory_bytes) : Json(nullptr);
  const int cpus = s.cpus.value_or(1);
  std::string cpu_text = std::to_string(cpus);
  if (s.online_cpus && *s.online_cpus < cpus) cpu_text += fmt::format(" [OFFLINE: {}]", cpus - *s.online_cpus);
  line(out, "CPUS", cpu_text);
  j["cpus"] = cpus;
  j["online_cpus"] = s.online_cpus ? Json(*s.online_cpus) : Json(nullptr);
  if (s.cpu_khz) line(out, "PROCESSOR SPEED", fmt::format("{} Mhz", *s.cpu_khz / 1000));
  j["cpu_mhz"] = s.cpu_khz ? Json(*s.cpu_khz / 1000) : Json(nullptr);
  if (s.hz) line(out, "HZ", std::to_string(*s.hz));
  j["hz"] = s.hz ? Json(*s.hz) : Json(nullptr);
  line(out, "PAGE SIZE", std::to_string(kPageSize));
  j["page_size"] = kPageSize;
  line(out, "KERNEL VIRTUAL BASE", fmt::format("{:016x}", l.page_offset.value()));
  line(out, "KERNEL VMALLOC BASE", fmt::format("{:016x}", l.vmalloc_start.value()));
  line(out, "KERNEL VMEMMAP BASE", fmt::format("{:016x}", l.vmemmap_start.value()));
  line(out, "KERNEL START MAP", fmt::format("{:016x}", kStartKernelMap));
  line(out, "KERNEL MODULES BASE", fmt::format("{:016x}", kModulesBase));
  line(out, "KERNEL STACK SIZE", std::to_string(kThreadSize));
  j["kernel_virtual_base"] = json_hex(l.page_offset.value());
  j["kernel_vmalloc_base"] = json_hex(l.vmalloc_start.value());
  j["kernel_vmemmap_base"] = json_hex(l.vmemmap_start.value());
  j["kernel_start_map"] = json_hex(kStartKernelMap);
  j["kernel_modules_base"] = json_hex(kModulesBase);
  j["kernel_stack_size"] = kThreadSize;

  // The stacks, grouped by kind in the order CPU 0 has them.
  std::vector<MachineStacks> per_cpu;
  for (int cpu = 0; cpu < cpus; ++cpu) {
    per_cpu.push_back(read_machine_stacks(k, cpu));
    for (const std::string& p : per_cpu.back().problems) {
      out.warning("mach: " + p);
      out.data_lost(p);
    }
  }
  Json stacks = Json::array();
  if (!per_cpu.empty()) {
    for (const StackArea& kind : per_cpu[0].stacks) {
      line(out, kind.name + " STACK SIZE", std::to_string(kind.size));
      line(out, kind.name + " STACKS", "");
      Json bases = Json::array();
      for (int cpu = 0; cpu < cpus; ++cpu) {
        for (const StackArea& a : per_cpu[static_cast<size_t>(cpu)].stacks) {
          if (a.name != kind.name) continue;
          const bool hidden = offline.hidden(cpu);
          line(out, fmt::format("CPU {}", cpu), fmt::format("{:016x}{}", a.base.value(), hidden ? " [OFFLINE]" : ""));
          bases.push_back({{"cpu", cpu}, {"base", json_hex(a.base.value())}});
          if (hidden) bases.back()["offline"] = true;
        }
      }
      stacks.push_back({{"name", kind.name}, {"size", kind.size}, {"cpus", std::move(bases)}});
    }
  }
  j["stacks"] = std::move(stacks);
  out.result(std::move(j));
}

void print_memory_map(const Kernel& k, Output& out) {
  std::vector<MemoryMapEntry> map;
  try {
    map = read_memory_map(k);
  } catch (const Error& e) {
    if (k.symbols().find("e820_table") == nullptr && k.symbols().find("e820") == nullptr) throw NotInKernel(e.what());
    throw CommandError(e.what());
  }
  out.print("      PHYSICAL ADDRESS RANGE         TYPE\n");
  Json rows = Json::array();
  for (const MemoryMapEntry& m : map) {
    out.print("{:016x} - {:016x}  {}\n", m.start, m.end, m.type_name);
    rows.push_back(
        {{"start", json_hex(m.start)}, {"end", json_hex(m.end)}, {"type", m.type}, {"type_name", m.type_name}});
  }
  out.result(std::move(rows));
}

void print_cpuinfo(const Kernel& k, int radix, Output& out, const OfflineCpus& offline) {
  const int cpus = read_system_info(k).cpus.value_or(1);
  const ValueFormat f = value_format_for(k, radix);
  KernelEvalContext ctx(k);
  Json rows = Json::array();
  for (int cpu = 0; cpu < cpus; ++cpu) {
    if (cpu > 0) out.print("\n");
    if (offline.hidden(cpu)) {
      out.print("CPU {}: [OFFLINE]\n", cpu);
      rows.push_back({{"cpu", cpu}, {"offline", true}});
      continue;
    }
    out.print("CPU {}:\n", cpu);
    try {
      Object info = cpuinfo(k, cpu);
      Value v = Value::in_memory(ctx, info.address(), &info.type());
      out.print("{}\n", format_instance(v, f));
      rows.push_back({{"cpu", cpu}, {"address", json_hex(info.address().value())}, {"cpuinfo", value_json(v)}});
    } catch (const ModelError& e) {
      out.print("(damaged: {})\n", e.what());
      out.data_lost(fmt::format("mach -c: CPU {}: {}", cpu, e.what()));
      rows.push_back({{"cpu", cpu}, {"address", nullptr}, {"cpuinfo", nullptr}, {"error", e.what()}});
    }
  }
  out.result(std::move(rows));
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (!args.positional().empty()) throw CommandError(fmt::format("unknown argument '{}'", args.positional()[0]));
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  if (args.has('m')) return print_memory_map(k, out);
  if (args.has('c')) {
    const int radix = args.has('x') ? 16 : args.has('d') ? 10 : session.settings().radix;
    return print_cpuinfo(k, radix, out, OfflineCpus(session));
  }
  print_summary(k, out, OfflineCpus(session));
}

const CommandRegistrar registrar{
    {.name = "mach",
     .summary = "machine specific data",
     .usage = "mach [-m | -c [-x | -d]]",
     .description = "Shows the machine type, memory size, CPUs (and how many were offline), the\n"
                    "processor speed, HZ, the page size, the bases of the kernel's address regions\n"
                    "(direct map, vmalloc, vmemmap, the kernel image's map, modules), the kernel\n"
                    "stack size, and for each kind of per-CPU stack (IRQ, and the exception stacks\n"
                    "of the cpu_entry_area: DOUBLEFAULT, NMI, DEBUG, MCE, VC, VC2) its size and\n"
                    "each CPU's base address.\n\n"
                    "  -m  the firmware's physical memory map (the kernel's e820 table).\n"
                    "  -c  each CPU's struct cpuinfo_x86, as struct prints it.\n"
                    "  -x  with -c: integers in hexadecimal.\n"
                    "  -d  with -c: integers in decimal.",
     .examples = "  kdive> mach -m\n"
                 "        PHYSICAL ADDRESS RANGE         TYPE\n"
                 "  0000000000000000 - 0000000000001000  E820_RESERVED\n"
                 "  0000000000001000 - 000000000009fc00  E820_RAM\n"
                 "  0000000000100000 - 000000001ffdd000  E820_RAM\n\n"
                 "The model and features of CPU 1:\n\n"
                 "  kdive> mach -c | grep -A3 'CPU 1'",
     .options = {{'m', "", "the physical memory map"},
                 {'c', "", "each CPU's cpuinfo_x86"},
                 {'x', "", "-c in hexadecimal"},
                 {'d', "", "-c in decimal"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"machine", "memory", "cpus", "online_cpus", "cpu_mhz", "hz", "page_size", "kernel_virtual_base",
                       "kernel_vmalloc_base", "kernel_vmemmap_base", "kernel_start_map", "kernel_modules_base",
                       "kernel_stack_size", "stacks"},
              .notes = "memory in bytes; bases as \"0x...\"; stacks a list of {name, size, cpus: [{cpu,\n"
                       "base, offline? (set offline hide)}]}. A value the dump does not give is null.\n"
                       "`mach -m` gives a list of {start, end, type, type_name} (end exclusive);\n"
                       "`mach -c` a list of {cpu, address, cpuinfo} with cpuinfo the struct's members\n"
                       "as an object, or {cpu, offline: true} under `set offline hide`.",
              .example = "mach"}},
    run};

}  // namespace
}  // namespace kdive
