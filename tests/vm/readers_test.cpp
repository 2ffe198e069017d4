// Readers and address translation on real crashed kernels: kdive's view of each
// fixture (both dump formats) against the guest's own ground truth.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "dump_edit.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "readers/byte_source.hpp"
#include "readers/elf_core.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

namespace fs = std::filesystem;
using namespace kdive::test;

namespace {

// Both dump formats of each crash; KDIVE_FORMATS=elf narrows it when debugging.
std::vector<std::string> formats() {
  const char* only = std::getenv("KDIVE_FORMATS");
  if (only != nullptr && *only != '\0') return {only};
  return {"elf", "kdump-zlib"};
}

std::string field(const std::string& sys, const std::string& label) {
  std::smatch m;
  std::regex re("(^|\\n) *" + label + ": ([^\\n]*)");
  return std::regex_search(sys, m, re) ? m[2].str() : "";
}

uint64_t hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

}  // namespace

TEST_CASE("rd -a linux_banner shows the guest's banner at its KASLR address", "[readers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const std::string& format : formats()) {
    INFO(format);
    KdiveRun r = run_kdive(suite(), format, "rd -a linux_banner");
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    REQUIRE(r.out.size() > 17);
    CHECK(hex(r.out.substr(0, 16)) == t.ksym.at("linux_banner"));
    // The banner ends in a newline, which rd shows as '.'.
    CHECK(rd_ascii_text(r.out) == t.version + ".");
  }
}

TEST_CASE("sys agrees with the guest", "[readers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const std::string& format : formats()) {
    INFO(format);
    KdiveRun r = run_kdive(suite(), format, "sys");
    CHECK(r.status == 0);
    CHECK(field(r.out, "RELEASE") == t.release);
    CHECK(t.uname.find(field(r.out, "VERSION")) != std::string::npos);
    CHECK(field(r.out, "NODENAME") == "kdive");
    CHECK(field(r.out, "CPUS").rfind(std::to_string(t.cpus), 0) == 0);
    CHECK(field(r.out, "MACHINE").rfind("x86_64", 0) == 0);
    CHECK(field(r.out, "DUMPFILE").find(std::string("[") + (format == "elf" ? "elf" : "kdump")) != std::string::npos);
    // Usable RAM: above what the kernel manages (MemTotal), below the guest's
    // memory (512 MiB, 768 MiB in the kexec recipe: see recipe()).
    double mb = std::stod(field(r.out, "MEMORY"));
    CHECK(mb * 1024 >= static_cast<double>(t.meminfo.at("MemTotal")));
    CHECK(mb <= static_cast<double>(recipe(suite()).guest_mib));
    std::string panic = field(r.out, "PANIC");
    if (suite() == "bookworm-oom") {
      CHECK(panic == "\"Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled\"");
    } else if (suite() == "bookworm-modoops") {  // the module's oops, with panic_on_oops
      CHECK(panic == "\"Kernel panic - not syncing: Fatal exception\"");
    } else {
      CHECK(panic == "\"Kernel panic - not syncing: sysrq triggered crash\"");
    }
  }
}

TEST_CASE("ptov and vtop agree with the guest's memory layout", "[readers]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  for (const std::string& format : formats()) {
    INFO(format);
    KdiveRun p = run_kdive(suite(), format, "ptov 0");
    CHECK(p.status == 0);
    std::smatch m;
    REQUIRE(std::regex_search(p.out, m, std::regex("\\n([0-9a-f]+) +0 *\\n")));
    CHECK(hex(m[1]) == t.kvar.at("page_offset_base"));

    // Kernel text maps linearly: phys = virt - __START_KERNEL_map + phys_base.
    KdiveRun v = run_kdive(suite(), format, "vtop linux_banner");
    CHECK(v.status == 0);
    REQUIRE(std::regex_search(v.out, m, std::regex("\\n([0-9a-f]+) +([0-9a-f]+) *\\n")));
    CHECK(hex(m[1]) == t.ksym.at("linux_banner"));
    CHECK(hex(m[2]) == t.ksym.at("linux_banner") - 0xffffffff80000000ull + t.kvar.at("phys_base"));
    CHECK(v.out.find(t.la57 ? "P4D:" : "PUD:") != std::string::npos);
    CHECK((v.out.find("P4D:") != std::string::npos) == t.la57);
  }
}

