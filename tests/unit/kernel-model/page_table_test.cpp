#include "kernel-model/page_table.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "tests/unit/support/fake_dump.hpp"

using kdive::AddressHalf;
using kdive::AddressSpace;
using kdive::PageState;
using kdive::PageTableEntry;
using kdive::PageTableWalker;
using kdive::PhysAddr;
using kdive::VirtAddr;
using kdive::test::FakeDump;

namespace {

constexpr uint64_t kPresentRw = 0x3;
constexpr uint64_t kHuge = 0x80;

uint64_t index_of(uint64_t v, int shift) { return (v >> shift) & 0x1ff; }

}  // namespace

TEST_CASE("4-level walk through every level to a 4 KiB page", "[page_table]") {
  FakeDump mem;
  const uint64_t v = 0xffffc90000123456ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 12) * 8}, 0x8000000000abc000ull | kPresentRw);  // NX set

  PageTableWalker walker(mem, 4);
  auto t = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0xabc456);
  CHECK(t.page_size == 4096);
  REQUIRE(t.levels.size() == 4);
  CHECK(t.levels[0].level == "PGD");
  CHECK(t.levels[1].level == "PUD");
  CHECK(t.levels[3].level == "PTE");
  CHECK(t.levels[2].entry_address.value() == 0x3000 + index_of(v, 21) * 8);
}

TEST_CASE("5-level walk starts one level higher", "[page_table]") {
  FakeDump mem;
  const uint64_t v = 0xff11000000201000ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 48) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 39) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 30) * 8}, 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 21) * 8}, 0x5000 | kPresentRw);
  mem.put(PhysAddr{0x5000 + index_of(v, 12) * 8}, 0x777000 | kPresentRw);

  PageTableWalker walker(mem, 5);
  auto t = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0x777000);
  REQUIRE(t.levels.size() == 5);
  CHECK(t.levels[0].level == "PGD");
  CHECK(t.levels[1].level == "P4D");
  // The same address is not canonical for 4-level paging.
  CHECK_FALSE(PageTableWalker(mem, 4).canonical(VirtAddr{v}));
  CHECK(walker.canonical(VirtAddr{v}));
}

TEST_CASE("1 GiB and 2 MiB pages end the walk early", "[page_table]") {
  FakeDump mem;
  const uint64_t gig = 0xffff888040000000ull + 0x12345678;
  mem.put(PhysAddr{0x1000 + index_of(gig, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(gig, 30) * 8}, 0x80000000ull | kPresentRw | kHuge);
  const uint64_t two = 0xffffffff81234567ull;
  mem.put(PhysAddr{0x1000 + index_of(two, 39) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(two, 30) * 8}, 0x4000 | kPresentRw);
  // PAT (bit 12) is set in this 2 MiB entry: it must not leak into the address.
  mem.put(PhysAddr{0x4000 + index_of(two, 21) * 8}, 0x1a00000ull | 0x1000 | kPresentRw | kHuge);

  PageTableWalker walker(mem, 4);
  auto g = walker.walk(PhysAddr{0x1000}, VirtAddr{gig});
  REQUIRE(g.phys);
  CHECK(g.page_size == (1ull << 30));
  CHECK(g.phys->value() == 0x80000000ull + 0x12345678);
  CHECK(g.levels.size() == 2);

  auto m = walker.walk(PhysAddr{0x1000}, VirtAddr{two});
  REQUIRE(m.phys);
  CHECK(m.page_size == (2ull << 20));
  CHECK(m.phys->value() == 0x1a00000ull + (two & 0x1fffff));
}

TEST_CASE("a walk reports why it stopped", "[page_table]") {
  FakeDump mem;
  const uint64_t v = 0xffffc90000000000ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, uint64_t{0x3000});  // not present
  PageTableWalker walker(mem, 4);
  auto t = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  CHECK_FALSE(t.phys);
  CHECK(t.fault == "PUD not present");
  CHECK(t.levels.size() == 2);

  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, 0x5000 | kPresentRw);
  mem.exclude(PhysAddr{0x5000});
  auto excluded = walker.walk(PhysAddr{0x1000}, VirtAddr{v});
  CHECK(excluded.fault == "PMD page at 5000 is not in the dump");

  auto bad = walker.walk(PhysAddr{0x1000}, VirtAddr{0x0000900000000000ull});
  CHECK(bad.fault.find("not a canonical address") != std::string::npos);
}

TEST_CASE("the SME mask is stripped from entry addresses", "[page_table]") {
  FakeDump mem;
  const uint64_t sme = 1ull << 47;
  const uint64_t v = 0x400000;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, sme | 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, sme | 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, sme | 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 12) * 8}, sme | 0x9000 | kPresentRw);
  auto t = PageTableWalker(mem, 4, sme).walk(PhysAddr{0x1000}, VirtAddr{v});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0x9000);
}

