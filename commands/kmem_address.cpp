// kmem ADDRESS...: what each address is — a slab object (its cache, slab and
// whether it is allocated), a task's kernel stack, per-CPU data, a kernel
// symbol, a vmalloc area, a free page of the buddy allocator, a page-cache
// page — and then the struct page of the memory behind it (crash's PAGE
// PHYSICAL MAPPING INDEX CNT FLAGS line). The address may also be a struct
// page itself (as `kmem -F` lists them): then that page is the one described.
// Each kind comes from the kernel model (slab.hpp, vmalloc.hpp, buddy.hpp,
// tasks.hpp); the checks run from the most specific to the most general, so
// a vmapped stack is a stack (with its vmalloc area shown too).
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "commands/page_rows.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/buddy.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_stats.hpp"
#include "kernel-model/page_cache.hpp"
#include "kernel-model/page_struct.hpp"
#include "kernel-model/slab.hpp"
#include "kernel-model/tasks.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/vmalloc.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;
// THREAD_SIZE when the kernel has no union thread_union in its DWARF: 16 KiB
// on x86_64 since 4.0 (commit 6538b8ea886e "x86_64: expand kernel stack to 16K").
constexpr uint64_t kDefaultThreadSize = 16384;

// x86_64 addresses are canonical when bits 63..47 (4-level) or 63..56
// (5-level paging) all equal the top bit the page table translates.
bool canonical(const Kernel& k, VirtAddr a) {
  const int bits = k.layout().levels == 5 ? 57 : 48;
  const int64_t v = static_cast<int64_t>(a.value());
  return (v >> (bits - 1)) == 0 || (v >> (bits - 1)) == -1;
}

uint64_t thread_size(const Kernel& k) {
  if (const Type* t = k.types().lookup("union thread_union")) {
    if (t->size() != 0) return t->size();
  }
  return kDefaultThreadSize;
}

// Everything found out about one address: its kind's fields in `json`, its
// lines of text in `text`, and the page behind it.
struct Finding {
  std::string kind = "unknown";
  Json json = Json::object();
  std::string text;
  std::optional<VirtAddr> page;  // the struct page to show
};

std::string symbol_text(const SymbolHit& hit) {
  std::string s(hit.symbol->name);
  if (hit.offset != 0) s += fmt::format("+{:#x}", hit.offset);
  if (!hit.symbol->module.empty()) s += fmt::format(" [{}]", hit.symbol->module);
  return s;
}

bool find_symbol(const Kernel& k, VirtAddr a, Finding& f) {
  if (a < kStartKernelMap) return false;
  auto hit = k.symbol_at(a);
  if (!hit) return false;
  f.kind = "symbol";
  f.json["symbol"] = std::string(hit->symbol->name);
  f.json["offset"] = hit->offset;
  f.json["type"] = std::string(1, hit->symbol->type);
  if (!hit->symbol->module.empty()) f.json["module"] = std::string(hit->symbol->module);
  f.text += fmt::format("{:016x} ({}) {}\n", a.value(), hit->symbol->type, symbol_text(*hit));
  if (const Task* t = k.tasks().by_address(a)) f.text += "\n" + context_block(k, *t);
  return true;
}

bool find_percpu(const Kernel& k, VirtAddr a, Finding& f) {
  auto start = k.symbols().address("__per_cpu_start");
  auto end = k.symbols().address("__per_cpu_end");
  if (!start || !end || *end <= *start) return false;
  const int cpus = static_cast<int>(k.tasks().active.size());
  for (int cpu = 0; cpu < std::max(cpus, 1); ++cpu) {
    const VirtAddr base = *start + k.per_cpu_offset(cpu);
    if (a < base || a - base >= *end - *start) continue;
    // Per-CPU symbols keep their link-time offset into the area.
    const VirtAddr link = *start + (a - base);
    f.kind = "percpu";
    f.json["cpu"] = cpu;
    f.json["area"] = json_hex(base);
    std::string what = fmt::format("{:x}", link.value());
    if (auto hit = k.symbols().containing(link)) {
      f.json["symbol"] = std::string(hit->symbol->name);
      f.json["offset"] = hit->offset;
      what = symbol_text(*hit);
    }
    f.text += fmt::format("PER-CPU DATA: CPU {}: {}  (area {:x})\n", cpu, what, base.value());
    return true;
  }
  return false;
}

