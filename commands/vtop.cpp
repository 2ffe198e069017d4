// vtop: translate virtual addresses to physical, showing each page-table level.
// ptov: the reverse, for the direct map.
#include <fmt/format.h>

#include <algorithm>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/context_space.hpp"
#include "commands/cpu_list.hpp"
#include "commands/offline_cpus.hpp"
#include "commands/page_rows.hpp"
#include "commands/task_args.hpp"
#include "commands/vma_rows.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/buddy.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"
#include "kernel-model/page_location.hpp"
#include "kernel-model/page_struct.hpp"
#include "kernel-model/swap.hpp"
#include "kernel-model/task_sources.hpp"
#include "kernel-model/tasks.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/vmas.hpp"

namespace kdive {
namespace {

std::string page_size_note(uint64_t size) {
  if (size == (1ull << 30)) return "  (1GB)";
  if (size == (2ull << 20)) return "  (2MB)";
  return "";
}

std::string flags_text(const std::vector<std::string_view>& flags) {
  std::string out;
  for (std::string_view f : flags) out += fmt::format("{}{}", out.empty() ? "" : "|", f);
  return out;
}

// The kernel's virtual address of a space's top-level table, as crash's
// "PGD DIRECTORY" shows it: init_top_pgt's own symbol for the kernel's table
// (renamed from init_level4_pgt in 4.13, commit 65ade2f872b4), else the
// direct-map address of the table.
VirtAddr page_table_address(const Kernel& k, const AddressSpace& space) {
  if (space.page_table() == k.layout().kernel_pgd) {
    for (const char* name : {"init_top_pgt", "init_level4_pgt"}) {
      if (auto a = k.symbols().address(name)) return *a;
    }
  }
  return k.memory().to_direct(space.page_table());
}

// The struct page of a physical page, or why it could not be read.
struct PageAt {
  VirtAddr page;
  std::optional<PageStruct> fields;
  std::string error;
};

PageAt read_page_at(const Kernel& k, PhysAddr physical) {
  PageAt p;
  p.page = pfn_to_page(k, physical.value() >> 12);
  try {
    p.fields = PageStructReader(k).read(p.page);
  } catch (const ModelError& e) {
    p.error = e.what();
  }
  return p;
}

struct Result {
  VirtAddr address;
  bool user_address;  // in the user half (crash lays those out narrower, without the directory lines)
  const AddressSpace& space;
  Translation translation;
  std::vector<std::string_view> flags;  // of the last entry, when the page is mapped
  PageLocation location;
  std::optional<Vma> vma;  // the VMA holding a user address
  std::string vma_error;   // why the VMAs could not be read
  std::optional<PageAt> page;
};

void print(const Kernel& k, const Result& r, Output& out) {
  const bool user = r.user_address;
  const Translation& t = r.translation;
  const int width = user ? 10 : 16;
  out.print("{:<{}}  {:<16}\n", "VIRTUAL", width, "PHYSICAL");
  // crash pads a physical address to its column, not "(not mapped)".
  if (t.phys) {
    out.print("{:<{}x}  {:<16x}\n\n", r.address, width, *t.phys);
  } else {
    out.print("{:<{}x}  (not mapped)\n\n", r.address, width);
  }
  // crash names the kernel's table and its first entry; a process's walk
  // starts straight with its levels.
  if (!user) out.print("PGD DIRECTORY: {:x}\n", page_table_address(k, r.space));
  for (size_t i = 0; i < t.levels.size(); ++i) {
    const auto& level = t.levels[i];
    if (i == 0 && !user) {
      out.print("PAGE DIRECTORY: {:x}\n", level.entry);
    } else {
      out.print("{:>6}: {:x} => {:x}\n", level.level, level.entry_address, level.entry);
    }
  }
  if (!t.phys) {
    if (r.location.swap) {
      out.print("\n");
      out.print("{}\n", swap_pte_lines(r.location));
    } else {
      out.print("\n{:x}: {}\n", r.address, t.fault);
    }
  } else {
    const PhysAddr page = t.phys->align_down(t.page_size);
    out.print("  PAGE: {:x}{}\n", page, page_size_note(t.page_size));
    std::string page_text = fmt::format("{:x}", page);
    const int phys_width = std::max<int>(8, static_cast<int>(page_text.size()));
    // crash heads the last entry "PTE" whatever its level.
    out.print("\n{:>9}{:7}  {:>{}}  FLAGS\n", "PTE", "", "PHYSICAL", phys_width);
    out.print("{:>16x}  {:>{}}  ({})\n", t.levels.back().entry, page_text, phys_width, flags_text(r.flags));
  }
  if (r.vma) out.print("\n{}\n{}\n", vma_header(), vma_row(*r.vma));
  if (!r.vma_error.empty()) out.print("\n(damaged: {})\n", r.vma_error);
  if (r.location.swap) out.print("\n{}\n", swap_location_text(r.location));
  if (r.page) {
    const PageAt& p = *r.page;
    out.print("\n{}", page_header());
    out.write(p.fields ? page_row(*p.fields, nullptr) : damaged_page_row(p.page, p.error));
  }
}

Json to_json(const Result& r) {
  const Translation& t = r.translation;
  Json levels = Json::array();
  for (const auto& level : t.levels) {
    levels.push_back(
        {{"level", level.level}, {"entry_address", json_hex(level.entry_address)}, {"entry", json_hex(level.entry)}});
  }
  Json j = {{"address", json_hex(r.address)}, {"space", r.space.name()}};
  if (auto pid = r.space.pid()) j["pid"] = *pid;
  j["page_table"] = json_hex(r.space.page_table());
  j["levels"] = std::move(levels);
  j["physical"] = t.phys ? Json(json_hex(*t.phys)) : Json(nullptr);
  j["page_size"] = t.page_size;
  j["flags"] = r.flags;
  if (!t.phys) j["fault"] = t.fault;
  if (r.location.swap) j["swap"] = swap_json(r.location);
  if (r.vma) j["vma"] = vma_json(*r.vma);
  if (!r.vma_error.empty()) j["vma"] = {{"error", r.vma_error}};
  if (r.page) {
    const PageAt& p = *r.page;
    j["page"] = p.fields ? page_json(*p.fields, nullptr) : Json{{"page", json_hex(p.page)}, {"error", p.error}};
  }
  return j;
}

// What vtop adds to a walk: the swap entry of a swapped-out user page, the VMA
// holding a user address, and the struct page of a mapped page.
void complete(const Kernel& k, Result& r, const std::vector<SwapDevice>& devices, Output& out) {
  r.location = locate_page(r.translation, devices);
  if (r.translation.phys) r.page = read_page_at(k, *r.translation.phys);
  if (!r.user_address || !r.space.pid()) return;
  const Task* task = k.tasks().by_pid(*r.space.pid());
  if (task == nullptr || task->mm.is_null()) return;
  try {
    MmVmas m = read_mm_vmas(k, task->mm);
    if (const Vma* v = find_vma(m.vmas, r.address)) {
      r.vma = *v;
    } else if (!m.vmas.complete()) {
      r.vma_error = fmt::format("no VMA found, and the VMAs are damaged: {}", m.vmas.breaks.front().describe());
    }
  } catch (const ModelError& e) {
    r.vma_error = fmt::format("mm_struct {:x}: {}", task->mm, e.what());
  }
  if (!r.vma_error.empty()) out.data_lost(fmt::format("vtop {:x}: {}", r.address, r.vma_error));
}

// The swap devices for naming a swap entry's device; none when the kernel has
// no swap or its table cannot be read (the entry is still decoded).
std::vector<SwapDevice> read_swap_devices_or_none(const Kernel& k) {
  try {
    return read_swap_devices(k);
  } catch (const ModelError&) {
    return {};
  }
}

// The space an address is translated in: with -c, the page table of the task
// it names (for kernel addresses too: a process's table maps the kernel half;
// a kernel thread has only the kernel's); else the current context's for a
// user address and the kernel's for a kernel address.
AddressSpace space_for(Session& session, const ParsedArgs& args, VirtAddr address,
                       std::optional<AddressSpace::Kind> wanted) {
  Kernel& k = session.kernel();
  const bool kernel_half = address_half(address, k.layout().levels) == AddressHalf::Kernel;
  auto c = args.value('c');
  if (!c) {
    // A kernel address needs no context (and so no task list).
    if (kernel_half && wanted != AddressSpace::Kind::User) return AddressSpace::kernel(k);
    return context_space(k, session.context(), address, wanted);
  }
  auto tasks = select_tasks(k, k.tasks(), {*c});
  if (tasks.size() != 1) throw CommandError(fmt::format("-c {} names {} tasks, not one", *c, tasks.size()));
  const Task& task = *tasks.front();
  if (kernel_half && wanted != AddressSpace::Kind::User) {
    return task.mm.is_null() ? AddressSpace::kernel(k) : AddressSpace::of_task(k, task);
  }
  return context_space(k, task, address, wanted);
}

void run_vtop(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.positional().empty()) throw CommandError("an address is needed (see 'help vtop')");
  if (args.has('u') && args.has('k')) throw CommandError("-u and -k exclude each other");
  std::optional<AddressSpace::Kind> wanted;
  if (args.has('u')) wanted = AddressSpace::Kind::User;
  if (args.has('k')) wanted = AddressSpace::Kind::Kernel;
  Json results = Json::array();
  bool first = true;
  std::optional<std::vector<SwapDevice>> devices;
  for (const auto& word : args.positional()) {
    VirtAddr address = parse_address(&k, word);
    AddressSpace space = space_for(session, args, address, wanted);
    const bool user_address = address_half(address, k.layout().levels) == AddressHalf::User;
    Result r{address, user_address, space, space.translate(address), {}, {}, {}, {}, {}};
    if (r.translation.phys) r.flags = entry_flag_names(r.translation.levels.back());
    if (!devices && user_address) devices = read_swap_devices_or_none(k);
    complete(k, r, devices ? *devices : std::vector<SwapDevice>{}, out);
    if (!first) out.print("\n");
    print(k, r, out);
    results.push_back(to_json(r));
    first = false;
  }
  out.result(std::move(results));
}

// crash's "ptov offset:cpuspec": where a per-CPU offset lands in each CPU's area.
Json print_per_cpu_offset(Session& session, uint64_t offset, const std::string& spec, bool first, Output& out) {
  const Kernel& k = session.kernel();
  const int cpus = possible_cpus(k);
  const int width = static_cast<int>(fmt::format("[{}]", cpus - 1).size()) + 2;
  out.print("{}PER-CPU OFFSET: {:x}\n", first ? "" : "\n", offset);
  out.print("  {:<{}}  {:<16}\n", "CPU", width, "VIRTUAL");
  Json per_cpu = Json::array();
  const OfflineCpus offline(session);
  for (int cpu : parse_cpu_spec(spec, cpus, session.context().cpu)) {
    const uint64_t virt = offset + k.per_cpu_offset(cpu);
    const bool hidden = offline.hidden(cpu);
    out.print("  {:<{}}{:x}{}\n", fmt::format("[{}]", cpu), width, virt, hidden ? " [OFFLINE]" : "");
    per_cpu.push_back({{"cpu", cpu}, {"virtual", json_hex(virt)}});
    if (hidden) per_cpu.back()["offline"] = true;
  }
  return {{"offset", json_hex(offset)}, {"cpus", std::move(per_cpu)}};
}

void run_ptov(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.positional().empty()) throw CommandError("a physical address is needed (see 'help ptov')");
  const AddressSpace kernel = AddressSpace::kernel(k);
  Json results = Json::array();
  bool first = true;
  for (const auto& arg : args.positional()) {
    CpuSuffix word = split_cpu_suffix(arg);
    auto p = parse_number(word.base, 16);
    if (!p) throw CommandError(fmt::format("invalid {}: '{}'", word.cpus ? "per-CPU offset" : "physical address", arg));
    if (word.cpus) {
      results.push_back(print_per_cpu_offset(session, *p, *word.cpus, first, out));
      first = false;
      continue;
    }
    const PhysAddr physical{*p};
    const VirtAddr virt = kernel.direct_map_address(physical);
    out.print("{}{:<16}  {:<16}\n", first ? "" : "\n", "VIRTUAL", "PHYSICAL");
    out.print("{:<16x}  {:<16x}\n", virt, physical);
    results.push_back({{"physical", json_hex(physical)}, {"virtual", json_hex(virt)}});
    first = false;
  }
  out.result(std::move(results));
}

