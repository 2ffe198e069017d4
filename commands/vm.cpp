// vm: a task's memory map — its mm_struct, page table, RSS and size, and
// each VMA with its flags and file; -p translates every page of every VMA.
#include <fmt/format.h>

#include <algorithm>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/centered.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "commands/value_format.hpp"
#include "commands/vm_flags.hpp"
#include "commands/vma_rows.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/expression.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/mm_usage.hpp"
#include "kernel-model/page_location.hpp"
#include "kernel-model/swap.hpp"
#include "kernel-model/tasks.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/vma_flag_names.hpp"
#include "kernel-model/vmas.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

std::string mm_line(VirtAddr mm, VirtAddr pgd, uint64_t rss_pages, uint64_t total_vm_pages) {
  return fmt::format("{}  {}  {}  {}", centered(fmt::format("{:x}", mm), 16), centered(fmt::format("{:x}", pgd), 16),
                     centered(fmt::format("{}k", rss_pages * 4), 6),
                     centered(fmt::format("{}k", total_vm_pages * 4), 8));
}

// The swap devices, read once per command; a kernel without swap has none.
std::vector<SwapDevice> swap_devices(const Kernel& k, Output& out) {
  try {
    return read_swap_devices(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) out.warning(fmt::format("vm: swap devices: {}", e.what()));
  } catch (const ModelError& e) {
    out.warning(fmt::format("vm: swap devices: {}", e.what()));
  }
  return {};
}

// -R: a VMA matches a reference that is an address inside it, its own
// vm_area_struct address, or text in its file's path.
bool matches(const Vma& v, const std::string& ref) {
  if (auto n = parse_number(ref, 16)) {
    if (v.contains(VirtAddr{*n}) || v.address.value() == *n) return true;
  }
  return !v.path.empty() && v.path.find(ref) != std::string::npos;
}

struct Options {
  bool pages = false;                  // -p
  std::optional<std::string> ref;      // -R
  std::optional<VirtAddr> single_vma;  // -P
  std::optional<MmVmas> given_mm;      // -M, checked to be an mm_struct
  bool dump_mm = false;                // -m
  bool dump_vmas = false;              // -v
  int radix = 10;                      // of -m and -v

  // crash prints the MM line and the VMA table's header only for the plain
  // listing (and -p, -R); -m, -v and -P show the task's line and their own.
  bool listing() const { return !dump_mm && !dump_vmas && !single_vma; }
  bool translating() const { return pages || single_vma.has_value(); }
};

uint64_t file_offset(const Vma& v, uint64_t address) { return v.pgoff * kPageSize + (address - v.start); }

Json page_rows(const AddressSpace& space, const Vma& v, const std::vector<SwapDevice>& devices, bool json,
               Output& out) {
  Json pages = Json::array();
  out.print("{:<10}  {}\n", "VIRTUAL", "PHYSICAL");
  for (uint64_t a = v.start; a < v.end; a += kPageSize) {
    PageLocation at = locate_page(space.translate(VirtAddr{a}), devices);
    if (at.physical) {
      out.print("{:<10x}  {:>8x}\n", a, *at.physical);
    } else if (at.swap) {
      out.print("{:<10x}  {}\n", a, swap_location_text(at));
    } else if (!v.file.is_null()) {
      // A file page not in memory is where the file holds it.
      out.print("{:<10x}  FILE: {}  OFFSET: {:x}\n", a, v.path, file_offset(v, a));
    } else {
      out.print("{:<10x}  (not mapped)\n", a);
    }
    if (!json) continue;
    Json p = {{"virtual", json_hex(a)}, {"physical", at.physical ? Json(json_hex(*at.physical)) : Json(nullptr)}};
    if (!at.physical && !at.swap && !v.file.is_null()) p["file_offset"] = json_hex(file_offset(v, a));
    if (at.swap) {
      p["swap"] = swap_json(at);
      p["pte"] = json_hex(at.entry);
    }
    pages.push_back(std::move(p));
  }
  return pages;
}

// One struct (an mm_struct for -m, a vm_area_struct for -v) as `struct NAME
// ADDR` prints it; a struct that cannot be read is a marker and lost data.
void dump_struct(const Kernel& k, std::string_view type, VirtAddr at, const Options& opt, const Task& t, Json& j,
                 std::string_view key, Output& out) {
  try {
    KernelEvalContext ctx(k);
    Value v = Value::in_memory(ctx, at, &k.types().require(fmt::format("struct {}", type)));
    out.print("{}\n", format_instance(v, value_format_for(k, opt.radix)));
    j[key] = value_json(v);
  } catch (const ModelError& e) {
    out.print("{:x}  (damaged: {})\n", at, e.what());
    out.data_lost(fmt::format("PID {}: {} {:x}: {}", t.pid, type, at, e.what()));
    j["error"] = e.what();
  }
}