TEST_CASE("the ELF and kdump dumps of one crash read the same bytes", "[readers]") {
  const fs::path dir = fixture_dir(suite());
  auto elf = kdive::Kernel::open(dir / "vmlinux", {(dir / "vmcore.elf").string()});
  auto kdump = kdive::Kernel::open(dir / "vmlinux", {(dir / "vmcore.kdump-zlib").string()});
  CHECK(elf->layout().kaslr_offset == kdump->layout().kaslr_offset);
  CHECK(elf->layout().phys_base == kdump->layout().phys_base);

  std::mt19937_64 rng(20261123);
  const auto ranges = elf->dump().ranges();
  const kdive::VirtAddr text = elf->symbol_address("_text");
  const kdive::VirtAddr end = elf->symbol_address("_end");
  int compared = 0;
  for (int i = 0; i < 1000; ++i) {
    kdive::VirtAddr vaddr;
    if (i % 4 == 0) {
      vaddr = text + rng() % (end - text);  // kernel image
    } else {
      const auto& r = ranges[rng() % ranges.size()];
      vaddr = elf->memory().to_direct(r.start + rng() % r.size);
    }
    std::vector<std::byte> a(64), b(64);
    std::string fa, fb;
    try {
      elf->memory().read(vaddr, a);
    } catch (const kdive::Fault& f) {
      fa = f.what();
    }
    try {
      kdump->memory().read(vaddr, b);
    } catch (const kdive::Fault& f) {
      fb = f.what();
    }
    INFO(std::hex << vaddr.value());
    // QEMU's kdump output leaves zero pages out (dump level 1): the ELF reads
    // zeros where the kdump reader says "excluded".
    if (!fb.empty() && fa.empty()) {
      CHECK(std::all_of(a.begin(), a.end(), [](std::byte x) { return x == std::byte{0}; }));
      continue;
    }
    CHECK(fa == fb);
    CHECK(a == b);
    ++compared;
  }
  CHECK(compared > 500);
}

TEST_CASE("a vmlinux from another kernel is refused with one line", "[readers]") {
  const std::string other = suite() == "bullseye" ? "bookworm" : "bullseye";
  const fs::path dir = fixture_dir(suite());
  if (!fs::is_regular_file(fixture_dir(other) / "vmlinux")) KDIVE_SKIP("needs the " + other + " fixture's vmlinux too");
  std::string args = "-b -c 'echo started' '" + (fixture_dir(other) / "vmlinux").string() + "' '" +
                     (dir / "vmcore.elf").string() + "'";
  KdiveRun r = run_kdive_args(args);
  CHECK(r.status == 2);
  CHECK(r.out.empty());
  CHECK(r.err.find("does not match the dump") != std::string::npos);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);

  KdiveRun forced = run_kdive_args("--ignore-mismatch " + args);
  CHECK(forced.status == 0);
  CHECK(forced.out == "started\n");
}