const CommandRegistrar vtop_registrar{
    {.name = "vtop",
     .summary = "virtual to physical address translation",
     .usage = "vtop [-c pid|task] [-u|-k] address ...",
     .description = "Translates each virtual address through the page tables and shows every\n"
                    "level visited (PGD, P4D with 5-level paging, PUD, PMD, PTE), the physical\n"
                    "page, its size for 2 MB and 1 GB mappings, and the last entry's flags.\n"
                    "A user address (any address below the kernel half; -u insists on one) is\n"
                    "translated through the page table of the current context's process (see\n"
                    "set; under foreach, of each task in turn), a kernel address (-k) through\n"
                    "the kernel's own (init_top_pgt). -c translates through the page table of\n"
                    "the task given by PID or task address instead, kernel addresses too.",
     .examples = "A kernel text address, mapped by a 2 MB page:\n"
                 "\n"
                 "  kdive> vtop linux_banner\n"
                 "  VIRTUAL           PHYSICAL\n"
                 "  ffffffff96800200  8a00200\n"
                 "\n"
                 "  PGD DIRECTORY: ffffffff9700a000\n"
                 "  PAGE DIRECTORY: 920e067\n"
                 "     PUD: 920eff0 => 920f063\n"
                 "     PMD: 920f5a0 => 8000000008a001e1\n"
                 "    PAGE: 8a00000  (2MB)\n"
                 "\n"
                 "        PTE         PHYSICAL  FLAGS\n"
                 "  8000000008a001e1   8a00000  (PRESENT|ACCESSED|DIRTY|PSE|GLOBAL|NX)\n"
                 "\n"
                 "A process's anonymous page, in its own address space:\n"
                 "\n"
                 "  kdive> set 88\n"
                 "  kdive> vtop 7f0000100000\n"
                 "  VIRTUAL     PHYSICAL\n"
                 "  7f0000100000  91dc000\n"
                 "\n"
                 "     PGD: 24667f0 => 2495067\n"
                 "     PUD: 2495000 => 2491067\n"
                 "     PMD: 2491000 => 1bc3067\n"
                 "     PTE: 1bc3800 => 80000000091dc867\n"
                 "    PAGE: 91dc000\n"
                 "\n"
                 "        PTE         PHYSICAL  FLAGS\n"
                 "  80000000091dc867   91dc000  (PRESENT|RW|USER|ACCESSED|DIRTY|NX)\n"
                 "\n"
                 "The same address in two tasks, each through its own page table:\n"
                 "\n"
                 "  kdive> foreach 88 86 vtop 7f0000100000",
     .options = {{'u', "", "the addresses are user virtual addresses"},
                 {'k', "", "the addresses are kernel virtual addresses"},
                 {'c', "pid|task", "translate through this task's page table"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "space", "page_table", "levels", "physical", "page_size", "flags"},
              .notes = "One object per address. space is \"kernel\" or \"user\" (then pid names the\n"
                       "task whose page table was used); page_table is the physical address of its\n"
                       "top-level table. levels lists each entry visited: {level (PGD, P4D, PUD, PMD,\n"
                       "PTE), entry_address (physical), entry}. physical is null when the address is\n"
                       "not mapped, and fault then says why; page_size is 4096, 2097152 or\n"
                       "1073741824; flags names the bits set in the last entry of a mapped page.",
              .example = "vtop linux_banner"}},
    run_vtop};