Json show_task(Session& session, const Task& t, const Options& opt, const std::vector<SwapDevice>& devices,
               Output& out) {
  Kernel& k = session.kernel();
  out.print("{}\n", task_header(t));
  Json j = task_header_json(t);
  // -M names the mm_struct to read, for a task whose mm was cleared (an
  // exiting task) or to look at another one through this task.
  const VirtAddr mm = opt.given_mm ? opt.given_mm->mm : t.mm;
  if (opt.listing()) out.print("       MM               PGD          RSS    TOTAL_VM\n");
  if (mm.is_null()) {
    if (opt.listing()) out.print("{}\n", mm_line(VirtAddr{0}, VirtAddr{0}, 0, 0));
    j["mm"] = nullptr;
    j["vmas"] = Json::array();
    return j;
  }
  if (opt.dump_mm) {
    j["mm"] = json_hex(mm);
    dump_struct(k, "mm_struct", mm, opt, t, j, "mm_struct", out);
    return j;
  }
  MmVmas m;
  try {
    m = opt.given_mm ? *opt.given_mm : read_mm_vmas(k, mm);
  } catch (const ModelError& e) {
    out.print("{:>16x}  (damaged: {})\n", mm, e.what());
    out.data_lost(fmt::format("PID {}: mm_struct {:x}: {}", t.pid, mm, e.what()));
    j["mm"] = json_hex(mm);
    j["error"] = e.what();
    return j;
  }
  // The task's own counters include its unfolded per-task RSS deltas; another
  // mm has only its own.
  uint64_t rss = t.rss_pages, total_vm = t.total_vm_pages;
  if (mm != t.mm) {
    try {
      MmUsage u = MmUsageReader(k).read(mm);
      rss = static_cast<uint64_t>(std::max<int64_t>(0, u.rss_pages));
      total_vm = u.total_vm_pages;
    } catch (const ModelError& e) {
      out.warning(fmt::format("vm: mm_struct {:x}: RSS and TOTAL_VM: {}", mm, e.what()));
      rss = total_vm = 0;
    }
  }
  if (opt.listing()) out.print("{}\n", mm_line(m.mm, m.pgd, rss, total_vm));
  j["mm"] = json_hex(m.mm);
  j["pgd"] = json_hex(m.pgd);
  j["rss"] = rss * 4;
  j["total_vm"] = total_vm * 4;
  std::optional<AddressSpace> space;
  if (opt.translating()) {
    Task owner = t;
    owner.mm = mm;
    space = AddressSpace::of_task(k, owner);
  }
  Json vmas = Json::array();
  if (opt.listing() && !opt.pages) out.print("{}\n", vma_header());
  bool found = false;
  const auto& entries = m.vmas.entries;
  for (size_t i = 0; i <= entries.size(); ++i) {
    for (const WalkBreak* b : m.vmas.breaks_at(i)) {
      out.print("(damaged: {})\n", b->describe());
      out.data_lost(fmt::format("PID {} VMAs: {}", t.pid, b->describe()));
      vmas.push_back({{"vma", json_hex(b->at)}, {"error", b->reason}});
    }
    if (i == entries.size()) break;
    const Vma& v = entries[i];
    if (opt.ref && !matches(v, *opt.ref)) continue;
    if (opt.single_vma && v.address != *opt.single_vma) continue;
    found = true;
    Json row = vma_json(v);
    if (!v.error.empty()) out.data_lost(fmt::format("PID {}: {}", t.pid, v.error));
    if (opt.dump_vmas) {
      // A VMA whose fields or file could not be read is marked, and its
      // struct still shown as far as it can be read.
      if (!v.error.empty()) out.print("{}\n", vma_row(v));
      dump_struct(k, "vm_area_struct", v.address, opt, t, row, "vm_area_struct", out);
      vmas.push_back(std::move(row));
      continue;
    }
    if (opt.translating()) out.print("{}\n", vma_header());
    out.print("{}\n", vma_row(v));
    if (opt.translating() && v.error.empty()) row["pages"] = page_rows(*space, v, devices, out.json(), out);
    vmas.push_back(std::move(row));
  }
  // -P of a VMA of another process (foreach vm -P): crash's words.
  if (opt.single_vma && !found) out.print("(not found)\n");
  j["vmas"] = std::move(vmas);
  return j;
}

