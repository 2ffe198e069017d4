// VMCOREINFO from a vmlinux: the kernel's own text in memory, or built from
// its symbols and DWARF.
#include "capture/filter/vmlinux_vmcoreinfo.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <vector>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"
#include "readers/vmcoreinfo.hpp"

namespace kdive::capture {
namespace {

// x86_64's PAGE_SIZE and SECTION_SIZE_BITS (arch/x86/include/asm/sparsemem.h),
// the same on every kernel kdive reads.
constexpr uint64_t kPage = 4096;
constexpr int kSectionSizeBits = 27;
// VMCOREINFO_BYTES: the kernel's buffer is one page.
constexpr uint64_t kVmcoreinfoBytes = kPage;

class Lines {
 public:
  void add(std::string_view key, const std::string& value) { text_ += fmt::format("{}={}\n", key, value); }
  void symbol(std::string_view name, uint64_t address) {
    add(fmt::format("SYMBOL({})", name), fmt::format("{:x}", address));
  }
  void number(std::string_view name, int64_t value) { add(fmt::format("NUMBER({})", name), std::to_string(value)); }
  void size(std::string_view type, uint64_t bytes) { add(fmt::format("SIZE({})", type), std::to_string(bytes)); }
  void offset(std::string_view member, uint64_t at) { add(fmt::format("OFFSET({})", member), std::to_string(at)); }
  void length(std::string_view name, uint64_t count) { add(fmt::format("LENGTH({})", name), std::to_string(count)); }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

// The struct's size and the listed members' offsets, each only when the
// kernel has it (members differ between versions; the filter probes).
void struct_facts(TypeSystem& types, Lines& out, std::string_view name, std::initializer_list<std::string_view> members,
                  std::vector<std::string>& notes) {
  const Type* t = types.lookup(fmt::format("struct {}", name));
  if (t == nullptr) {
    notes.push_back(fmt::format("the vmlinux's DWARF has no struct {}", name));
    return;
  }
  out.size(name, t->size());
  for (std::string_view m : members) {
    if (auto member = t->member(m)) out.offset(fmt::format("{}.{}", name, m), member->offset);
  }
}

}  // namespace

std::optional<std::string> vmcoreinfo_in_memory(const Kernel& k, std::string& why) {
  auto data = k.symbols().address("vmcoreinfo_data");
  auto size_at = k.symbols().address("vmcoreinfo_size");
  if (!data || !size_at) {
    why = "the vmlinux has no vmcoreinfo_data (a kernel without crash-dump support keeps no VMCOREINFO)";
    return std::nullopt;
  }
  try {
    // Since 4.15 ("kexec: move vmcoreinfo out of the kernel's .bss section")
    // vmcoreinfo_data points to a page of its own; before, it was that array.
    VirtAddr text_at = *data;
    const Type* type = k.types().variable_type("vmcoreinfo_data");
    if (type == nullptr || type->strip().kind() == TypeKind::Pointer)
      text_at = VirtAddr{k.memory().read<uint64_t>(*data)};
    const uint64_t size = k.memory().read<uint64_t>(*size_at);
    if (size == 0 || size > kVmcoreinfoBytes) {
      why = fmt::format("vmcoreinfo_size in the dump is {}, not 1..{}", size, kVmcoreinfoBytes);
      return std::nullopt;
    }
    std::string text(size, '\0');
    k.memory().read(text_at, std::as_writable_bytes(std::span(text)));
    // The text must be this kernel's: its release and the KASLR offset found
    // from the dump (a damaged buffer fails these and the DWARF way serves).
    VmcoreInfo info(text);
    const std::string release = k.vmlinux().release();
    if (info.get("OSRELEASE") != release) {
      why = fmt::format("the VMCOREINFO text in the dump's memory does not name release {}", release);
      return std::nullopt;
    }
    if (info.kernel_offset().value_or(0) != k.layout().kaslr_offset) {
      why = fmt::format("the VMCOREINFO text in the dump's memory gives KERNELOFFSET {:#x}, the dump says {:#x}",
                        info.kernel_offset().value_or(0), k.layout().kaslr_offset);
      return std::nullopt;
    }
    return text;
  } catch (const ModelError& e) {
    why = fmt::format("the VMCOREINFO text in the dump's memory cannot be read: {}", e.what());
    return std::nullopt;
  }
}

std::string vmcoreinfo_from_debuginfo(const Kernel& k, std::vector<std::string>& notes) {
  TypeSystem& types = k.types();
  const KernelLayout& layout = k.layout();
  Lines out;
  out.add("OSRELEASE", k.vmlinux().release());
  out.add("PAGESIZE", std::to_string(kPage));
  out.add("KERNELOFFSET", fmt::format("{:x}", layout.kaslr_offset));
  // Symbols are relocated (Kernel::open applied the KASLR offset found).
  for (std::string_view name : {"init_top_pgt", "_stext"}) {
    if (auto a = k.symbols().address(name)) out.symbol(name, a->value());
  }
  out.number("phys_base", static_cast<int64_t>(layout.phys_base));
  out.number("KERNEL_IMAGE_SIZE", static_cast<int64_t>(layout.image_size));
  out.number("sme_mask", static_cast<int64_t>(layout.sme_mask));
  out.number("pgtable_l5_enabled", layout.levels == 5);
  out.symbol("vmemmap", layout.vmemmap_start.value());
  out.add("NUMBER(VMALLOC_START)", fmt::format("{:#x}", layout.vmalloc_start.value()));
  // MAX_PHYSMEM_BITS: 46 with 4-level paging, 52 with 5-level.
  const int physmem_bits = layout.levels == 5 ? 52 : 46;
  out.number("SECTION_SIZE_BITS", kSectionSizeBits);
  out.number("MAX_PHYSMEM_BITS", physmem_bits);

  struct_facts(types, out, "page",
               {"flags", "_refcount", "mapping", "lru", "_mapcount", "private", "compound_dtor", "compound_order",
                "compound_head"},
               notes);
  struct_facts(types, out, "mem_section", {"section_mem_map"}, notes);
  if (const Type* zone = types.lookup("struct zone")) {
    if (auto m = zone->member("free_area"); m && m->type->strip().count()) {
      out.length("zone.free_area", *m->type->strip().count());
    }
  }

  // SPARSEMEM_EXTREME (x86_64's): mem_section points to NR_SECTION_ROOTS root
  // pointers, and VMCOREINFO gives that pointer's value (4.15, "kdump: write
  // correct address of mem_section into vmcoreinfo"), not the variable's.
  const Type* sections = types.variable_type("mem_section");
  const Type* section = types.lookup("struct mem_section");
  if (auto a = k.symbols().address("mem_section"); a && sections && section && section->size()) {
    const uint64_t per_root = kPage / section->size();
    const uint64_t count = uint64_t{1} << (physmem_bits - kSectionSizeBits);
    try {
      if (sections->strip().kind() == TypeKind::Pointer) {
        out.symbol("mem_section", k.memory().read<uint64_t>(*a));
        out.length("mem_section", (count + per_root - 1) / per_root);
      } else {
        out.symbol("mem_section", a->value());
        out.length("mem_section", sections->strip().count().value_or(0));
      }
    } catch (const ModelError& e) {
      notes.push_back(fmt::format("mem_section cannot be read: {}", e.what()));
    }
  } else {
    notes.push_back("the vmlinux has no mem_section with its type (not SPARSEMEM?)");
  }

  // The page flags the filter tests, from enum pageflags (each only when the
  // kernel has it: PG_slab went in 6.10, PG_hwpoison needs MEMORY_FAILURE).
  for (std::string_view flag : {"PG_lru", "PG_private", "PG_swapcache", "PG_swapbacked", "PG_slab", "PG_hwpoison"}) {
    if (auto v = types.enumerator(flag)) out.number(flag, *v);
  }
  if (auto head = types.enumerator("PG_head")) out.number("PG_head_mask", int64_t{1} << *head);
  if (auto dtor = types.enumerator("HUGETLB_PAGE_DTOR")) out.number("HUGETLB_PAGE_DTOR", *dtor);

  // Page types, in page->page_type (sharing _mapcount's word). Since "mm:
  // support only one page_type per page" (6.12) the top byte holds one enum
  // pagetype value (PGTY_buddy, ...): VMCOREINFO gives that byte shifted into
  // place, and DWARF has the enum. Before, each type was a cleared bit below
  // PAGE_TYPE_BASE, #defines that DWARF does not carry: PG_buddy 0x80 and
  // PG_offline 0x100 (5.0, "mm: convert PG_balloon to PG_offline"), the two
  // such values VMCOREINFO had before 6.9.
  auto page_type = [&](std::string_view key, std::string_view pgty) {
    if (auto v = types.enumerator(pgty)) out.number(key, static_cast<int32_t>(static_cast<uint32_t>(*v) << 24));
  };
  if (types.enumerator("PGTY_buddy")) {
    page_type("PAGE_BUDDY_MAPCOUNT_VALUE", "PGTY_buddy");
    page_type("PAGE_OFFLINE_MAPCOUNT_VALUE", "PGTY_offline");
    page_type("PAGE_SLAB_MAPCOUNT_VALUE", "PGTY_slab");
    page_type("PAGE_HUGETLB_MAPCOUNT_VALUE", "PGTY_hugetlb");
  } else {
    out.number("PAGE_BUDDY_MAPCOUNT_VALUE", ~int64_t{0x80});
    out.number("PAGE_OFFLINE_MAPCOUNT_VALUE", ~int64_t{0x100});
    if (!types.enumerator("PG_slab")) {
      notes.push_back("no PG_slab and no PGTY_slab in the vmlinux: slab pages are judged without their page type");
    }
  }
  return out.text();
}

VmlinuxVmcoreinfo vmcoreinfo_from_vmlinux(const Kernel& k) {
  VmlinuxVmcoreinfo v;
  std::string why;
  if (auto text = vmcoreinfo_in_memory(k, why)) {
    v.text = std::move(*text);
    v.source =
        fmt::format("the kernel's VMCOREINFO in the dump's memory, located with {}", k.vmlinux().path().string());
    return v;
  }
  v.notes.push_back(why);
  v.text = vmcoreinfo_from_debuginfo(k, v.notes);
  v.source = fmt::format("the symbols and DWARF of {}", k.vmlinux().path().string());
  return v;
}

}  // namespace kdive::capture
