#include "kernel-model/kernel_layout.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/page_table.hpp"

namespace kdive {
namespace {

constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t kKaslrRange = 1ull << 30;  // KERNEL_IMAGE_SIZE with KASLR
constexpr uint64_t kCr4La57 = 1ull << 12;

// Defaults of the randomized bases, for kernels built without RANDOMIZE_MEMORY
// (then the variables do not exist). From Documentation/x86/x86_64/mm.rst.
constexpr VirtAddr kPageOffset4{0xffff888000000000ull}, kPageOffset5{0xff11000000000000ull};
constexpr VirtAddr kVmalloc4{0xffffc90000000000ull}, kVmalloc5{0xffa0000000000000ull};
constexpr VirtAddr kVmemmap4{0xffffea0000000000ull}, kVmemmap5{0xffd4000000000000ull};

// Link-time (unrelocated) addresses of the symbols that locate the kernel.
struct LinkSymbols {
  VirtAddr text;
  VirtAddr banner;
  VirtAddr top_pgt;
};

LinkSymbols link_symbols(const Vmlinux& vm) {
  const auto& s = vm.symbols();
  LinkSymbols l;
  auto need = [&](std::initializer_list<std::string_view> names) -> VirtAddr {
    for (auto n : names) {
      if (auto a = s.address(n)) return *a - s.relocation();
    }
    throw Error(Error::Kind::BadData,
                fmt::format("{}: no symbol {} — is this a Linux vmlinux?", vm.path().string(), *names.begin()));
  };
  l.text = need({"_text"});
  l.banner = need({"linux_banner"});
  // init_level4_pgt was renamed init_top_pgt in 4.13 (commit 65ade2f872b4).
  l.top_pgt = need({"init_top_pgt", "init_level4_pgt"});
  return l;
}

bool banner_at(DumpSource& dump, PhysAddr at, const std::string& banner) {
  auto bytes = read_phys_range(dump, at, banner.size());
  return bytes && std::memcmp(bytes->data(), banner.data(), banner.size()) == 0;
}

struct Located {
  uint64_t kaslr;
  uint64_t phys_base;
};

// Given a page table that maps the kernel image, finds the KASLR offset whose
// linux_banner address translates to the vmlinux's banner text.
std::optional<Located> locate_through_page_table(DumpSource& dump, const PageTableWalker& walker, PhysAddr top,
                                                 const LinkSymbols& link, const std::string& banner) {
  for (uint64_t kaslr = 0; kaslr < kKaslrRange; kaslr += k2M) {
    Translation t = walker.walk(top, link.banner + kaslr);
    if (!t.phys || !banner_at(dump, *t.phys, banner)) continue;
    Translation text = walker.walk(top, link.text + kaslr);
    if (!text.phys) continue;
    return Located{kaslr, text.phys->value() - (link.text + kaslr - kStartKernelMap)};
  }
  return std::nullopt;
}

std::optional<uint64_t> read_u64(DumpSource& dump, std::optional<PhysAddr> at) {
  if (!at) return std::nullopt;
  auto bytes = read_phys_range(dump, *at, 8);
  if (!bytes) return std::nullopt;
  uint64_t v;
  std::memcpy(&v, bytes->data(), 8);
  return v;
}

std::optional<uint32_t> read_u32(DumpSource& dump, std::optional<PhysAddr> at) {
  auto v = read_u64(dump, at);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<Located> from_vmcoreinfo(const VmcoreInfo& info, const DumpNotes& notes, const Vmlinux& vm) {
  std::optional<uint64_t> kaslr = info.kernel_offset();
  if (!kaslr) {
    auto stext = info.symbol("_stext");
    auto link_stext = vm.symbols().address("_stext");
    if (stext && link_stext) kaslr = *stext - (*link_stext - vm.symbols().relocation()).value();
  }
  std::optional<uint64_t> phys_base;
  if (auto n = info.number("phys_base")) phys_base = static_cast<uint64_t>(*n);
  if (!phys_base) phys_base = notes.phys_base;
  if (!kaslr || !phys_base) return std::nullopt;
  if (*kaslr % 4096 != 0) {
    throw Error(Error::Kind::BadData,
                fmt::format("VMCOREINFO gives a KASLR offset {:#x} that is not page aligned", *kaslr));
  }
  return Located{*kaslr, *phys_base};
}

int paging_levels(DumpSource& dump, const VmcoreInfo& info, const KernelLayout& layout, const Vmlinux& vm) {
  if (auto n = info.number("pgtable_l5_enabled")) return *n ? 5 : 4;
  for (const auto& cpu : dump.notes().cpus) {
    if (cpu.qemu && cpu.qemu->cr4 != 0) return (cpu.qemu->cr4 & kCr4La57) ? 5 : 4;
  }
  // Before 4.17 (commit 6f9dd329717f, "x86/mm: Allow to have..."), no 5-level support.
  if (auto a = vm.symbols().address("__pgtable_l5_enabled")) {
    if (auto v = read_u32(dump, layout.image_to_phys(*a))) return *v ? 5 : 4;
  }
  return 4;
}

void check_match(DumpSource& dump, const Vmlinux& vm, const VmcoreInfo& info, const KernelLayout& layout,
                 const LinkSymbols& link) {
  std::string what;
  if (auto release = info.get("OSRELEASE"); release && !vm.release().empty() && *release != vm.release()) {
    what = fmt::format("the dump is {} (VMCOREINFO), the vmlinux is {}", *release, vm.release());
  } else if (auto id = info.get("BUILD-ID");
             id && !vm.build_id().empty() && vm.build_id().rfind(*id, 0) != 0 && id->rfind(vm.build_id(), 0) != 0) {
    what = fmt::format("build IDs differ: dump {}, vmlinux {}", *id, vm.build_id());
  } else if (!vm.banner().empty()) {
    // Only bytes that are there and differ prove a mismatch; a banner page missing
    // from a truncated or filtered dump proves nothing.
    auto at = layout.image_to_phys(link.banner + layout.kaslr_offset);
    auto bytes = at ? read_phys_range(dump, *at, vm.banner().size()) : std::nullopt;
    if (bytes && std::memcmp(bytes->data(), vm.banner().data(), vm.banner().size()) != 0) {
      what = "the vmlinux's linux_banner differs from the one in the dump's memory";
    }
  }
  if (!what.empty()) {
    throw Error(Error::Kind::Mismatch, fmt::format("{} does not match the dump: {} (--ignore-mismatch to go on anyway)",
                                                   vm.path().string(), what));
  }
}

}  // namespace

std::optional<std::vector<std::byte>> read_phys_range(DumpSource& dump, PhysAddr at, size_t length) {
  std::vector<std::byte> out(length);
  const uint64_t page = dump.page_size();
  size_t done = 0;
  while (done < length) {
    PhysAddr here = at + done;
    size_t n = std::min<uint64_t>(length - done, page - here.offset_in(page));
    PageState s = dump.read_phys(here, std::span(out).subspan(done, n));
    if (s != PageState::Present && s != PageState::Zero) return std::nullopt;
    done += n;
  }
  return out;
}

KernelLayout layout_from_vmcoreinfo(const VmcoreInfo& info, const DumpNotes& notes) {
  auto missing = [](std::string_view key) {
    return Error(Error::Kind::Unsupported, fmt::format("the dump's VMCOREINFO has no {}", key));
  };
  KernelLayout layout;
  layout.source = "VMCOREINFO";
  if (auto n = info.number("sme_mask")) layout.sme_mask = static_cast<uint64_t>(*n);
  if (auto n = info.number("KERNEL_IMAGE_SIZE")) layout.image_size = static_cast<uint64_t>(*n);
  // KERNELOFFSET is written only by kernels with RANDOMIZE_BASE; without it
  // the kernel runs where it was linked.
  layout.kaslr_offset = info.kernel_offset().value_or(0);
  if (auto n = info.number("phys_base")) {
    layout.phys_base = static_cast<uint64_t>(*n);
  } else if (notes.phys_base) {
    layout.phys_base = *notes.phys_base;
  } else {
    throw missing("NUMBER(phys_base)");
  }
  if (auto n = info.number("pgtable_l5_enabled")) {
    layout.levels = *n ? 5 : 4;
  } else {
    // Before 4.17 (commit 6f9dd329717f) there was no 5-level paging and no key.
    layout.levels = 4;
    for (const auto& cpu : notes.cpus) {
      if (cpu.qemu && cpu.qemu->cr4 != 0) layout.levels = (cpu.qemu->cr4 & kCr4La57) ? 5 : 4;
    }
  }
  // SYMBOL() values are the running kernel's (already relocated) addresses.
  // init_level4_pgt was renamed init_top_pgt in 4.13 (commit 65ade2f872b4).
  auto top = info.symbol("init_top_pgt");
  if (!top) top = info.symbol("init_level4_pgt");
  if (!top) throw missing("SYMBOL(init_top_pgt)");
  auto pgd = layout.image_to_phys(VirtAddr{*top});
  if (!pgd)
    throw Error(Error::Kind::BadData, fmt::format("VMCOREINFO's init_top_pgt {:#x} is not in the kernel image", *top));
  layout.kernel_pgd = *pgd;
  const bool five = layout.levels == 5;
  layout.page_offset = five ? kPageOffset5 : kPageOffset4;
  layout.direct_map_known = false;
  // SYMBOL(vmemmap) since 5.x on x86_64 only in some configurations (6.12 has
  // it); NUMBER(VMALLOC_START) likewise. Defaults otherwise, as with no KASLR.
  layout.vmemmap_start = VirtAddr{info.symbol("vmemmap").value_or((five ? kVmemmap5 : kVmemmap4).value())};
  // The kernel writes this one NUMBER in hex ("=0x%lx"), unlike the others.
  layout.vmalloc_start = five ? kVmalloc5 : kVmalloc4;
  if (auto text = info.get("NUMBER(VMALLOC_START)"); text && text->starts_with("0x")) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(text->data() + 2, text->data() + text->size(), v, 16);
    if (ec == std::errc() && end == text->data() + text->size()) layout.vmalloc_start = VirtAddr{v};
  }
  return layout;
}

KernelLayout find_kernel_layout(DumpSource& dump, Vmlinux& vm, const VmcoreInfo& info, LayoutOptions options) {
  const LinkSymbols link = link_symbols(vm);
  const std::string& banner = vm.banner();
  KernelLayout layout;
  if (auto n = info.number("sme_mask")) layout.sme_mask = static_cast<uint64_t>(*n);
  if (auto n = info.number("KERNEL_IMAGE_SIZE")) layout.image_size = static_cast<uint64_t>(*n);

  std::optional<Located> found = from_vmcoreinfo(info, dump.notes(), vm);
  if (found) layout.source = "VMCOREINFO";

  if (!found && !banner.empty()) {
    for (const auto& cpu : dump.notes().cpus) {
      if (!cpu.qemu || cpu.qemu->cr3 == 0) continue;
      PageTableWalker walker(dump, (cpu.qemu->cr4 & kCr4La57) ? 5 : 4, layout.sme_mask);
      // With page-table isolation a CPU may hold the user copy (bit 12 set) of its PGD.
      const uint64_t base = cpu.qemu->cr3 & kPteAddressMask;
      for (uint64_t cr3 : {base, base & ~uint64_t{0x1000}}) {
        found = locate_through_page_table(dump, walker, PhysAddr{cr3}, link, banner);
        if (found) break;
      }
      if (found) {
        layout.source = "QEMU CPU state (CR3) and the kernel page tables";
        break;
      }
    }
  }

  if (!found && !banner.empty()) {
    // The kernel is loaded at a 2 MiB-aligned physical address (CONFIG_PHYSICAL_ALIGN).
    const uint64_t banner_from_text = link.banner - link.text;
    for (const auto& range : dump.ranges()) {
      uint64_t first = (range.start.value() + k2M - 1) & ~(k2M - 1);
      for (uint64_t text = first; text + banner_from_text < range.start.value() + range.size; text += k2M) {
        if (!banner_at(dump, PhysAddr{text + banner_from_text}, banner)) continue;
        PhysAddr pgt{text + (link.top_pgt - link.text)};
        uint32_t l5 = 0;
        if (auto a = vm.symbols().address("__pgtable_l5_enabled")) {
          l5 = read_u32(dump, PhysAddr{text + (*a - vm.symbols().relocation() - link.text)}).value_or(0);
        }
        PageTableWalker walker(dump, l5 ? 5 : 4, layout.sme_mask);
        found = locate_through_page_table(dump, walker, pgt, link, banner);
        if (found) break;
      }
      if (found) {
        layout.source = "linux_banner found in physical memory, then the kernel page tables";
        break;
      }
    }
  }

  if (!found) {
    if (!options.ignore_mismatch) {
      throw Error(Error::Kind::Mismatch,
                  fmt::format("cannot find the kernel of {} in the dump: the dump has no usable VMCOREINFO "
                              "and the vmlinux's banner is not in its memory (wrong vmlinux?)",
                              vm.path().string()));
    }
    found = Located{0, 0};
    layout.source = "nothing (assumed no KASLR; the vmlinux does not match)";
  }

  layout.kaslr_offset = found->kaslr;
  layout.phys_base = found->phys_base;
  vm.symbols().relocate(layout.kaslr_offset);
  layout.levels = paging_levels(dump, info, layout, vm);
  layout.kernel_pgd = layout.image_to_phys(link.top_pgt + layout.kaslr_offset).value_or(PhysAddr{});
  if (!options.ignore_mismatch) check_match(dump, vm, info, layout, link);

  const bool five = layout.levels == 5;
  auto variable = [&](std::string_view name, VirtAddr fallback) {
    auto a = vm.symbols().address(name);
    if (!a) return fallback;
    auto v = read_u64(dump, layout.image_to_phys(*a));
    return v ? VirtAddr{*v} : fallback;
  };
  layout.page_offset = variable("page_offset_base", five ? kPageOffset5 : kPageOffset4);
  layout.vmalloc_start = variable("vmalloc_base", five ? kVmalloc5 : kVmalloc4);
  layout.vmemmap_start = variable("vmemmap_base", five ? kVmemmap5 : kVmemmap4);
  return layout;
}

}  // namespace kdive