// -f: the names of a vm_flags value's bits; no task is involved.
void decode_flags(const Kernel& k, const ParsedArgs& args, Output& out) {
  if (!args.positional().empty()) {
    throw CommandError(fmt::format("-f decodes a value and takes no task ('{}')", args.positional().front()));
  }
  const std::string text = *args.value('f');
  const uint64_t flags = parse_vm_flags(text);
  DecodedVmaFlags d;
  try {
    d = VmaFlagNames(k).describe(flags);
  } catch (const ModelError& e) {
    throw CommandError(fmt::format("-f {}: {}", text, e.what()));
  }
  out.print("{}\n", vm_flags_text(flags, d));
  out.result(vm_flags_json(flags, d));
}

// An address argument of -P or -M: hexadecimal (or a symbol, as elsewhere).
VirtAddr struct_address(const Kernel& k, char flag, const std::string& text) {
  VirtAddr a = parse_address(&k, text);
  if (a < kLowestKernelAddress) throw CommandError(fmt::format("-{} {}: not a kernel address", flag, text));
  return a;
}

// crash: -p, -P, -m, -v and -f each pick what vm shows; -R narrows -p.
void check_combination(const ParsedArgs& args) {
  int modes = 0;
  for (char f : {'p', 'P', 'm', 'v', 'f'}) modes += args.has(f) ? 1 : 0;
  if (modes > 1) throw CommandError("-p, -P, -m, -v and -f exclude each other");
  if (args.has('R') && modes > 0 && !args.has('p')) throw CommandError("-R goes with -p only");
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
}