bool find_stack(const Kernel& k, VirtAddr a, Finding& f) {
  const uint64_t size = thread_size(k);
  for (const Task& t : k.tasks().all) {
    if (t.stack.value() == 0 || a < t.stack || a - t.stack >= size) continue;
    f.kind = "stack";
    f.json.update(task_header_json(t));
    f.json["stack"] = json_hex(t.stack);
    f.json["stack_end"] = json_hex(t.stack + size);
    f.text += context_block(k, t);
    return true;
  }
  return false;
}

std::string caller_text(const Kernel& k, VirtAddr caller) {
  if (caller.value() == 0) return "";
  if (auto hit = k.symbol_at(caller)) return fmt::format("{}+{:#x}", hit->symbol->name, hit->offset);
  return fmt::format("{:x}", caller.value());
}

// The vmalloc area of `a`: as the finding's kind (`as_kind`), or as a
// "vmalloc" member beside another kind (a vmapped stack, a module's symbol).
bool find_vmalloc(const Kernel& k, VirtAddr a, Finding& f, bool as_kind) {
  const Walked<VmapArea> areas = read_vmap_areas(k);
  const VmapArea* v = find_vmap_area(areas, a);
  if (v == nullptr) return false;
  const std::string caller = caller_text(k, v->caller);
  Json j{{"vmap_area", json_hex(v->area)}, {"vm_struct", json_hex(v->vm)}, {"start", json_hex(v->start)},
         {"end", json_hex(v->end)},        {"size", v->end - v->start},    {"caller", caller}};
  if (as_kind) {
    f.kind = "vmalloc";
    f.json.update(j);
  } else {
    f.json["vmalloc"] = std::move(j);
  }
  if (!f.text.empty()) f.text += "\n";
  f.text += fmt::format("{:^16}  {:^16}  {:^35}  {:>7}  CALLER\n", "VMAP_AREA", "VM_STRUCT", "ADDRESS RANGE", "SIZE");
  f.text += fmt::format("{:016x}  {:016x}  {:016x} - {:016x}  {:>7}  {}\n", v->area.value(), v->vm.value(),
                        v->start.value(), v->end.value(), v->end - v->start, caller);
  return true;
}

bool find_slab(const Kernel& k, VirtAddr a, bool redzone, Finding& f) {
  std::optional<SlabObject> o;
  try {
    SlabAllocator slub(k);
    o = slub.find_object(a);
  } catch (const Error& e) {
    if (e.kind() == Error::Kind::Unsupported) return false;
    throw;
  }
  if (!o) return false;
  const SlabCache& c = o->cache;
  const Slab& s = o->slab;
  f.kind = "slab";
  f.json["cache"] = json_hex(c.address);
  f.json["name"] = c.name;
  f.json["objsize"] = c.object_size;
  f.json["size"] = c.size;
  f.json["slab"] = json_hex(s.slab);
  f.json["memory"] = json_hex(s.memory);
  // The slot start, as kmem -S's JSON; the kernel's pointer is red_left_pad past it.
  f.json["object"] = json_hex(o->object);
  f.json["red_left_pad"] = c.red_left_pad;
  f.json["offset"] = a - o->object;
  f.json["allocated"] = !o->free;
  f.json["place"] = slab_place_name(s.place);
  f.text += "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";
  f.text += fmt::format("{:016x}{:>9}{:>11}{:>10}{:>7}{:>6}k  {}\n", c.address.value(), c.object_size, c.allocated(),
                        c.total_objects, c.slabs, c.slab_bytes / 1024, c.name);
  f.text += "  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n";
  f.text += fmt::format("  {:016x}  {:016x}{:>6}{:>7}{:>11}{:>6}\n", s.slab.value(), s.memory.value(), s.node,
                        s.objects, s.allocated(), s.free.size());
  f.text += "  FREE / [ALLOCATED]\n";
  // set redzone off: the object as the kernel points at it, past its left red zone.
  const uint64_t shown = redzone ? o->object.value() : o->pointer().value();
  if (!o->free) {
    f.text += fmt::format("  [{:016x}]\n", shown);
  } else if (o->cpu_free) {
    f.text += fmt::format("   {:016x}  (cpu {} cache)\n", shown, s.cpu);
  } else {
    f.text += fmt::format("   {:016x}\n", shown);
  }
  // An allocated task_struct: which task (crash shows it the same way).
  if (!o->free) {
    if (const Task* t = k.tasks().by_address(o->pointer())) {
      f.json["task"] = task_header_json(*t);
      f.text += "\n" + context_block(k, *t);
    }
  }
  return true;
}