TEST_CASE("damaged dumps give clear messages", "[readers]") {
  const fs::path dir = fixture_dir(suite());
  const fs::path tmp = fs::temp_directory_path() / ("kdive-damaged-" + suite());
  fs::create_directories(tmp);
  const std::string vmlinux = "'" + (dir / "vmlinux").string() + "' ";

  // A truncated ELF dump still opens: what is there can be read, with a warning.
  // Cut it above the kernel image, so the kernel itself is still in the file.
  // File offsets and physical addresses are matched through the dump's PT_LOAD
  // headers: a kexec dump leaves the crash kernel's reservation out (a hole of
  // about 100 MiB), so an offset can be far from the address it holds.
  Truth truth = Truth::load(dir / "truth.txt");
  const uint64_t kernel_end_phys = truth.ksym.at("_end") - 0xffffffff80000000ull + truth.kvar.at("phys_base");
  const uint64_t size = fs::file_size(dir / "vmcore.elf");
  auto elf_file = kdive::FileSource::open((dir / "vmcore.elf").string());
  const kdive::ElfCore layout = kdive::ElfCore::parse(*elf_file);
  const kdive::ElfSegment* kernel_segment = segment_holding_physical(layout, kernel_end_phys);
  REQUIRE(kernel_segment != nullptr);
  const uint64_t kernel_end = kernel_segment->offset + (kernel_end_phys - kernel_segment->paddr);
  // The cut keeps at least the low 64 MiB and 8 MiB past the kernel, and loses
  // at least the last MiB of the file (KASLR leaves slack above _end: the
  // decompressor's buffer, so the kernel never ends in the file's last MiB).
  const uint64_t cut = std::min(std::max(kernel_end + (8ull << 20), 64ull << 20), size - (1ull << 20)) & ~0xfffull;
  REQUIRE(cut > kernel_end);
  // The first page past the cut, wherever it lies in physical memory.
  const kdive::ElfSegment* lost_segment = segment_holding_offset(layout, cut);
  REQUIRE(lost_segment != nullptr);
  const uint64_t lost = lost_segment->paddr + (cut - lost_segment->offset);
  fs::path truncated = tmp / "truncated.elf";
  std::string cmd =
      "head -c " + std::to_string(cut) + " '" + (dir / "vmcore.elf").string() + "' > '" + truncated.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  char lost_hex[32];
  std::snprintf(lost_hex, sizeof lost_hex, "%llx", static_cast<unsigned long long>(lost));
  // A page still in the file: page 1 in QEMU's dumps; the kexec recipe's
  // level-1 dump leaves zero pages out (page 1 is one), so there the page of
  // linux_banner, inside the kernel image.
  const uint64_t kept =
      recipe(suite()).kexec
          ? (truth.ksym.at("linux_banner") - 0xffffffff80000000ull + truth.kvar.at("phys_base")) & ~0xfffull
          : 0x1000;
  KdiveRun t = run_kdive_args(fmt::format("-b -c 'rd -p {:x}; rd -p {}' ", kept, lost_hex) + vmlinux + "'" +
                              truncated.string() + "'");
  INFO(t.err);
  CHECK(t.err.find("warning: " + truncated.string() + ": truncated") != std::string::npos);
  CHECK(t.out.find(fmt::format("{:>16x}:  ", kept)) == 0);
  CHECK(t.err.find("rd: cannot read physical address " + std::string(lost_hex) + ": page not in the dump") !=
        std::string::npos);
  CHECK(t.status == 1);

  // A kdump-compressed dump cut in half (QEMU's flattened stream, or the kexec
  // recipe's kdive-dump file) says so at start-up, whichever check sees it:
  // the stream's missing end marker or page data past the end of the file.
  fs::path half = tmp / "half.kdump";
  const uint64_t kdump_size = fs::file_size(dir / "vmcore.kdump-zlib");
  cmd = "head -c " + std::to_string(kdump_size / 2) + " '" + (dir / "vmcore.kdump-zlib").string() + "' > '" +
        half.string() + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  KdiveRun k = run_kdive_args("-b -c 'echo opened' " + vmlinux + "'" + half.string() + "'");
  INFO(k.err);
  const bool said = k.err.find("warning: " + half.string() + ": truncated") != std::string::npos ||
                    k.err.find("warning: " + half.string() + ": the flattened stream ends without its end marker") !=
                        std::string::npos;
  CHECK(said);
  CHECK(k.out.find("opened") != std::string::npos);

  // Garbage is not a dump.
  fs::path garbage = tmp / "garbage";
  REQUIRE(std::system(("head -c 100000 /dev/urandom > '" + garbage.string() + "'").c_str()) == 0);
  KdiveRun g = run_kdive_args("-b -c 'echo x' " + vmlinux + "'" + garbage.string() + "'");
  CHECK(g.status == 2);
  CHECK(g.err == "kdive: " + garbage.string() +
                     ": not a kernel dump (expected an ELF vmcore, kdump-compressed or flattened format)\n");
  fs::remove_all(tmp);
}

