// vm: a task's memory map — its mm_struct, page table, RSS and size, and
// each VMA with its flags and file; -p translates every page of every VMA.
#include <fmt/format.h>

#include <algorithm>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "commands/vma_rows.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/page_location.hpp"
#include "kernel-model/swap.hpp"
#include "kernel-model/tasks.hpp"
#include "kernel-model/vmas.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

// crash centres each value of the MM line in its column (a kernel thread's 0s).
std::string centered(const std::string& s, size_t width) {
  if (s.size() >= width) return s;
  size_t left = (width - s.size()) / 2;
  return std::string(left, ' ') + s + std::string(width - s.size() - left, ' ');
}

std::string mm_line(const Task& t, VirtAddr mm, VirtAddr pgd) {
  return fmt::format("{}  {}  {}  {}", centered(fmt::format("{:x}", mm), 16), centered(fmt::format("{:x}", pgd), 16),
                     centered(fmt::format("{}k", t.rss_pages * 4), 6),
                     centered(fmt::format("{}k", t.total_vm_pages * 4), 8));
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
  bool pages = false;
  std::optional<std::string> ref;
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

Json show_task(Session& session, const Task& t, const Options& opt, const std::vector<SwapDevice>& devices,
               Output& out) {
  Kernel& k = session.kernel();
  out.print("{}\n", task_header(t));
  Json j = task_header_json(t);
  out.print("       MM               PGD          RSS    TOTAL_VM\n");
  if (t.mm.is_null()) {
    out.print("{}\n", mm_line(t, VirtAddr{0}, VirtAddr{0}));
    j["mm"] = nullptr;
    j["vmas"] = Json::array();
    return j;
  }
  MmVmas m;
  try {
    m = read_mm_vmas(k, t.mm);
  } catch (const ModelError& e) {
    out.print("{:>16x}  (damaged: {})\n", t.mm, e.what());
    out.data_lost(fmt::format("PID {}: mm_struct {:x}: {}", t.pid, t.mm, e.what()));
    j["mm"] = json_hex(t.mm);
    j["error"] = e.what();
    return j;
  }
  out.print("{}\n", mm_line(t, m.mm, m.pgd));
  j["mm"] = json_hex(m.mm);
  j["pgd"] = json_hex(m.pgd);
  j["rss"] = t.rss_pages * 4;
  j["total_vm"] = t.total_vm_pages * 4;
  std::optional<AddressSpace> space;
  if (opt.pages) space = AddressSpace::of_task(k, t);
  Json vmas = Json::array();
  bool header = !opt.pages;
  if (header) out.print("{}\n", vma_header());
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
    if (opt.pages) out.print("{}\n", vma_header());
    out.print("{}\n", vma_row(v));
    if (!v.error.empty()) out.data_lost(fmt::format("PID {}: {}", t.pid, v.error));
    Json row = vma_json(v);
    if (opt.pages && v.error.empty()) row["pages"] = page_rows(*space, v, devices, out.json(), out);
    vmas.push_back(std::move(row));
  }
  j["vmas"] = std::move(vmas);
  return j;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  Options opt;
  opt.pages = args.has('p');
  opt.ref = args.value('R');
  std::vector<const Task*> tasks;
  if (args.positional().empty()) {
    tasks.push_back(&session.context());
  } else {
    tasks = select_tasks(k, k.tasks(), args.positional());
  }
  std::vector<SwapDevice> devices;
  if (opt.pages) devices = swap_devices(k, out);
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
     .usage = "vm [-p] [-R reference] [pid | task] ...",
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
                    "-R shows only the VMAs that hold an address, are a vm_area_struct\n"
                    "address, or whose file path contains the text.",
     .examples = "  kdive> vm 96\n"
                 "  PID: 96       TASK: ffff9874c2480000  CPU: 0    COMMAND: \"kd-memory\"\n"
                 "         MM               PGD          RSS    TOTAL_VM\n"
                 "  ffff9874c105ea80  ffff9874c2536000   116k    3288k  \n"
                 "        VMA           START       END     FLAGS FILE\n"
                 "  ffff9874c24357d0     400000     401000 8000871 /bin/workload\n"
                 "  ...\n"
                 "  ffff9874c2436258 7f0000200000 7f0000210000 8100073 \n"
                 "\n"
                 "The pages of one mapping, some of them swapped out:\n"
                 "\n"
                 "  kdive> vm -p -R 7f0000200000 96\n"
                 "  ...\n"
                 "  VIRTUAL     PHYSICAL\n"
                 "  7f0000203000  1ffcd000\n"
                 "  7f0000204000  SWAP: /dev/vda  OFFSET: 1\n"
                 "\n"
                 "Every process's map:\n"
                 "\n"
                 "  kdive> foreach user vm",
     .options = {{'p', "", "translate each page of each VMA"},
                 {'R', "reference", "only the VMAs holding this address, at this address, or of this file"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm", "mm", "vmas"},
              .notes = "One object per task. mm is null for a kernel thread; otherwise pgd (kernel\n"
                       "virtual), rss and total_vm (kB) follow. vmas: {vma, start, end, flags,\n"
                       "permissions (\"rw-p\", as /proc/PID/maps), pgoff (pages), file (the path, or\n"
                       "null)}; a VMA that could not be read, or a place the VMA tree or list is\n"
                       "damaged, is {vma, error}. With -p each VMA has pages: {virtual, physical\n"
                       "(null when not in memory)}, and for a swapped-out page swap {device, type,\n"
                       "offset} and pte, the raw page-table entry; a file page not in memory has\n"
                       "file_offset, where in the file it is.",
              .example = "vm 1"}},
    run};

}  // namespace
}  // namespace kdive