// A zone, and its NR_FREE_PAGES with the CPUs' deltas (what kmem -f prints as FREE).
struct ZoneFree {
  MemoryZone zone;
  int64_t free_pages = 0;
};

std::optional<ZoneFree> zone_with_free_pages(const Kernel& k, VirtAddr zone_address) {
  const std::vector<MemoryNode> nodes = read_memory_nodes(k);
  const VmCounters counters = read_vm_counters(k, nodes);
  for (const MemoryNode& n : nodes) {
    for (const MemoryZone& z : n.zones) {
      if (z.address != zone_address) continue;
      ZoneFree out{z, 0};
      for (size_t i = 0; i < counters.zone.names.size() && i < z.vm_stat.size(); ++i) {
        if (counters.zone.names[i] == "nr_free_pages") out.free_pages = z.vm_stat[i];
      }
      return out;
    }
  }
  return std::nullopt;
}

// "1st", "2nd", "3rd", "4th", ..., "11th", "12th", "13th", "21st".
std::string ordinal(uint64_t n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return fmt::format("{}{}", n, suffix);
}

// A free page: its zone (crash's ZONE line, as kmem -F prints it), the free
// area it is on, and the first page of the free block holding it (with where
// `address` falls in a block of several pages).
bool find_free_page(const Kernel& k, VirtAddr address, uint64_t pfn, Finding& f) {
  const std::optional<FreeBlock> b = find_free_block(k, pfn);
  if (!b) return false;
  f.kind = "free_page";
  f.json["node"] = b->node;
  f.json["zone"] = b->zone;
  f.json["order"] = b->order;
  f.json["migrate_type"] = b->migrate_name;
  f.json["free_area"] = json_hex(b->list_head);
  f.json["block_page"] = json_hex(b->first_page);
  f.json["block_pfn"] = b->first_pfn;
  if (const std::optional<ZoneFree> zf = zone_with_free_pages(k, b->zone_address)) {
    const MemoryZone* z = &zf->zone;
    const int64_t free_pages = zf->free_pages;
    f.text += "ZONE  NAME        SIZE    FREE      MEM_MAP       START_PADDR  START_PFN\n";
    f.text += fmt::format("{:>3}   {:<7}{:>9}{:>8}  {:>16x}  {:>11x}  {:>9}\n", z->index, z->name, z->spanned_pages,
                          free_pages, pfn_to_page(k, z->start_pfn).value(), z->start_pfn * kPageSize, z->start_pfn);
  }
  f.text += "AREA    SIZE  FREE_AREA_STRUCT  MIGRATE TYPE\n";
  f.text += fmt::format("{:>3}  {:>7}  {:016x}  {}\n", b->order, fmt::format("{}k", (kPageSize << b->order) / 1024),
                        b->list_head.value(), b->migrate_name);
  if (b->order == 0) {
    f.text += fmt::format("{:016x}\n", b->first_page.value());
  } else {
    f.text += fmt::format("{:016x}  ({:016x} is {} of {} pages)\n", b->first_page.value(), address.value(),
                          ordinal(pfn - b->first_pfn + 1), 1ull << b->order);
  }
  return true;
}

// A page whose mapping is a file's address_space: the file, and the page's
// index in it.
bool find_page_cache(const Kernel& k, const PageStruct& p, Finding& f) {
  const std::optional<PageCacheOwner> owner = page_cache_owner(k, p);
  if (!owner) return false;
  f.kind = "page_cache";
  f.json["mapping"] = json_hex(owner->mapping);
  f.json["inode"] = json_hex(owner->inode);
  f.json["ino"] = owner->ino;
  f.json["name"] = owner->name;
  f.json["index"] = owner->index;
  f.text +=
      fmt::format("PAGE CACHE: inode {:x} (ino {}{}) mapping {:x}, page index {}\n", owner->inode.value(), owner->ino,
                  owner->name.empty() ? "" : ", \"" + owner->name + "\"", owner->mapping.value(), owner->index);
  return true;
}

