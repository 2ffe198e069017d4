// kdive-dump -x VMLINUX on a dump without VMCOREINFO: a copy of the
// fixture's QEMU ELF dump whose VMCOREINFO note is renamed (the QEMU dump a
// guest without -device vmcoreinfo gives). The filter, given the facts the
// vmlinux yields, must keep exactly the pages it keeps on the original with
// its note:
// - the kernel's own VMCOREINFO text, read from the dump's memory through the
//   vmlinux's symbols, equals the note;
// - the facts built from the symbols and DWARF equal the note's, key by key;
// - PageFilter at -d 31 decides every page alike from each of the three;
// - the kdive-dump program: without -x it refuses in one line, with -x its
//   output holds the same pages as the original's output without -x, and
//   when the dump has VMCOREINFO, that wins over -x.
// The fixture is only read; the copy lives in a temporary directory.
#include <fmt/format.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "capture/filter/page_filter.hpp"
#include "capture/filter/vmlinux_vmcoreinfo.hpp"
#include "kernel-model/kernel.hpp"
#include "readers/open_dump.hpp"
#include "readers/vmcoreinfo.hpp"
#include "tests/vm/dump_edit.hpp"
#include "tests/vm/filter_windows.hpp"
#include "tests/vm/host_tools.hpp"
#include "tests/vm/skip.hpp"
#include "tests/vm/truth.hpp"
#include "tests/vm/vm_test.hpp"

namespace fs = std::filesystem;
using namespace kdive;
using namespace kdive::test;
using kdive::capture::PageClass;
using kdive::capture::PageFilter;

namespace {

// One copy per test run (550 MB each): made on first use, removed at exit.
const fs::path& copy_without_vmcoreinfo() {
  static TempDir dir("vmlinux-filter");
  static const fs::path copy = [] {
    fs::path to = dir.path / "vmcore.elf";
    copy_without_notes(fixture_dir(suite()) / "vmcore.elf", to, {"VMCOREINFO"});
    return to;
  }();
  return copy;
}

// The first differences between two decision vectors, as lines.
std::vector<std::string> differences(const std::vector<PageClass>& a, const std::vector<PageClass>& b) {
  std::vector<std::string> out;
  if (a.size() != b.size()) out.push_back(fmt::format("{} PFNs against {}", a.size(), b.size()));
  for (uint64_t p = 0; p < std::min(a.size(), b.size()) && out.size() < 20; ++p) {
    if (a[p] != b[p]) out.push_back(fmt::format("PFN {:#x}: {} against {}", p, to_string(a[p]), to_string(b[p])));
  }
  return out;
}

// The VMCOREINFO keys the page filter and its layout read.
const std::vector<std::string> kFilterKeys = {
    "KERNELOFFSET",
    "NUMBER(phys_base)",
    "SYMBOL(init_top_pgt)",
    "NUMBER(pgtable_l5_enabled)",
    "NUMBER(sme_mask)",
    "NUMBER(KERNEL_IMAGE_SIZE)",
    "SYMBOL(mem_section)",
    "LENGTH(mem_section)",
    "SIZE(mem_section)",
    "OFFSET(mem_section.section_mem_map)",
    "NUMBER(SECTION_SIZE_BITS)",
    "SIZE(page)",
    "OFFSET(page.flags)",
    "OFFSET(page.mapping)",
    "OFFSET(page.lru)",
    "OFFSET(page.compound_head)",
    "OFFSET(page._mapcount)",
    "OFFSET(page.private)",
    "OFFSET(page.compound_dtor)",
    "LENGTH(zone.free_area)",
    "NUMBER(PG_lru)",
    "NUMBER(PG_private)",
    "NUMBER(PG_swapcache)",
    "NUMBER(PG_swapbacked)",
    "NUMBER(PG_slab)",
    "NUMBER(PG_hwpoison)",
    "NUMBER(PG_head_mask)",
    "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)",
    "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)",
    "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)",
    "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)",
    "NUMBER(HUGETLB_PAGE_DTOR)",
};

struct Run {
  int status = -1;
  std::string err;
};

Run kdive_dump(const std::string& args, const fs::path& dir) {
  const fs::path err = dir / "stderr";
  const std::string cmd = fmt::format("{} {} > /dev/null 2> {}", quoted(KDIVE_DUMP_BINARY), args, quoted(err));
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(err)};
}

}  // namespace

