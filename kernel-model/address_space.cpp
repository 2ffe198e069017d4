#include "kernel-model/address_space.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// Bits 0-8 of an x86_64 page-table entry (Intel SDM vol. 3, "Paging"; the
// kernel's arch/x86/include/asm/pgtable_types.h names them _PAGE_*).
constexpr std::string_view kLowBits[] = {"PRESENT", "RW", "USER", "PWT", "PCD", "ACCESSED", "DIRTY", "", "GLOBAL"};
constexpr int kPseOrPatBit = 7;  // PSE in a PUD/PMD, PAT in a 4 KiB PTE
constexpr int kHugePatBit = 12;  // PAT of a 2 MiB / 1 GiB page
constexpr int kNoExecuteBit = 63;

int top_bit(int levels) { return levels == 5 ? 56 : 47; }

}  // namespace

AddressHalf address_half(VirtAddr v, int levels) {
  const uint64_t high = v.value() >> top_bit(levels);
  if (high == 0) return AddressHalf::User;
  if (high == (~0ull >> top_bit(levels))) return AddressHalf::Kernel;
  return AddressHalf::NonCanonical;
}

VirtAddr user_space_end(int levels) { return VirtAddr{1ull << top_bit(levels)}; }

std::vector<std::string_view> entry_flag_names(const PageTableEntry& e) {
  auto has = [&](int bit) { return ((e.entry >> bit) & 1) != 0; };
  const bool pte = e.level == "PTE";
  std::vector<std::string_view> out;
  for (int bit = 0; bit < static_cast<int>(std::size(kLowBits)); ++bit) {
    if (!has(bit)) continue;
    out.push_back(bit == kPseOrPatBit ? (pte ? "PAT" : "PSE") : kLowBits[bit]);
  }
  if (!pte && has(kPseOrPatBit) && has(kHugePatBit)) out.push_back("PAT");
  if (has(kNoExecuteBit)) out.push_back("NX");
  return out;
}

AddressSpace AddressSpace::kernel(const Kernel& k) {
  return AddressSpace(k.memory(), Kind::Kernel, k.layout().kernel_pgd);
}

AddressSpace AddressSpace::of_task(const Kernel& k, const Task& task) {
  if (task.mm.is_null()) {
    throw Error(Error::Kind::Lookup,
                fmt::format("PID {} ({}) is a kernel thread: it has no user address space", task.pid, task.comm));
  }
  // mm->pgd is the kernel's virtual address of the top-level table.
  VirtAddr pgd = k.object(task.mm, "struct mm_struct")["pgd"].pointer();
  return AddressSpace(k.memory(), Kind::User, k.memory().to_phys(pgd), task.pid);
}

int AddressSpace::levels() const { return memory_->walker().levels(); }

VirtAddr AddressSpace::direct_map_address(PhysAddr p) const { return memory_->to_direct(p); }

Translation AddressSpace::translate(VirtAddr v) const { return memory_->walker().walk(page_table_, v); }

void AddressSpace::read(VirtAddr v, std::span<std::byte> out) const {
  if (is_user()) {
    memory_->read_user(page_table_, v, out);
  } else {
    memory_->read(v, out);  // the kernel's tables, with its direct-map and image shortcuts
  }
}

}  // namespace kdive