Options parse_options(const Kernel& k, const ParsedArgs& args) {
  Options opt;
  opt.pages = args.has('p');
  opt.ref = args.value('R');
  opt.dump_mm = args.has('m');
  opt.dump_vmas = args.has('v');
  opt.radix = args.has('x') ? 16 : 10;
  if (auto text = args.value('P')) {
    VirtAddr vma = struct_address(k, 'P', *text);
    try {
      vma_owner(k, vma);
    } catch (const ModelError& e) {
      throw CommandError(fmt::format("-P {}: {}", *text, e.what()));
    }
    opt.single_vma = vma;
  }
  if (auto text = args.value('M')) {
    VirtAddr mm = struct_address(k, 'M', *text);
    try {
      opt.given_mm = read_given_mm(k, mm);
    } catch (const ModelError& e) {
      throw CommandError(fmt::format("-M {}: {}", *text, e.what()));
    }
  }
  return opt;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  check_combination(args);
  if (args.has('f')) return decode_flags(k, args, out);
  Options opt = parse_options(k, args);
  if (!args.has('x') && !args.has('d')) opt.radix = session.settings().radix;
  const std::vector<const Task*> tasks = tasks_or_context(session, args.positional());
  std::vector<SwapDevice> devices;
  if (opt.translating()) devices = swap_devices(k, out);
  Json results = Json::array();
  for (const Task* t : tasks) {
    // crash separates the tasks with an empty line.
    if (t != tasks.front()) out.print("\n");
    if (report_if_damaged(*t, out)) {
      out.print("{}\n", task_header(*t));
      results.push_back(task_header_json(*t));
      continue;
    }
    results.push_back(show_task(session, *t, opt, devices, out));
  }
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "vm",
     .summary = "virtual memory of a task",
     .usage = "vm [-p | -P vma | -m | -v | -R reference] [-M mm] [-x|-d] [pid | task] ...\n"
              "vm -f vm_flags",
     .description = "Shows a task's memory map: its mm_struct, page table (PGD), resident size\n"
                    "(RSS) and total size (TOTAL_VM), then each virtual memory area (VMA): the\n"
                    "vm_area_struct, its START and END, its vm_flags and the file it maps (as\n"
                    "/proc/PID/maps names it, \" (deleted)\" included; nothing for anonymous\n"
                    "memory). Without an argument, the current context's task. The VMAs come\n"
                    "from the maple tree (6.1+) or the VMA list and rbtree (older kernels);\n"
                    "where one is damaged a (damaged: ...) line marks what could not be read\n"
                    "and every VMA still reachable is shown.\n"
                    "-p translates every page of each VMA: its physical address, the swap\n"
                    "device and offset of a page that is swapped out, or (not mapped).\n"
                    "-P does the same for the one VMA whose vm_area_struct is at that address\n"
                    "(a task that does not have it prints (not found)).\n"
                    "-R shows only the VMAs that hold an address, are a vm_area_struct\n"
                    "address, or whose file path contains the text.\n"
                    "-m prints the task's whole mm_struct and -v each VMA's whole\n"
                    "vm_area_struct, as `struct` prints them; -x and -d choose hexadecimal or\n"
                    "decimal integers there (the default is the session's radix).\n"
                    "-M reads the memory map from that mm_struct instead of the task's own:\n"
                    "for an exiting task whose mm pointer is already cleared, when the mm's\n"
                    "address is known from elsewhere (its stack, a register). The address\n"
                    "must be an mm_struct whose VMAs point back at it.\n"
                    "-f names the bits of a vm_flags value (the FLAGS column) with the names\n"
                    "the dump's kernel gives them (its vmaflag_names table), so they are right\n"
                    "for that kernel's version; bits it has no name for are shown in hex.",
     .examples = "  kdive> vm 96\n"
                 "  PID: 96       TASK: ffff9874c2480000  CPU: 0    COMMAND: \"kd-memory\"\n"
                 "         MM               PGD          RSS    TOTAL_VM\n"
                 "  ffff9874c105ea80  ffff9874c2536000   116k    3288k  \n"
                 "        VMA           START       END     FLAGS FILE\n"
                 "  ffff9874c24357d0     400000     401000 8000871 /bin/workload\n"
                 "  ...\n"
                 "  ffff9874c2436258 7f0000200000 7f0000210000 8100073 \n"
                 "\n"
                 "What those FLAGS mean:\n"
                 "\n"
                 "  kdive> vm -f 8100073\n"
                 "  8100073: (READ|WRITE|MAYREAD|MAYWRITE|MAYEXEC|ACCOUNT|SOFTDIRTY)\n"
                 "\n"
                 "The pages of one mapping, some of them swapped out:\n"
                 "\n"
                 "  kdive> vm -P ffff9874c2436258 96\n"
                 "  PID: 96       TASK: ffff9874c2480000  CPU: 0    COMMAND: \"kd-memory\"\n"
                 "        VMA           START       END     FLAGS FILE\n"
                 "  ffff9874c2436258 7f0000200000 7f0000210000 8100073 \n"
                 "  VIRTUAL     PHYSICAL\n"
                 "  7f0000203000  1ffcd000\n"
                 "  7f0000204000  SWAP: /dev/vda  OFFSET: 1\n"
                 "  ...\n"
                 "\n"
                 "The mm_struct, in hexadecimal:\n"
                 "\n"
                 "  kdive> vm -m -x 96\n"
                 "  PID: 96       TASK: ffff9874c2480000  CPU: 0    COMMAND: \"kd-memory\"\n"
                 "  struct mm_struct {\n"
                 "    {\n"
                 "      mm_mt = {\n"
                 "  ...\n"
                 "\n"
                 "Every process's map, and every VMA of every process:\n"
                 "\n"
                 "  kdive> foreach user vm\n"
                 "  kdive> foreach user vm -v",
     .options = {{'p', "", "translate each page of each VMA"},
                 {'P', "vma", "translate each page of the VMA at this vm_area_struct address"},
                 {'R', "reference", "only the VMAs holding this address, at this address, or of this file"},
                 {'m', "", "print the task's mm_struct"},
                 {'v', "", "print each VMA's vm_area_struct"},
                 {'M', "mm", "read the memory map from this mm_struct (a task whose mm was cleared)"},
                 {'x', "", "-m and -v: integers in hexadecimal"},
                 {'d', "", "-m and -v: integers in decimal"},
                 {'f', "vm_flags", "name the bits of a vm_flags value (hexadecimal)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm", "mm", "vmas"},
              .notes = "One object per task. mm is null for a kernel thread; otherwise pgd (kernel\n"
                       "virtual), rss and total_vm (kB) follow (with -M, the given mm's, from its\n"
                       "own counters). vmas: {vma, start, end, flags, permissions (\"rw-p\", as\n"
                       "/proc/PID/maps), pgoff (pages), file (the path, or null)}; a VMA that could\n"
                       "not be read, or a place the VMA tree or list is damaged, is {vma, error}.\n"
                       "With -p (and -P, whose vmas hold that one VMA or nothing) each VMA has\n"
                       "pages: {virtual, physical (null when not in memory)}, and for a swapped-out\n"
                       "page swap {device, type, offset} and pte, the raw page-table entry; a file\n"
                       "page not in memory has file_offset, where in the file it is.\n"
                       "-m: {pid, task, cpu, comm, mm, mm_struct}, the whole struct as an object\n"
                       "(member -> value, as struct's JSON); -v: each VMA also has vm_area_struct,\n"
                       "the same for that struct; a struct that cannot be read is an error field.\n"
                       "-f is one object instead of the list: {flags, names (the bits' names in\n"
                       "the kernel's order), unknown (the bits no name covers, \"0x0\" when none)}.",
              .example = "vm 1"}},
    run};

}  // namespace
}  // namespace kdive
