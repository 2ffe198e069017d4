// AddressSpace: one x86_64 virtual address space as a CPU saw it — the
// kernel's (init_top_pgt) or a process's (its mm->pgd) — with the split of the
// address range into user and kernel halves, translation through its page
// table (4- or 5-level, with every level visited, for vtop), reads, and the
// names of a page-table entry's flag bits.
//
// A process's page table maps the kernel half too (the same kernel mappings
// as every other process), so a kernel address translates in any space; a
// user address only means something in the space of the process it belongs to.
//
//   AddressSpace user = AddressSpace::of_task(kernel, task);     // Error for a kernel thread
//   Translation t = user.translate(VirtAddr{0x7f0000100000});    // t.levels, t.phys, t.page_size
//   user.read(VirtAddr{0x7f0000100000}, bytes);                   // Fault::user when unmapped
//   AddressSpace::kernel(kernel).translate(kernel.symbol_address("linux_banner"));
//   address_half(VirtAddr{0x7f0000100000}, 4);                    // AddressHalf::User
//   AddressSpace::kernel(kernel).direct_map_address(PhysAddr{0x1000});  // ptov
//   entry_flag_names(t.levels.back());                            // {"PRESENT", "RW", "USER", ...}
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/page_table.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;
struct Task;

// x86_64 canonical addresses: with 4-level paging the user half is
// [0, 1 << 47) and the kernel half [0xffff800000000000, 2^64); with 5-level
// paging (LA57) the halves grow to [0, 1 << 56) and [0xff00000000000000, 2^64).
// Anything in between faults on the CPU.
enum class AddressHalf { User, Kernel, NonCanonical };
AddressHalf address_half(VirtAddr v, int levels);
// The first address above user space (TASK_SIZE_MAX rounded up to the hole).
VirtAddr user_space_end(int levels);
// Where the kernel half starts with 5-level paging: a kernel pointer lies at
// or above it in either mode (for telling a task address from a PID before
// the dump's paging mode is at hand).
constexpr VirtAddr kLowestKernelAddress{0xff00000000000000ull};

// The names of the flag bits set in a present page-table entry, low bit first,
// as crash's vtop prints them: PRESENT RW USER PWT PCD ACCESSED DIRTY PSE
// GLOBAL NX. Bit 7 is PSE (a 2 MiB or 1 GiB page) in a PUD or PMD entry and
// PAT in a 4 KiB page's PTE; a huge page keeps its PAT bit at bit 12.
std::vector<std::string_view> entry_flag_names(const PageTableEntry& entry);

class AddressSpace {
 public:
  enum class Kind { Kernel, User };

  // The kernel's own page table (init_top_pgt).
  static AddressSpace kernel(const Kernel& k);
  // The user address space of a task: its mm's page table. Throws
  // Error(Lookup) for a kernel thread (no mm) and Fault when mm->pgd cannot
  // be read.
  static AddressSpace of_task(const Kernel& k, const Task& task);

  // A space over any page table (unit tests, a CPU's CR3).
  AddressSpace(const KernelMemory& memory, Kind kind, PhysAddr page_table, std::optional<int64_t> pid = std::nullopt)
      : memory_(&memory), kind_(kind), page_table_(page_table), pid_(pid) {}

  Kind kind() const { return kind_; }
  bool is_user() const { return kind_ == Kind::User; }
  std::string_view name() const { return is_user() ? "user" : "kernel"; }
  // Physical address of the top-level table (PGD, or the PML5 table with LA57).
  PhysAddr page_table() const { return page_table_; }
  // The task whose space this is (user spaces made by of_task).
  std::optional<int64_t> pid() const { return pid_; }
  int levels() const;

  // The walk through this space's page table, each level it visited and why
  // it stopped when the address is not mapped.
  Translation translate(VirtAddr v) const;
  // Reads `out.size()` bytes at `v`, across pages; throws Fault (Space::User
  // in a user space) naming the first address that cannot be read.
  void read(VirtAddr v, std::span<std::byte> out) const;
  // Where physical memory appears in the kernel half's direct map
  // (page_offset_base + p), which every space maps alike: what ptov shows.
  VirtAddr direct_map_address(PhysAddr p) const;

 private:
  const KernelMemory* memory_;
  Kind kind_;
  PhysAddr page_table_;
  std::optional<int64_t> pid_;
};

}  // namespace kdive