TEST_CASE("addresses fall in the user half, the kernel half or neither", "[page_table]") {
  using kdive::address_half;
  // 4-level: 47 bits of user space, the kernel from 0xffff800000000000.
  CHECK(address_half(VirtAddr{0}, 4) == AddressHalf::User);
  CHECK(address_half(VirtAddr{0x00007fffffffffffull}, 4) == AddressHalf::User);
  CHECK(address_half(VirtAddr{0x0000800000000000ull}, 4) == AddressHalf::NonCanonical);
  CHECK(address_half(VirtAddr{0xffff7fffffffffffull}, 4) == AddressHalf::NonCanonical);
  CHECK(address_half(VirtAddr{0xffff800000000000ull}, 4) == AddressHalf::Kernel);
  CHECK(address_half(VirtAddr{0xffffffff81000000ull}, 4) == AddressHalf::Kernel);
  // 5-level: 56 bits of user space, the kernel from 0xff00000000000000.
  CHECK(address_half(VirtAddr{0x0000800000000000ull}, 5) == AddressHalf::User);
  CHECK(address_half(VirtAddr{0x00ffffffffffffffull}, 5) == AddressHalf::User);
  CHECK(address_half(VirtAddr{0x0100000000000000ull}, 5) == AddressHalf::NonCanonical);
  CHECK(address_half(VirtAddr{0xff11000000000000ull}, 5) == AddressHalf::Kernel);
  CHECK(address_half(VirtAddr{0xfe00000000000000ull}, 5) == AddressHalf::NonCanonical);
  // Kernel pointers of both modes lie at or above the 5-level kernel half's start.
  CHECK(address_half(kdive::kLowestKernelAddress, 5) == AddressHalf::Kernel);
  CHECK(address_half(kdive::kLowestKernelAddress - 1, 5) == AddressHalf::NonCanonical);
  CHECK(VirtAddr{0xffff800000000000ull} > kdive::kLowestKernelAddress);
  CHECK(kdive::user_space_end(4) == VirtAddr{1ull << 47});
  CHECK(kdive::user_space_end(5) == VirtAddr{1ull << 56});
}

TEST_CASE("entry flags are named by bit, bit 7 by level", "[page_table]") {
  auto names = [](std::string_view level, uint64_t entry) {
    std::string out;
    for (auto n : kdive::entry_flag_names(PageTableEntry{level, PhysAddr{0x1000}, entry})) {
      out += (out.empty() ? "" : "|") + std::string(n);
    }
    return out;
  };
  // A user data page: the bits crash shows for one.
  CHECK(names("PTE", 0x8000000007884867ull) == "PRESENT|RW|USER|ACCESSED|DIRTY|NX");
  // A 2 MiB kernel text page: bit 7 is PSE in a PMD.
  CHECK(names("PMD", 0x80000000070001e1ull) == "PRESENT|ACCESSED|DIRTY|PSE|GLOBAL|NX");
  // In a 4 KiB PTE bit 7 is PAT; a huge page keeps its PAT at bit 12.
  CHECK(names("PTE", 0x1000 | 0x80 | 0x1) == "PRESENT|PAT");
  CHECK(names("PUD", 0x40000000ull | 0x1000 | 0x80 | 0x1) == "PRESENT|PSE|PAT");
  CHECK(names("PMD", 0x3000 | 0x18 | 0x1) == "PRESENT|PWT|PCD");
  CHECK(names("PTE", 0).empty());
}

TEST_CASE("a user address space reads through its own page table", "[page_table]") {
  FakeDump mem;
  kdive::KernelLayout layout;
  layout.levels = 4;
  layout.page_offset = VirtAddr{0xffff888000000000ull};
  layout.kernel_pgd = PhysAddr{0x9000};
  kdive::KernelMemory memory(mem, layout);

  // Two consecutive user pages, mapped to physical pages that are not
  // consecutive, and a third page left unmapped.
  const uint64_t v = 0x7f0000100000ull;
  mem.put(PhysAddr{0x1000 + index_of(v, 39) * 8}, 0x2000 | kPresentRw);
  mem.put(PhysAddr{0x2000 + index_of(v, 30) * 8}, 0x3000 | kPresentRw);
  mem.put(PhysAddr{0x3000 + index_of(v, 21) * 8}, 0x4000 | kPresentRw);
  mem.put(PhysAddr{0x4000 + index_of(v, 12) * 8}, 0x7000 | kPresentRw | 0x4);
  mem.put(PhysAddr{0x4000 + index_of(v + 0x1000, 12) * 8}, 0x5000 | kPresentRw | 0x4);
  mem.put(PhysAddr{0x7ffc}, uint32_t{0x44434241});  // "ABCD" at the end of the first page
  mem.put(PhysAddr{0x5000}, uint32_t{0x48474645});  // "EFGH" at the start of the second

  AddressSpace user(memory, AddressSpace::Kind::User, PhysAddr{0x1000}, 97);
  CHECK(user.is_user());
  CHECK(user.name() == "user");
  CHECK(user.pid() == 97);
  auto t = user.translate(VirtAddr{v + 0x1004});
  REQUIRE(t.phys);
  CHECK(t.phys->value() == 0x5004);

  std::string bytes(8, '\0');
  user.read(VirtAddr{v + 0xffc}, {reinterpret_cast<std::byte*>(bytes.data()), bytes.size()});
  CHECK(bytes == "ABCDEFGH");

  // Past the mapped pages: a Fault in user space, naming the first address that failed.
  std::vector<std::byte> across(0x10);
  try {
    user.read(VirtAddr{v + 0x1ff8}, across);
    FAIL("read of an unmapped page succeeded");
  } catch (const kdive::Fault& f) {
    CHECK(f.space() == kdive::Fault::Space::User);
    CHECK(f.virtual_address() == VirtAddr{v + 0x2000});
    CHECK_FALSE(f.physical_address());
    CHECK(std::string(f.what()) == "cannot read user address 7f0000102000: PTE not present");
  }

  // The kernel's space is another table: the same address is not mapped there.
  AddressSpace kernel(memory, AddressSpace::Kind::Kernel, layout.kernel_pgd);
  CHECK(kernel.name() == "kernel");
  CHECK_FALSE(kernel.translate(VirtAddr{v}).phys);
}