TEST_CASE("vmlinux_filter: the vmlinux gives the facts the VMCOREINFO note gives, and the same decisions",
          "[vmlinux_filter]") {
  if (!kernel_suite()) KDIVE_SKIP("the same kernel as bookworm");
  const fs::path dir = fixture_dir(suite());
  const fs::path& copy = copy_without_vmcoreinfo();
  auto original = open_dump({(dir / "vmcore.elf").string()});
  auto stripped = open_dump({copy.string()});
  REQUIRE(stripped->notes().vmcoreinfo.empty());
  const VmcoreInfo note(original->notes().vmcoreinfo);
  REQUIRE_FALSE(note.empty());

  // The kernel is found as the analyzer finds it (QEMU's CPU state).
  auto kernel = Kernel::open(dir / "vmlinux", {copy.string()});
  CHECK(kernel->layout().kaslr_offset == note.kernel_offset().value_or(0));

  std::string why;
  auto in_memory = capture::vmcoreinfo_in_memory(*kernel, why);
  INFO(why);
  REQUIRE(in_memory.has_value());
  // QEMU's note is the kernel's own buffer, copied at dump time.
  CHECK(VmcoreInfo(*in_memory).all() == note.all());
  const auto chosen = capture::vmcoreinfo_from_vmlinux(*kernel);
  CHECK(chosen.text == *in_memory);
  CHECK_THAT(chosen.source, Catch::Contains("in the dump's memory"));

  // Built from symbols and DWARF: every key it writes has the note's value,
  // and every key of the note that the filter reads is among them.
  std::vector<std::string> notes;
  const VmcoreInfo built(capture::vmcoreinfo_from_debuginfo(*kernel, notes));
  for (const auto& n : notes) UNSCOPED_INFO("note: " << n);
  std::vector<std::string> wrong;
  for (const auto& [key, value] : built.all()) {
    auto expected = note.get(key);
    if (expected && *expected != value) wrong.push_back(fmt::format("{}: {} (the note: {})", key, value, *expected));
  }
  for (const std::string& key : kFilterKeys) {
    if (note.get(key) && !built.get(key))
      wrong.push_back(fmt::format("{}: missing (the note: {})", key, *note.get(key)));
  }
  for (const auto& w : wrong) UNSCOPED_INFO(w);
  CHECK(wrong.empty());

  // -d 31: every class of struct page decision. The original with its note
  // is the reference.
  PageFilter reference(*original, 31);
  const auto expected = decide_all(reference);
  PageFilter from_memory(*stripped, 31, *in_memory);
  auto d = differences(expected, decide_all(from_memory));
  for (const auto& line : d) UNSCOPED_INFO("from memory: " << line);
  CHECK(d.empty());
  CHECK(from_memory.counts().pages == reference.counts().pages);

  std::vector<std::string> ignored;
  PageFilter from_dwarf(*stripped, 31, capture::vmcoreinfo_from_debuginfo(*kernel, ignored));
  d = differences(expected, decide_all(from_dwarf));
  for (const auto& line : d) UNSCOPED_INFO("from DWARF: " << line);
  CHECK(d.empty());
  CHECK(from_dwarf.counts().pages == reference.counts().pages);
  CHECK(from_dwarf.warnings() == reference.warnings());

  // Neither a note nor a vmlinux: one line that says what to do.
  try {
    PageFilter none(*stripped, 31);
    FAIL("a dump without VMCOREINFO was filtered at -d 31");
  } catch (const capture::FilterError& e) {
    CHECK_THAT(std::string(e.what()), Catch::Contains("no VMCOREINFO") && Catch::Contains("-x VMLINUX"));
  }
}

TEST_CASE("vmlinux_filter: kdive-dump -x keeps the pages the note keeps; without -x it refuses; the note wins",
          "[vmlinux_filter]") {
  if (!kernel_suite()) KDIVE_SKIP("the same kernel as bookworm");
  const fs::path dir = fixture_dir(suite());
  const fs::path& copy = copy_without_vmcoreinfo();
  TempDir tmp("vmlinux-filter-out");
  const std::string vmlinux = quoted(dir / "vmlinux");

  Run none = kdive_dump(fmt::format("-d 31 {} {}", quoted(copy), quoted(tmp.path / "none")), tmp.path);
  CHECK(none.status == 1);
  CHECK(std::count(none.err.begin(), none.err.end(), '\n') == 1);
  CHECK_THAT(none.err,
             Catch::StartsWith("kdive-dump: ") && Catch::Contains("no VMCOREINFO") && Catch::Contains("-x VMLINUX"));
  CHECK_FALSE(fs::exists(tmp.path / "none"));

  const fs::path with_x = tmp.path / "with-x", reference = tmp.path / "reference", both = tmp.path / "both";
  Run x = kdive_dump(fmt::format("-d 31 -x {} {} {}", vmlinux, quoted(copy), quoted(with_x)), tmp.path);
  INFO(x.err);
  REQUIRE(x.status == 0);
  CHECK_THAT(x.err, Catch::Contains("the dump has no VMCOREINFO; using the kernel's VMCOREINFO in the dump's memory"));
  Run r = kdive_dump(fmt::format("-d 31 {} {}", quoted(dir / "vmcore.elf"), quoted(reference)), tmp.path);
  INFO(r.err);
  REQUIRE(r.status == 0);
  Run b = kdive_dump(fmt::format("-d 31 -x {} {} {}", vmlinux, quoted(dir / "vmcore.elf"), quoted(both)), tmp.path);
  REQUIRE(b.status == 0);
  CHECK_THAT(b.err, Catch::Contains("the dump has VMCOREINFO: it is used, not -x"));

  // Page by page over the source's memory: the same pages kept, the same bytes.
  auto source = open_dump({(dir / "vmcore.elf").string()});
  auto a = open_dump({with_x.string()});
  auto c = open_dump({reference.string()});
  std::vector<std::byte> pa(4096), pc(4096);
  std::vector<std::string> problems;
  uint64_t kept = 0;
  for (const PhysRange& range : source->ranges()) {
    for (uint64_t p = range.start.value() & ~0xfffull; p < range.start.value() + range.size; p += 4096) {
      const PageState sa = a->read_phys(PhysAddr{p}, pa);
      const PageState sc = c->read_phys(PhysAddr{p}, pc);
      if (sa != sc || (sa == PageState::Present && pa != pc)) {
        if (problems.size() < 20)
          problems.push_back(fmt::format("{:#x}: {} with -x, {} without", p, to_string(sa), to_string(sc)));
      } else if (sa == PageState::Present) {
        ++kept;
      }
    }
  }
  for (const auto& p : problems) UNSCOPED_INFO(p);
  CHECK(problems.empty());
  // -d 31 leaves out most of an idle guest's memory, and keeps the kernel.
  CHECK(kept > 1000);
}
