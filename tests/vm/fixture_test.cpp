// Checks a real-kernel fixture itself: the guest's ground truth is complete and
// plausible, the dumps QEMU (or, for the kexec recipe, the guest's capture
// kernel) wrote are what they claim to be, and the ELF dump's
// VMCOREINFO names the kernel the guest said it ran. The suite comes from the
// KDIVE_SUITE environment variable (set by CTest, one test per suite).
#include <elf.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "truth.hpp"
#include "vm_test.hpp"

namespace fs = std::filesystem;
using kdive::test::suite;
using kdive::test::Truth;

namespace {

std::string read_bytes(const fs::path& p, std::streamoff offset, size_t n) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  in.seekg(offset);
  std::string buf(n, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(n));
  buf.resize(static_cast<size_t>(in.gcount()));
  return buf;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Streams the file in chunks (vmlinux is hundreds of MB) looking for `needle`.
bool file_contains(const fs::path& p, const std::string& needle) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in.good());
  std::string window;
  std::string chunk(1 << 20, '\0');
  while (in.read(chunk.data(), static_cast<std::streamsize>(chunk.size())) || in.gcount() > 0) {
    window.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (window.find(needle) != std::string::npos) return true;
    window.erase(0, window.size() > needle.size() ? window.size() - needle.size() : 0);
  }
  return false;
}

// The text of the PT_NOTE segments of an ELF core file.
std::string elf_notes(const fs::path& core) {
  std::string header = read_bytes(core, 0, sizeof(Elf64_Ehdr));
  REQUIRE(header.size() == sizeof(Elf64_Ehdr));
  Elf64_Ehdr eh;
  std::memcpy(&eh, header.data(), sizeof eh);
  REQUIRE(eh.e_phentsize == sizeof(Elf64_Phdr));
  std::string notes;
  for (int i = 0; i < eh.e_phnum; ++i) {
    std::string raw =
        read_bytes(core, static_cast<std::streamoff>(eh.e_phoff + i * sizeof(Elf64_Phdr)), sizeof(Elf64_Phdr));
    REQUIRE(raw.size() == sizeof(Elf64_Phdr));
    Elf64_Phdr ph;
    std::memcpy(&ph, raw.data(), sizeof ph);
    if (ph.p_type == PT_NOTE) notes += read_bytes(core, static_cast<std::streamoff>(ph.p_offset), ph.p_filesz);
  }
  return notes;
}

uint16_t elf_type(const fs::path& p) {
  std::string h = read_bytes(p, 0, sizeof(Elf64_Ehdr));
  REQUIRE(h.size() == sizeof(Elf64_Ehdr));
  REQUIRE(h.compare(0, 4,
                    "\x7f"
                    "ELF") == 0);
  Elf64_Ehdr eh;
  std::memcpy(&eh, h.data(), sizeof eh);
  return eh.e_type;
}

}  // namespace

