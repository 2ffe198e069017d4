// kmem -v: the busy vmalloc areas, crash's columns (VMAP_AREA, VM_STRUCT,
// ADDRESS RANGE, SIZE: the range's size, guard page included) and then the
// caller that allocated each, as /proc/vmallocinfo names it.
#include <fmt/format.h>

#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/vmalloc.hpp"

namespace kdive {
namespace {

// "name+0xoff" of the caller, or its hex address when no symbol covers it.
std::string caller_text(const Kernel& k, VirtAddr caller) {
  if (caller.value() == 0) return "";
  if (auto hit = k.symbol_at(caller)) return fmt::format("{}+{:#x}", hit->symbol->name, hit->offset);
  return fmt::format("{:x}", caller.value());
}

}  // namespace

void kmem_vmalloc_report(Session& session, Output& out) {
  const Kernel& k = session.kernel();
  const Walked<VmapArea> areas = read_vmap_areas(k);
  Json list = Json::array();
  out.print("{:^16}  {:^16}  {:^35}  {:>7}  CALLER\n", "VMAP_AREA", "VM_STRUCT", "ADDRESS RANGE", "SIZE");
  for (const VmapArea& a : areas.entries) {
    if (!a.error.empty()) {
      out.print("{:016x}  (damaged: {})\n", a.area.value(), a.error);
      out.data_lost(fmt::format("vmap_area {:x}", a.area.value()));
      list.push_back({{"vmap_area", json_hex(a.area)}, {"error", a.error}});
      continue;
    }
    const uint64_t size = a.end - a.start;
    const std::string caller = caller_text(k, a.caller);
    out.print("{:016x}  {:016x}  {:016x} - {:016x}  {:>7}  {}\n", a.area.value(), a.vm.value(), a.start.value(),
              a.end.value(), size, caller);
    list.push_back({{"vmap_area", json_hex(a.area)},
                    {"vm_struct", json_hex(a.vm)},
                    {"start", json_hex(a.start)},
                    {"end", json_hex(a.end)},
                    {"size", size},
                    {"vm_size", a.vm_size},
                    {"nr_pages", a.nr_pages},
                    {"caller", caller}});
  }
  for (const WalkBreak& b : areas.breaks) {
    out.print("(damaged: {})\n", b.describe());
    out.data_lost("the vmap_area list");
    list.push_back({{"error", b.describe()}});
  }
  out.result(Json{{"areas", std::move(list)}});
}

}  // namespace kdive