const CommandRegistrar ptov_registrar{
    {.name = "ptov",
     .summary = "physical to virtual address translation",
     .usage = "ptov physical-address | offset:cpuspec ...",
     .description = "Shows the kernel's direct-map (page_offset_base) virtual address of each\n"
                    "physical address. Addresses are hex.\n"
                    "\n"
                    "offset:cpuspec takes a per-CPU offset (a per-CPU symbol's value) and shows\n"
                    "its address in the per-CPU area of each CPU named: \"2a768:1,3\", \"2a768:a\"\n"
                    "(every CPU), \"2a768:\" (the current context's CPU).",
     .examples = "  kdive> ptov 1000000 2000\n"
                 "  VIRTUAL           PHYSICAL\n"
                 "  ffff8bd681000000  1000000\n"
                 "\n"
                 "  VIRTUAL           PHYSICAL\n"
                 "  ffff8bd680002000  2000\n"
                 "\n"
                 "  kdive> ptov 2a768:a\n"
                 "  PER-CPU OFFSET: 2a768\n"
                 "    CPU    VIRTUAL\n"
                 "    [0]    ffff88803ec2a768\n"
                 "    [1]    ffff88803ed2a768",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"physical", "virtual"},
              .notes = "One object per address: the physical address and its direct-map virtual\n"
                       "address; for offset:cpuspec, {offset, cpus: [{cpu, virtual}]} instead.",
              .example = "ptov 1000000"}},
    run_ptov};

}  // namespace
}  // namespace kdive
