#include "kernel-model/kernel_memory.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

// Size of the direct mapping region: 64 TiB with 4-level, 32 PiB with 5-level
// paging (Documentation/arch/x86/x86_64/mm.rst).
constexpr uint64_t kDirectMap4 = 64ull << 40;
constexpr uint64_t kDirectMap5 = 32ull << 50;

std::string state_reason(PageState s) {
  switch (s) {
    case PageState::Excluded:
      return "page excluded from the dump (filtered out when it was made)";
    case PageState::Missing:
      return "page not in the dump";
    default:
      return std::string(to_string(s));
  }
}

// Whether a chunk read in state `s` holds the memory's bytes; with
// zero_excluded an Excluded chunk does, as zeros, and so does one the dump's
// layout has but its file lost (truncated, incomplete), as crash zero-fills a
// short read there. A hole between the dumped ranges is never filled.
bool readable(const DumpSource& dump, PhysAddr at, PageState s, bool zero_excluded, std::span<std::byte> chunk) {
  if (s == PageState::Present || s == PageState::Zero) return true;
  if (!zero_excluded) return false;
  if (s != PageState::Excluded && !(s == PageState::Missing && dump.lost_from_file(at))) return false;
  std::fill(chunk.begin(), chunk.end(), std::byte{0});
  return true;
}

}  // namespace

KernelMemory::KernelMemory(DumpSource& dump, KernelLayout layout)
    : dump_(dump),
      layout_(std::move(layout)),
      walker_(dump, layout_.levels, layout_.sme_mask),
      direct_map_size_(layout_.levels == 5 ? kDirectMap5 : kDirectMap4) {
  // With KASLR the vmalloc and vmemmap regions may start well inside the
  // architectural 64 TiB (32 PiB) of the direct map (bullseye: vmemmap 58 TiB
  // above page_offset_base): the direct map ends where the next region begins.
  for (VirtAddr next : {layout_.vmalloc_start, layout_.vmemmap_start}) {
    if (next > layout_.page_offset) direct_map_size_ = std::min(direct_map_size_, next - layout_.page_offset);
  }
}

bool KernelMemory::in_direct_map(VirtAddr v) const {
  return layout_.direct_map_known && v >= layout_.page_offset && v - layout_.page_offset < direct_map_size_;
}

PhysAddr KernelMemory::to_phys(VirtAddr v) const {
  if (auto p = layout_.image_to_phys(v)) return *p;
  if (in_direct_map(v)) return PhysAddr{v - layout_.page_offset};
  Translation t = walker_.walk(layout_.kernel_pgd, v);
  if (!t.phys) throw Fault(v, t.fault);
  return *t.phys;
}

template <typename Addr, typename Translate>
void KernelMemory::read_pages(Addr start, std::span<std::byte> out, Translate translate) const {
  const uint64_t page = dump_.page_size();
  size_t done = 0;
  while (done < out.size()) {
    Addr here = start + done;
    size_t n = std::min<uint64_t>(out.size() - done, page - here.offset_in(page));
    translate(here, out.subspan(done, n));
    done += n;
  }
}

void KernelMemory::read(VirtAddr v, std::span<std::byte> out) const {
  read_pages(v, out, [&](VirtAddr at, std::span<std::byte> chunk) {
    const PhysAddr phys = to_phys(at);
    PageState s = dump_.read_phys(phys, chunk);
    if (!readable(dump_, phys, s, zero_excluded_, chunk)) throw Fault(at, state_reason(s));
  });
}

void KernelMemory::read_user(PhysAddr pgd, VirtAddr v, std::span<std::byte> out) const {
  read_pages(v, out, [&](VirtAddr at, std::span<std::byte> chunk) {
    Translation t = walker_.walk(pgd, at);
    if (!t.phys) throw Fault::user(at, t.fault);
    PageState s = dump_.read_phys(*t.phys, chunk);
    if (!readable(dump_, *t.phys, s, zero_excluded_, chunk)) throw Fault::user(at, state_reason(s));
  });
}

void KernelMemory::read_phys(PhysAddr p, std::span<std::byte> out) const {
  read_pages(p, out, [&](PhysAddr at, std::span<std::byte> chunk) {
    PageState s = dump_.read_phys(at, chunk);
    if (!readable(dump_, at, s, zero_excluded_, chunk)) throw Fault(at, state_reason(s));
  });
}

std::string KernelMemory::read_cstring(VirtAddr v, size_t max_len) const {
  std::string out;
  const uint64_t page = dump_.page_size();
  std::vector<std::byte> buf;
  while (out.size() < max_len) {
    VirtAddr here = v + out.size();
    size_t n = std::min<uint64_t>(max_len - out.size(), page - here.offset_in(page));
    buf.resize(n);
    read(here, buf);
    const char* p = reinterpret_cast<const char*>(buf.data());
    size_t len = strnlen(p, n);
    out.append(p, len);
    if (len < n) break;
  }
  return out;
}

}  // namespace kdive