TEST_CASE("dumps without VMCOREINFO: the kernel is found from CR3 or the banner", "[readers]") {
  const fs::path dir = fixture_dir(suite());
  Truth t = Truth::load(dir / "truth.txt");
  const fs::path tmp = fs::temp_directory_path() / ("kdive-novmci-" + suite());
  fs::create_directories(tmp);
  struct Case {
    std::vector<std::string> stripped;
    std::string how;
  } cases[] = {{{"VMCOREINFO"}, "QEMU CPU state (CR3)"},
               {{"VMCOREINFO", "QEMU"}, "linux_banner found in physical memory"}};
  for (const auto& c : cases) {
    // A kexec dump has no QEMU notes (so no CR3): stripping VMCOREINFO alone
    // leaves the banner search, which the second case covers.
    if (recipe(suite()).kexec && c.how.find("QEMU") != std::string::npos) continue;
    INFO(c.how);
    fs::path dump = tmp / "vmcore.elf";
    copy_without_notes(dir / "vmcore.elf", dump, c.stripped);
    KdiveRun r =
        run_kdive_args("-b -c 'rd -a linux_banner; sys' '" + (dir / "vmlinux").string() + "' '" + dump.string() + "'");
    CHECK(r.status == 0);
    CHECK(r.err.find("no usable VMCOREINFO; kernel located from " + c.how) != std::string::npos);
    CHECK(hex(r.out.substr(0, 16)) == t.ksym.at("linux_banner"));
    CHECK(field(r.out, "RELEASE") == t.release);
    CHECK(field(r.out, "NODENAME") == "kdive");

    auto k = kdive::Kernel::open(dir / "vmlinux", {dump.string()});
    CHECK(k->layout().phys_base == t.kvar.at("phys_base"));
    CHECK(k->layout().page_offset.value() == t.kvar.at("page_offset_base"));
    CHECK(k->layout().levels == (t.la57 ? 5 : 4));
    CHECK(k->symbol_address("_text").value() == t.ksym.at("_text"));
  }
  fs::remove_all(tmp);
}

TEST_CASE("vmemmap and vmalloc addresses are walked, not taken for the direct map", "[readers]") {
  // With KASLR, vmemmap_base can sit less than 64 TiB above page_offset_base;
  // reading it as direct-map memory lands far outside RAM.
  const fs::path dir = fixture_dir(suite());
  auto k = kdive::Kernel::open(dir / "vmlinux", {(dir / "vmcore.elf").string()});
  const kdive::VirtAddr vmemmap = k->layout().vmemmap_start;
  REQUIRE(!vmemmap.is_null());
  const uint64_t page_size = k->types().require("struct page").size();
  const kdive::AddressSpace kernel_space = kdive::AddressSpace::kernel(*k);
  int read = 0;
  // RAM pages for sure: 16 MiB in, and the kernel image's (ranges may also
  // hold device memory QEMU dumps, which has no struct page).
  const uint64_t image_pfn = k->memory().to_phys(k->symbol_address("init_task")).value() / 4096;
  {
    for (uint64_t pfn : {uint64_t{0x1000}, image_pfn}) {
      kdive::VirtAddr v = vmemmap + pfn * page_size;
      INFO(std::hex << v.value());
      auto t = kernel_space.translate(v);
      REQUIRE(t.phys);
      std::vector<std::byte> through_walk(page_size), through_phys(page_size);
      k->memory().read(v, through_walk);
      CHECK(k->dump().read_phys(*t.phys, through_phys) == kdive::PageState::Present);
      CHECK(through_walk == through_phys);
      ++read;
    }
  }
  CHECK(read >= 2);
}
