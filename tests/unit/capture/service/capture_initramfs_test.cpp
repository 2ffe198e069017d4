#include "capture/service/capture_initramfs.hpp"

#include <sys/stat.h>
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "capture/service/capture_load.hpp"
#include "capture/service/cpio_writer.hpp"
#include "tests/unit/capture/service/service_test_support.hpp"

using namespace kdive::capture;
using kdive::capture::test::read_file;
using kdive::capture::test::ScratchDir;
using kdive::capture::test::write_file;
namespace fs = std::filesystem;

namespace {

std::string text_of(const std::vector<std::byte>& data) {
  return std::string(reinterpret_cast<const char*>(data.data()), data.size());
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

std::string fake_module(const std::string& tag) {
  return std::string(
             "\x7f"
             "ELF fake module ") +
         tag;
}

}  // namespace

TEST_CASE("ELF needs: the closure of a real program matches ldd's", "[capture_initramfs]") {
  std::string self = fs::read_symlink("/proc/self/exe").string();
  auto closure = runtime_closure({self}, LibrarySearch::system());
  std::set<std::string> ours;
  for (const auto& f : closure) ours.insert(fs::path(f).filename().string());

  // ldd (the loader itself, in trace mode) is the reference.
  std::unique_ptr<FILE, int (*)(FILE*)> p(popen(("ldd " + self + " 2>/dev/null").c_str(), "r"), pclose);
  REQUIRE(p);
  std::set<std::string> theirs;
  char line[4096];
  while (fgets(line, sizeof line, p.get())) {
    std::string l(line);
    size_t arrow = l.find("=> /");
    std::string path;
    if (arrow != std::string::npos) {
      path = l.substr(arrow + 3, l.find(' ', arrow + 3) - arrow - 3);
    } else if (l.find("ld-linux") != std::string::npos) {
      size_t start = l.find('/');
      path = l.substr(start, l.find(' ', start) - start);
    } else {
      continue;  // linux-vdso: in the kernel, not a file
    }
    theirs.insert(fs::path(path).filename().string());
  }
  REQUIRE(theirs.size() >= 3);
  CHECK(ours == theirs);
  auto info = read_elf_dynamic(self);
  CHECK(info.is_elf);
  CHECK(fs::path(info.interpreter).filename().string().starts_with("ld-linux"));
  CHECK(std::find(closure.begin(), closure.end(), info.interpreter) != closure.end());
}

TEST_CASE("ELF needs: scripts name their interpreter; a missing library is an error", "[capture_initramfs]") {
  ScratchDir dir;
  write_file(dir / "hook", "#!/bin/sh -e\nexit 0\n", true);
  CHECK(script_interpreter(dir / "hook") == "/bin/sh");
  CHECK_FALSE(read_elf_dynamic(dir / "hook").is_elf);
  CHECK(runtime_closure({dir / "hook"}, LibrarySearch::system()).empty());
  // A program whose libraries are nowhere: an empty search list.
  std::string self = fs::read_symlink("/proc/self/exe").string();
  try {
    LibrarySearch nowhere;
    runtime_closure({self}, nowhere);
    FAIL("no error");
  } catch (const ElfNeedsError& e) {
    CHECK(std::string(e.what()).find("found in no library directory") != std::string::npos);
  }
}

TEST_CASE("capture initramfs: /init, the programs, libraries, modules in order, the config", "[capture_initramfs]") {
  ScratchDir dir;
  // Modules as a distribution ships them: some compressed, in a tree.
  std::string tree = dir / "lib/modules/6.1.0-test";
  write_file(tree + "/kernel/drivers/virtio/virtio_ring.ko", fake_module("ring"));
  std::string plain = fake_module("blk");
  auto gz = gzip_bytes(bytes_of(plain));
  write_file(tree + "/kernel/drivers/block/virtio_blk.ko.gz", text_of(gz));
  std::string pci = fake_module("pci");
  std::string zst(ZSTD_compressBound(pci.size()), '\0');
  zst.resize(ZSTD_compress(zst.data(), zst.size(), pci.data(), pci.size(), 3));
  write_file(dir / "elsewhere/virtio_pci.ko.zst", zst);

  auto modules = resolve_modules({"virtio_ring", dir / "elsewhere/virtio_pci.ko.zst", "virtio-blk"}, "6.1.0-test",
                                 dir / "lib/modules");
  REQUIRE(modules.size() == 3);
  CHECK(modules[2].name == "virtio_blk");
  CHECK(text_of(modules[2].data) == plain);
  CHECK(text_of(modules[1].data) == pci);

  InitramfsPlan plan;
  plan.capture_program = "/bin/true";
  plan.dump_program = "/bin/false";
  plan.modules = modules;
  plan.config.device = "/dev/vdb";
  plan.config.savedir = "/";
  plan.config.hostname = "guest";
  auto image = build_capture_initramfs(plan, LibrarySearch::system());
  auto entries = read_cpio(gunzip_bytes(image));
  std::map<std::string, CpioEntry> by_name;
  for (auto& e : entries) by_name[e.name] = e;

  REQUIRE(by_name.count("init"));
  CHECK(S_ISLNK(by_name["init"].mode));
  CHECK(text_of(by_name["init"].data) == "usr/sbin/kdive-capture");
  CHECK(text_of(by_name["usr/sbin/kdive-capture"].data) == read_file("/bin/true"));
  CHECK(text_of(by_name["usr/sbin/kdive-dump"].data) == read_file("/bin/false"));
  CHECK(S_ISCHR(by_name["dev/console"].mode));
  CHECK(by_name.count("kdive-target"));
  // Every library the programs need is there, at the path it was found at.
  for (const auto& lib : runtime_closure({"/bin/true", "/bin/false"}, LibrarySearch::system())) {
    INFO(lib);
    REQUIRE(by_name.count(lib.substr(1)));
    CHECK(by_name[lib.substr(1)].data.size() == fs::file_size(lib));
  }
  // Modules decompressed, numbered in load order, and the config lists them so.
  CHECK(text_of(by_name["lib/modules/kdive/00-virtio_ring.ko"].data) == fake_module("ring"));
  CHECK(text_of(by_name["lib/modules/kdive/01-virtio_pci.ko"].data) == pci);
  CHECK(text_of(by_name["lib/modules/kdive/02-virtio_blk.ko"].data) == plain);
  CaptureConfig inside = parse_capture_config(text_of(by_name["etc/kdive/capture.conf"].data), "initramfs");
  CHECK(inside.modules == std::vector<std::string>{"/lib/modules/kdive/00-virtio_ring.ko",
                                                   "/lib/modules/kdive/01-virtio_pci.ko",
                                                   "/lib/modules/kdive/02-virtio_blk.ko"});
  CHECK(inside.device == "/dev/vdb");
  CHECK(inside.hostname == "guest");

  SECTION("uncompressed when asked") {
    plan.gzip = false;
    CHECK(read_cpio(build_capture_initramfs(plan, LibrarySearch::system())).size() == entries.size());
  }
}

TEST_CASE("capture initramfs: bad modules are errors naming them", "[capture_initramfs]") {
  ScratchDir dir;
  write_file(dir / "lib/modules/r/kernel/not_elf.ko", "text");
  write_file(dir / "lib/modules/r/kernel/broken.ko.xz", "not xz at all");
  auto error_of = [&](const std::string& name) {
    try {
      resolve_modules({name}, "r", dir / "lib/modules");
    } catch (const InitramfsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("missing_mod").find("module missing_mod not found under") != std::string::npos);
  CHECK(error_of("not_elf").find("not an ELF kernel module") != std::string::npos);
  CHECK(error_of("broken").find("not a valid xz stream") != std::string::npos);
  CHECK(error_of(dir / "README").find("not a kernel module file name") != std::string::npos);
}

TEST_CASE("save location: the device and path inside it, from the mounts", "[capture_initramfs]") {
  const std::string mounts =
      "/dev/vda1 / ext4 rw,relatime 0 0\n"
      "proc /proc proc rw 0 0\n"
      "tmpfs /run tmpfs rw 0 0\n"
      "/dev/vdb /var/crash ext4 rw 0 0\n"
      "/dev/vdc /srv/my\\040dumps xfs rw 0 0\n";
  auto at = [&](const std::string& dir) { return locate_directory(dir, mounts); };
  CHECK(at("/var/crash").device == "/dev/vdb");
  CHECK(at("/var/crash").relative == "/");
  CHECK(at("/var/crash/x").relative == "/x");
  CHECK(at("/var/crashes").device == "/dev/vda1");  // a prefix of the name is not a parent
  CHECK(at("/var/crashes").relative == "/var/crashes");
  CHECK(at("/srv/my dumps/a").fstype == "xfs");
  CHECK(at("/srv/my dumps/a").relative == "/a");
  CHECK(at("/run/crash").device.empty());

  CaptureConfig c;
  c.savedir = "/var/crash";
  CaptureConfig inside = capture_kernel_config(c, mounts, "web1");
  CHECK(inside.device == "/dev/vdb");
  CHECK(inside.fstype == "ext4");
  CHECK(inside.savedir == "/");
  CHECK(inside.hostname == "web1");
  c.savedir = "/run/crash";
  CHECK_THROWS_AS(capture_kernel_config(c, mounts, "web1"), ConfigError);
  c.target = "pipe:ssh vault cat";
  CHECK(capture_kernel_config(c, mounts, "web1").device.empty());
}
