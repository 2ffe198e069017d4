// Symbols and modules on real crashed kernels: sym and mod against the guest's
// /proc/kallsyms and /proc/modules, the kernel's own kallsyms table decoded
// from the dump against the vmlinux, and module object files loaded from the
// kernel package. (sym and mod next to the crash utility: crash_oracle_test.)
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <span>
#include <sstream>

#include "kernel-model/kernel.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
namespace fs = std::filesystem;

namespace {

const TruthModule& fw_cfg(const Truth& t) {
  for (const auto& m : t.modules) {
    if (m.name == "qemu_fw_cfg") return m;
  }
  FAIL("the guest did not load qemu_fw_cfg");
  throw;
}

// The unpacked kernel package's copy of the module (decompressed by the
// fixture builder).
fs::path fw_cfg_object(const Truth& t) {
  fs::path ko = fixture_dir(suite()).parent_path() / "kernels" / t.kernel_package / "modules" / "qemu_fw_cfg.ko";
  REQUIRE(fs::exists(ko));
  return ko;
}

// "ffffffffc03d81c0 (t) fw_cfg_read_blob [qemu_fw_cfg]" -> address
uint64_t address_in(const std::string& line) { return std::stoull(line.substr(0, line.find(' ')), nullptr, 16); }

fs::path scratch_dir(const std::string& name) {
  fs::path dir = fs::temp_directory_path() / fmt::format("kdive-symbols-{}-{}-{}", ::getpid(), suite(), name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("sym translates symbols and addresses like /proc/kallsyms", "[symbols]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  uint64_t banner = t.ksym.at("linux_banner");
  KdiveRun r = run_kdive(suite(), "elf",
                         fmt::format("sym linux_banner; sym {:x}; sym init_task _stext; sym -n linux_banner; "
                                     "sym -p linux_banner",
                                     banner + 0x10));
  REQUIRE(r.status == 0);
  auto lines = trimmed_lines(r.out);
  REQUIRE(lines.size() == 8);
  CHECK(std::regex_match(lines[0], std::regex(fmt::format("{:x} \\([DR]\\) linux_banner", banner))));
  CHECK(std::regex_match(lines[1], std::regex(fmt::format("{:x} \\([DR]\\) linux_banner\\+16", banner + 0x10))));
  CHECK(address_in(lines[2]) == t.ksym.at("init_task"));
  CHECK(address_in(lines[3]) == t.ksym.at("_stext"));
  // -n: the target, then a symbol above it; -p: one below it, then the target.
  CHECK(lines[4] == lines[0]);
  CHECK(address_in(lines[5]) > banner);
  CHECK(address_in(lines[6]) < banner);
  CHECK(lines[7] == lines[0]);

  // Text symbols carry their source file and line, as in crash.
  KdiveRun text = run_kdive(suite(), "elf", "sym schedule");
  CHECK(std::regex_match(trimmed_lines(text.out).at(0),
                         std::regex(R"([0-9a-f]{16} \(T\) schedule \S*kernel/sched/core\.c: \d+)")));
}

TEST_CASE("sym rejects what is not a symbol or an address in one line", "[symbols]") {
  KdiveRun r = run_kdive(suite(), "elf", "sym no_such_symbol_xyz; sym 0; sym -m no_such_module; sym jiffies");
  CHECK(r.err.find("sym: symbol not found: no_such_symbol_xyz\n") != std::string::npos);
  CHECK(r.err.find("sym: invalid address: 0\n") != std::string::npos);
  CHECK(r.err.find("sym: module not found: no_such_module\n") != std::string::npos);
  CHECK(r.out.find(") jiffies\n") != std::string::npos);  // the shell went on
}

TEST_CASE("mod lists the guest's modules where /proc/modules put them", "[symbols]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const TruthModule& fw = fw_cfg(t);
  KdiveRun r = run_kdive(suite(), "elf", "mod; sym -m qemu_fw_cfg; sym -q fw_cfg_read_blob");
  REQUIRE(r.status == 0);
  auto lines = trimmed_lines(r.out);
  REQUIRE(lines.size() > 4);
  // The NAME column is as wide as the longest name (virtio_pci_modern_dev
  // on the fixtures with a swap disk); "BASE" is centred over its column.
  CHECK(std::regex_match(lines[0], std::regex(R"( +MODULE +NAME +BASE +SIZE  OBJECT FILE)")));
  const size_t base_title = lines[0].find("BASE");
  uint64_t previous_base = 0;
  std::regex row(R"(([0-9a-f]{16})  (\S+) +([0-9a-f]{16}) +(\d+)  (.*))");
  std::map<std::string, std::smatch> rows;
  size_t i = 1;
  for (; i < lines.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(lines[i], m, row)) break;
    CHECK(static_cast<size_t>(m.position(3)) + 6 == base_title);
    // In address order, as crash lists them.
    CHECK(std::stoull(m[3], nullptr, 16) > previous_base);
    previous_base = std::stoull(m[3], nullptr, 16);
    rows[m[2]] = m;
  }
  CHECK(rows.size() == t.modules.size());
  REQUIRE(rows.count("qemu_fw_cfg"));
  const auto& m = rows["qemu_fw_cfg"];
  CHECK(std::stoull(m[3], nullptr, 16) == fw.address);
  CHECK(std::stoull(m[4]) == fw.size);
  CHECK(m[5] == "(not loaded)  [CONFIG_KALLSYMS]");
  // Modules live in the module area, above the 1 GiB kernel image mapping.
  CHECK(fw.address >= 0xffffffffc0000000ull);

  // sym -m: the kernel's own symbols of the module, inside its memory.
  CHECK(lines[i] == fmt::format("{:x} MODULE START: qemu_fw_cfg", fw.address));
  uint64_t blob = 0;
  for (; i < lines.size() && lines[i].find("MODULE END") == std::string::npos; ++i) {
    if (lines[i].size() > 4 && lines[i].substr(lines[i].size() - 17) == " fw_cfg_read_blob")
      blob = address_in(lines[i]);
  }
  REQUIRE(blob != 0);
  CHECK(blob >= fw.address);
  CHECK(blob < fw.address + fw.size);
  // sym -q: every symbol containing the text (6.x adds __pfx_ padding symbols).
  std::vector<std::string> found(lines.begin() + static_cast<long>(i) + 1, lines.end());
  CHECK(std::count(found.begin(), found.end(), fmt::format("{:x} (t) fw_cfg_read_blob [qemu_fw_cfg]", blob)) == 1);
}

TEST_CASE("mod -s loads the module's object file; its symbols resolve addresses", "[symbols]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const TruthModule& fw = fw_cfg(t);
  fs::path ko = fw_cfg_object(t);
  KdiveRun before = run_kdive(suite(), "elf", "sym fw_cfg_read_blob");
  REQUIRE(before.status == 0);
  uint64_t blob = address_in(before.out);

  KdiveRun r =
      run_kdive(suite(), "elf",
                fmt::format("mod -s qemu_fw_cfg {}; sym fw_cfg_read_blob; sym {:x}; mod; mod -d qemu_fw_cfg; mod",
                            ko.string(), blob + 5));
  REQUIRE(r.status == 0);
  auto lines = trimmed_lines(r.out);
  // Other modules (the test module of bookworm-modoops) have a row in each of
  // the two plain `mod` listings; the checks below are about qemu_fw_cfg.
  const auto others = std::erase_if(lines, [&](const std::string& line) {
    return std::any_of(t.modules.begin(), t.modules.end(), [&](const TruthModule& m) {
      return m.name != "qemu_fw_cfg" && line.find("  " + m.name + "  ") != std::string::npos;
    });
  });
  CHECK(others == 2 * (t.modules.size() - 1));
  REQUIRE(lines.size() == 8);
  CHECK(lines[1] == fmt::format("{:016x}  qemu_fw_cfg  {:016x}  {:>5}  {}", address_in(lines[1]), fw.address, fw.size,
                                ko.string()));
  CHECK(lines[2] == fmt::format("{:x} (t) fw_cfg_read_blob [qemu_fw_cfg]", blob));
  CHECK(lines[3] == fmt::format("{:x} (t) fw_cfg_read_blob+5 [qemu_fw_cfg]", blob + 5));
  // The listing's row is the one mod -s printed, in the listing's widths.
  auto words = [](const std::string& line) { return std::regex_replace(line, std::regex(" +"), " "); };
  CHECK(words(lines[5]) == words(lines[1]));
  CHECK(lines[7].substr(lines[7].size() - 31) == "(not loaded)  [CONFIG_KALLSYMS]");
}

TEST_CASE("mod -s with the -dbg object brings the module's types: its fw_cfg entries walk", "[symbols]") {
  // The -dbg package's qemu_fw_cfg.ko (extracted by the fixture builder) has
  // DWARF whose every name is a relocation. With it loaded, the module's own
  // list of fw_cfg files is walked through its own struct. QEMU's fixtures run
  // with -device vmcoreinfo, so "etc/vmcoreinfo" is among the files, and QEMU
  // makes that file 16 bytes (two u16 formats, a u32 size, a u64 address).
  // The kexec recipe's guest has no such device (its capture kernel reads
  // VMCOREINFO from the kernel's own note): the file is not there.
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  fs::path ko = fixture_dir(suite()).parent_path() / "kernels" / t.kernel_package / "debug-modules" / "qemu_fw_cfg.ko";
  REQUIRE(fs::exists(ko));
  KdiveRun before = run_kdive(suite(), "elf", "struct fw_cfg_sysfs_entry");
  CHECK(before.err.find("fw_cfg_sysfs_entry") != std::string::npos);

  KdiveRun r = run_kdive(suite(), "elf",
                         fmt::format("mod -s qemu_fw_cfg {}; list -H fw_cfg_entry_cache -o fw_cfg_sysfs_entry.list "
                                     "-s fw_cfg_sysfs_entry.name,size",
                                     ko.string()));
  REQUIRE(r.status == 0);
  std::map<std::string, uint64_t> files;
  std::regex name_re(R"re(^\s+name = "([^"]*)",?$)re"), size_re(R"re(^\s+size = (\d+),?$)re");
  std::string name;
  for (const auto& l : lines_of(r.out)) {
    std::smatch m;
    // The char array as crash prints it: the name, then its NULs as \000.
    if (std::regex_match(l, m, name_re)) name = m[1].str().substr(0, m[1].str().find("\\000"));
    if (std::regex_match(l, m, size_re) && !name.empty()) files[name] = std::stoull(m[1]);
  }
  INFO(r.out);
  CHECK(files.size() >= 3);
  if (recipe(suite()).kexec) {
    CHECK(files.count("etc/vmcoreinfo") == 0);
  } else {
    REQUIRE(files.count("etc/vmcoreinfo") == 1);
    CHECK(files["etc/vmcoreinfo"] == 16);
  }
  for (const auto& [n, size] : files) {
    CAPTURE(n);
    CHECK(std::all_of(n.begin(), n.end(), [](char c) { return std::isprint(static_cast<unsigned char>(c)); }));
  }

  // p reads a module variable with the module's type; mod -d forgets the types.
  KdiveRun p = run_kdive(suite(), "elf",
                         fmt::format("mod -s qemu_fw_cfg {}; p fw_cfg_entry_cache; mod -d qemu_fw_cfg; "
                                     "struct fw_cfg_sysfs_entry",
                                     ko.string()));
  CHECK(p.out.find("fw_cfg_entry_cache = $1 = {") != std::string::npos);
  CHECK(std::regex_search(p.out, std::regex("next = 0xff[0-9a-f]{14},")));  // a kernel address (4- or 5-level)
  CHECK(p.err.find("fw_cfg_sysfs_entry") != std::string::npos);
}

TEST_CASE("the dump's VMCOREINFO is the kernel's own note", "[symbols]") {
  // Both recipes take VMCOREINFO from the kernel's ELF note in its memory
  // (vmcoreinfo_note): QEMU through the address the fw_cfg device was given,
  // the capture kernel through the one /sys/kernel/vmcoreinfo showed. Either
  // way the dump's note is that note's text. Only the kexec path ran
  // crash_save_vmcoreinfo(), which adds the crash time.
  const fs::path dir = fixture_dir(suite());
  auto k = kdive::Kernel::open(dir / "vmlinux", {(dir / "vmcore.elf").string()});
  const std::string& note = k->dump().notes().vmcoreinfo;
  REQUIRE_FALSE(note.empty());
  const kdive::VirtAddr buffer = k->memory().read_pointer(k->symbol_address("vmcoreinfo_note"));
  // Elf64_Nhdr {namesz, descsz, type}, "VMCOREINFO" padded to 12, the text.
  const uint32_t namesz = k->memory().read<uint32_t>(buffer), descsz = k->memory().read<uint32_t>(buffer + 4);
  REQUIRE(namesz == 11);
  REQUIRE(descsz > 0);
  REQUIRE(descsz <= 4096);  // VMCOREINFO_BYTES: a page
  std::string text(descsz, '\0');
  k->memory().read(buffer + 12 + 12, std::as_writable_bytes(std::span(text.data(), text.size())));
  CHECK(note == text);
  CHECK((note.find("\nCRASHTIME=") != std::string::npos) == recipe(suite()).kexec);
}

TEST_CASE("mod reads compressed object files and finds them with -S", "[symbols]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  fs::path ko = fw_cfg_object(t);
  for (std::string tool : {"xz", "zstd"}) {
    INFO(tool);
    fs::path dir = scratch_dir(tool);
    fs::create_directories(dir / "kernel" / "drivers" / "firmware");
    fs::path copy = dir / "kernel" / "drivers" / "firmware" / "qemu_fw_cfg.ko";
    fs::copy_file(ko, copy);
    REQUIRE(std::system(fmt::format("{} -q {}", tool, copy.string()).c_str()) == 0);
    fs::path packed = copy.string() + (tool == "xz" ? ".xz" : ".zst");
    REQUIRE(fs::exists(packed));
    KdiveRun r = run_kdive(
        suite(), "elf",
        fmt::format("mod -s qemu_fw_cfg {}; mod -D; mod -S {}; sym -m qemu_fw_cfg", packed.string(), dir.string()));
    CHECK(r.err.empty());
    CHECK(r.out.find("qemu_fw_cfg  ") != std::string::npos);
    CHECK(r.out.find(packed.string() + "\n") != std::string::npos);
    // The object file knows the exact type of each symbol, e.g. the global cleanup_module.
    CHECK(r.out.find("(T) cleanup_module\n") != std::string::npos);
    fs::remove_all(dir);
  }
}

TEST_CASE("mod refuses an object file of another build", "[symbols]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  fs::path kernels = fixture_dir(suite()).parent_path() / "kernels";
  std::optional<fs::path> other;
  for (const auto& d : fs::directory_iterator(kernels)) {
    fs::path ko = d.path() / "modules" / "qemu_fw_cfg.ko";
    if (d.path().filename() != t.kernel_package && fs::exists(ko)) other = ko;
  }
  if (!other) KDIVE_SKIP("no other kernel package is unpacked in the fixtures' kernels/");
  KdiveRun r = run_kdive(suite(), "elf", fmt::format("mod -s qemu_fw_cfg {}; mod", other->string()));
  CHECK(r.err.find("is not the loaded module qemu_fw_cfg") != std::string::npos);
  CHECK(r.out.find("(not loaded)") != std::string::npos);
}

TEST_CASE("kallsyms decoded from the dump agrees with the vmlinux and the guest", "[symbols]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  fs::path dir = fixture_dir(suite());
  auto k = kdive::Kernel::open(dir / "vmlinux", {(dir / "vmcore.elf").string()});
  const kdive::Kallsyms& ks = k->kallsyms();
  const auto& all = ks.symbols().all();
  REQUIRE(all.size() > 10000);

  // The guest's /proc/kallsyms, exactly.
  for (const auto& [name, address] : t.ksym) {
    INFO(name);
    const kdive::Symbol* s = ks.symbols().find(name);
    REQUIRE(s != nullptr);
    CHECK(s->address.value() == address);
  }

  // Every function the kernel knows is a vmlinux symbol of that name at that
  // (relocated) address; and the vmlinux's global functions are all there.
  std::multimap<std::string_view, kdive::VirtAddr> vmlinux;
  for (const auto& s : k->symbols().all()) vmlinux.emplace(s.name, s.address);
  size_t functions = 0, agree = 0;
  for (const auto& s : all) {
    if (s.type != 't' && s.type != 'T') continue;
    ++functions;
    auto [lo, hi] = vmlinux.equal_range(s.name);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == s.address) {
        ++agree;
        break;
      }
    }
  }
  INFO(fmt::format("{} of {} kallsyms functions agree (table from {})", agree, functions, ks.source));
  CHECK(functions > 10000);
  CHECK(agree == functions);
  size_t globals = 0, found = 0;
  for (const auto& s : k->symbols().all()) {
    if (s.type != 'T') continue;
    ++globals;
    const kdive::Symbol* hit = ks.symbols().find(s.name);
    if (hit != nullptr && hit->address == s.address) ++found;
  }
  CHECK(found * 100 >= globals * 99);
}