TEST_CASE("fixture truth is complete", "[fixture]") {
  const fs::path dir = kdive::test::fixture_dir(kdive::test::suite());
  Truth t = Truth::load(dir / "truth.txt");
  CHECK(t.suite == suite());
  CHECK(t.warnings.empty());
  REQUIRE_FALSE(t.release.empty());
  CHECK(t.version.rfind("Linux version " + t.release + " ", 0) == 0);
  CHECK(t.uname.find(t.release) != std::string::npos);
  CHECK(t.cpus == 2);
  CHECK(t.meminfo.count("MemTotal") == 1);
  CHECK(t.meminfo["MemTotal"] > 300 * 1024);
  // The guest's memory less the capture kernel's reservation (crashkernel=,
  // only in the kexec recipe), which the first kernel never manages.
  const kdive::test::Recipe recipe = kdive::test::recipe(suite());
  const uint64_t reserved_kib = kdive::test::crashkernel_kib(t.cmdline);
  CHECK((reserved_kib > 0) == recipe.kexec);
  CHECK(t.meminfo["MemTotal"] < recipe.guest_mib * 1024 - reserved_kib);

  // init and the kernel threads' parent are always there.
  REQUIRE(t.task(1));
  REQUIRE(t.task(2));
  CHECK(t.task(2)->comm == "kthreadd");

  auto threaded = t.role("threaded");
  CHECK(t.threads.at(threaded) == 4);
  int workers = 0;
  for (const auto& task : t.tasks) {
    if (task.tgid == threaded && task.comm.rfind("kd-worker-", 0) == 0) ++workers;
  }
  CHECK(workers == 3);
  CHECK(t.task(t.role("sleeper"))->comm == "kd-sleeper");
  CHECK(t.task(t.role("busy"))->comm == "kd-busy");

  auto files = t.role("files");
  auto has_fd = [&](const std::string& needle) {
    return std::any_of(t.fds.begin(), t.fds.end(),
                       [&](const auto& f) { return f.pid == files && f.target.find(needle) != std::string::npos; });
  };
  CHECK(has_fd("/tmp/kdive/known.txt"));
  CHECK(has_fd("pipe:["));
  CHECK(has_fd("/tmp/kdive/deleted.txt (deleted)"));
  CHECK(has_fd("socket:["));

  auto mmap_pid = t.role("mmap");
  auto [from, to] = t.maps.equal_range(mmap_pid);
  bool fixed_mapping = std::any_of(from, to, [](const auto& m) {
    return m.second.rfind("7f0000000000-", 0) == 0 && m.second.find("/tmp/kdive/mapped.bin") != std::string::npos;
  });
  CHECK(fixed_mapping);

  if (suite() == "bookworm-oom") {
    CHECK(t.role("oom") > 0);
    CHECK(t.sysctl.at("panic_on_oom") == "1");
  } else if (suite() == "bookworm-irq") {
    CHECK(t.panic_idle_cpu == 0);  // the CPU the keyboard interrupt was routed to
  } else {
    CHECK(t.role("panic") > 0);
  }
}

TEST_CASE("fixture dumps are real dumps of the truth's kernel", "[fixture]") {
  const fs::path dir = kdive::test::fixture_dir(kdive::test::suite());
  Truth t = Truth::load(dir / "truth.txt");

  CHECK(elf_type(dir / "vmlinux") == ET_EXEC);
  CHECK(elf_type(dir / "vmcore.elf") == ET_CORE);
  const kdive::test::Recipe recipe = kdive::test::recipe(suite());
  if (recipe.kexec) {
    // kdive-dump in the capture kernel writes a kdump-compressed file.
    CHECK(read_bytes(dir / "vmcore.kdump-zlib", 0, 8) == "KDUMP   ");
  } else {
    // QEMU writes kdump formats in makedumpfile's flattened format.
    CHECK(read_bytes(dir / "vmcore.kdump-zlib", 0, 16) == std::string("makedumpfile\0\0\0\0", 16));
  }

  std::string notes = elf_notes(dir / "vmcore.elf");
  CHECK(notes.find("VMCOREINFO") != std::string::npos);
  // CPU state: QEMU adds its own "QEMU" notes; a kexec dump has the kernel's
  // NT_PRSTATUS notes (name "CORE") alone.
  CHECK(notes.find(std::string("CORE\0", 5)) != std::string::npos);
  CHECK((notes.find(std::string("QEMU\0", 5)) != std::string::npos) == !recipe.kexec);
  CHECK(notes.find("OSRELEASE=" + t.release + "\n") != std::string::npos);
  // The vmlinux is the one that was booted: its banner is the guest's /proc/version.
  // (Searching 100+ MB of ELF for it is a fixture sanity check, not a product path.)
  CHECK(file_contains(dir / "vmlinux", t.version));

  std::string console = read_text(dir / "console.log");
  CHECK(console.find("Kernel panic - not syncing") != std::string::npos);
  if (suite() == "bookworm-oom") {
    CHECK(console.find("panic_on_oom") != std::string::npos);
  } else if (suite() == "bookworm-modoops") {
    CHECK(console.find("Kernel panic - not syncing: Fatal exception") != std::string::npos);
  } else {
    CHECK(console.find("sysrq triggered crash") != std::string::npos);
  }
  if (recipe.kexec) {
    // The capture kernel, not QEMU, saved the dump.
    CHECK(read_text(dir / "capture-console.log").find("kdive-capture: saved ") != std::string::npos);
  }
}