// The page struct behind an address that maps to memory, if any: none for
// an unmapped address, nor for one mapping device memory (an ioremap area:
// past max_pfn, or in a hole of the vmemmap) — no page struct describes it.
std::optional<VirtAddr> page_of(const Kernel& k, VirtAddr a, Finding& f) {
  uint64_t phys = 0;
  try {
    phys = k.memory().to_phys(a).value();
  } catch (const ModelError&) {
    return std::nullopt;
  }
  const uint64_t max_pfn = k.memory().read<uint64_t>(k.symbol_address("max_pfn"));
  const VirtAddr page = pfn_to_page(k, phys / kPageSize);
  bool readable = phys / kPageSize < max_pfn;
  if (readable) {
    try {
      (void)k.memory().read<uint64_t>(page);
    } catch (const ModelError&) {
      readable = false;
    }
  }
  if (readable) return page;
  f.json["physical"] = json_hex(phys);
  f.text += fmt::format("(physical address {:x} is not RAM: it has no page struct)\n", phys);
  return std::nullopt;
}

Finding identify(const Kernel& k, VirtAddr a, bool redzone) {
  Finding f;
  if (!canonical(k, a)) {
    f.json["error"] = "not a canonical x86_64 address";
    f.text += fmt::format("{:x}: not a canonical x86_64 address\n", a.value());
    return f;
  }
  if (a.value() < kKernelHalf) {
    f.json["error"] = "a user-space address (kmem identifies kernel addresses)";
    f.text += fmt::format("{:x}: a user-space address\n", a.value());
    return f;
  }
  // A struct page itself (vmemmap): describe that page.
  const Type& page_type = k.types().require("struct page");
  const VirtAddr vmemmap = k.layout().vmemmap_start;
  const uint64_t max_pfn = k.memory().read<uint64_t>(k.symbol_address("max_pfn"));
  if (a >= vmemmap && (a - vmemmap) / page_type.size() < max_pfn) {
    const uint64_t pfn = (a - vmemmap) / page_type.size();
    f.page = pfn_to_page(k, pfn);
    if (!find_free_page(k, a, pfn, f)) {
      const PageStruct p = PageStructReader(k).read(*f.page);
      find_page_cache(k, p, f);
    }
    return f;
  }
  if (find_symbol(k, a, f)) {
    // Module code and data live in vmalloc'ed areas of their own.
    if (!k.layout().in_image(a)) find_vmalloc(k, a, f, false);
  } else if (!find_percpu(k, a, f)) {
    if (find_stack(k, a, f)) {
      find_vmalloc(k, a, f, false);
    } else if (k.memory().in_direct_map(a)) {
      if (!find_slab(k, a, redzone, f)) find_free_page(k, a, (a - k.layout().page_offset) / kPageSize, f);
    } else {
      find_vmalloc(k, a, f, true);
    }
  }
  f.page = page_of(k, a, f);
  if (f.kind == "unknown" && f.page) find_page_cache(k, PageStructReader(k).read(*f.page), f);
  if (f.kind == "unknown" && f.text.empty())
    f.text += fmt::format("{:x}: not found in any kernel structure\n", a.value());
  return f;
}

}  // namespace

void kmem_address_report(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  Json list = Json::array();
  bool first = true;
  for (const std::string& word : args.positional()) {
    VirtAddr a;
    try {
      a = parse_address(&k, word);
    } catch (const CommandError& e) {
      // `kmem NAME` is crash's way to ask for a cache, but only with -s/-S.
      throw CommandError(fmt::format("{} (a cache name goes with -s or -S)", e.what()));
    }
    if (!first) out.print("\n");
    first = false;
    Json j{{"address", json_hex(a)}};
    Finding f;
    try {
      f = identify(k, a, session.settings().redzone);
    } catch (const ModelError& e) {
      f.kind = "unknown";
      f.json["error"] = e.what();
      f.text = fmt::format("{:x}: {}\n", a.value(), e.what());
    }
    j["kind"] = f.kind;
    j.update(f.json);
    out.write(f.text);
    if (f.page) {
      try {
        const PageStruct p = PageStructReader(k).read(*f.page);
        const PageFlagNames names(k);
        out.print("\n{}{}", page_header(), page_row(p, &names));
        j["page"] = page_json(p, &names);
      } catch (const ModelError& e) {
        out.print("\n(damaged: page struct {:x}: {})\n", f.page->value(), e.what());
        out.data_lost(fmt::format("page struct {:x}", f.page->value()));
        j["page"] = Json{{"page", json_hex(*f.page)}, {"error", e.what()}};
      }
    } else {
      j["page"] = nullptr;
    }
    list.push_back(std::move(j));
  }
  out.result(std::move(list));
}

}  // namespace kdive
