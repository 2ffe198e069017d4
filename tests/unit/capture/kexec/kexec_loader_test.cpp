// kdive-kexec's loads, unloads and -e against a fake tree and injected errno
// values: every error path says its own cause.
#include "capture/kexec/kexec_loader.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <sstream>

#include "capture/kexec/kexec_error.hpp"
#include "tests/unit/capture/kexec/fake_system.hpp"

using namespace kdive::capture;
using namespace kdive::test;

namespace {

struct Setup {
  FakeTree tree;
  FakeKexecSystem system;
  std::string kernel;
  std::string initrd;

  Setup() {
    kernel = tree.write("/boot/vmlinuz", fake_bzimage(50u << 20));
    initrd = tree.write("/boot/capture.img", std::string(3 << 20, 'x'));
    tree.write_state({.crash_size = "67108864\n",
                      .cmdline = "BOOT_IMAGE=/boot/vmlinuz root=/dev/vda crashkernel=64M console=ttyS0\n"});
  }
  LoadRequest crash() const {
    LoadRequest r;
    r.target = KexecTarget::Crash;
    r.kernel = kernel;
    r.initrd = initrd;
    return r;
  }
  std::string error_of(const LoadRequest& request) {
    KexecLoader loader(tree.root(), system);
    try {
      loader.load(request);
    } catch (const KexecError& e) {
      return e.what();
    }
    return "loaded";
  }
};

}  // namespace

TEST_CASE("kdive-kexec -p passes the kernel, the initrd, the derived line and ON_CRASH to kexec_file_load", "[kexec]") {
  Setup s;
  KexecLoader loader(s.tree.root(), s.system);
  const auto line = loader.load(s.crash());
  CHECK(line == "root=/dev/vda console=ttyS0 irqpoll nr_cpus=1 reset_devices");
  REQUIRE(s.system.loads.size() == 1);
  CHECK(s.system.loads[0].flags == kKexecFileOnCrash);
  CHECK(s.system.loads[0].kernel_fd_valid);
  CHECK(s.system.loads[0].initrd_fd_valid);
  CHECK(s.system.loads[0].cmdline == line);
}

TEST_CASE("kdive-kexec -l without an initrd says NO_INITRAMFS; --append and --command-line shape the line", "[kexec]") {
  Setup s;
  KexecLoader loader(s.tree.root(), s.system);
  LoadRequest request;
  request.kernel = s.kernel;
  request.append = {"kdive-marker=42"};
  CHECK(loader.load(request) == "root=/dev/vda crashkernel=64M console=ttyS0 kdive-marker=42");
  REQUIRE(s.system.loads.size() == 1);
  CHECK(s.system.loads[0].flags == kKexecFileNoInitramfs);
  CHECK_FALSE(s.system.loads[0].initrd_fd_valid);

  request.command_line = "console=ttyS0";
  request.target = KexecTarget::Crash;
  CHECK(loader.load(request) == "console=ttyS0 kdive-marker=42");
  CHECK(s.system.loads[1].flags == (kKexecFileOnCrash | kKexecFileNoInitramfs));
}

TEST_CASE("kdive-kexec -p with no reservation fails before the call, naming kexec_crash_size", "[kexec]") {
  Setup s;
  s.tree.write("/sys/kernel/kexec_crash_size", "0\n");
  const auto error = s.error_of(s.crash());
  CHECK_THAT(error, Catch::Contains("no memory is reserved for a crash kernel (/sys/kernel/kexec_crash_size is 0)"));
  CHECK_THAT(error, Catch::Contains("crashkernel="));
  CHECK(s.system.loads.empty());
}

TEST_CASE("kdive-kexec -p refused for room with a reservation says the image is too large for it", "[kexec]") {
  for (int errno_value : {EADDRNOTAVAIL, ENOMEM}) {
    Setup s;
    s.system.load_error = errno_value;
    const auto error = s.error_of(s.crash());
    CHECK_THAT(error, Catch::Contains("does not fit the crashkernel= reservation of 64 MiB"));
    CHECK_THAT(error, Catch::Contains("the kernel needs 50 MiB to start"));
    CHECK_THAT(error, Catch::Contains("the initrd 3 MiB"));
    CHECK_THAT(error, Catch::Contains(strerrorname_np(errno_value)));
  }
}

TEST_CASE("kdive-kexec -p refused for room when kexec_crash_size cannot be read names both causes", "[kexec]") {
  Setup s;
  std::filesystem::remove(s.tree.path("/sys/kernel/kexec_crash_size"));
  s.system.load_error = EADDRNOTAVAIL;
  const auto error = s.error_of(s.crash());
  CHECK_THAT(error, Catch::Contains("nothing is reserved (crashkernel=) or the reservation is too small"));
  CHECK_THAT(error, Catch::Contains("/sys/kernel/kexec_crash_size, which would tell, cannot be read"));
  CHECK(s.system.loads.size() == 1);
}

TEST_CASE("EPERM is explained: not root, kexec disabled, lockdown, or something else", "[kexec]") {
  Setup s;
  s.system.load_error = EPERM;
  s.system.root = false;
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("permission denied (EPERM): loading a kernel needs CAP_SYS_BOOT"));
  s.system.root = true;
  s.tree.write("/proc/sys/kernel/kexec_load_disabled", "1\n");
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("kexec is disabled until the next reboot"));
  s.tree.write("/proc/sys/kernel/kexec_load_disabled", "0\n");
  s.tree.write("/sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("locked down (/sys/kernel/security/lockdown: integrity)"));
  s.tree.write("/sys/kernel/security/lockdown", "[none] integrity confidentiality\n");
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("security module"));
}

TEST_CASE("other errno values of kexec_file_load each get their line", "[kexec]") {
  Setup s;
  s.system.load_error = ENOEXEC;
  CHECK_THAT(s.error_of(s.crash()),
             Catch::Contains("the running kernel refused the image (Exec format error, ENOEXEC)"));
  s.system.load_error = EKEYREJECTED;
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("rejected the image's signature"));
  s.system.load_error = ENOSYS;
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("no kexec_file_load"));
  s.system.load_error = EBUSY;
  CHECK_THAT(s.error_of(s.crash()), Catch::Contains("in progress (EBUSY)"));
  s.system.load_error = ENOMEM;
  LoadRequest fast = s.crash();
  fast.target = KexecTarget::Reboot;
  CHECK_THAT(s.error_of(fast), Catch::Contains("-l " + s.kernel + ": not enough memory"));
  s.system.load_error = EINVAL;
  CHECK_THAT(s.error_of(fast), Catch::Contains("kexec_file_load failed: Invalid argument, EINVAL"));
}

TEST_CASE("files: a missing kernel or initrd, a kernel that is not a bzImage, a directory", "[kexec]") {
  Setup s;
  auto request = s.crash();
  request.initrd = s.tree.path("/boot/missing.img");
  CHECK(s.error_of(request) == "--initrd " + *request.initrd + ": cannot open: No such file or directory");
  request = s.crash();
  request.kernel = s.tree.path("/boot/vmlinuz-missing");
  CHECK(s.error_of(request) == "-p " + request.kernel + ": cannot open: No such file or directory");
  request.kernel = s.tree.write("/boot/vmlinux", std::string(4096, '\x7f'));
  CHECK_THAT(s.error_of(request), Catch::StartsWith("-p " + request.kernel + ": not a bzImage: no \"HdrS\""));
  request.kernel = s.tree.path("/boot");
  CHECK(s.error_of(request) == "-p " + request.kernel + ": is a directory, not a file");
  request = s.crash();
  request.initrd = s.tree.path("/boot");
  CHECK(s.error_of(request) == "--initrd " + *request.initrd + ": not a regular file");
  CHECK(s.system.loads.empty());
}

TEST_CASE("a command line longer than the kernel takes is refused before the call", "[kexec]") {
  Setup s;
  auto request = s.crash();
  request.command_line = std::string(2030, 'a');  // + 30 for elfcorehdr= > 2047
  CHECK_THAT(s.error_of(request), Catch::Contains("the command line is 2030 bytes (+30 for the elfcorehdr="));
  request.target = KexecTarget::Reboot;  // -l adds nothing: 2030 fits
  CHECK(s.error_of(request) == "loaded");
}

TEST_CASE("/proc/cmdline unreadable: the line must be given", "[kexec]") {
  FakeTree tree;
  FakeKexecSystem system;
  LoadRequest request;
  request.kernel = tree.write("/boot/vmlinuz", fake_bzimage());
  KexecLoader loader(tree.root(), system);
  CHECK_THROWS_WITH(loader.load(request),
                    Catch::Contains("cannot read /proc/cmdline") && Catch::Contains("--command-line"));
  request.command_line = "console=ttyS0";
  CHECK(loader.load(request) == "console=ttyS0");
}

TEST_CASE("kdive-kexec -u and -p -u pass UNLOAD, with ON_CRASH for the crash kernel", "[kexec]") {
  Setup s;
  KexecLoader loader(s.tree.root(), s.system);
  loader.unload(KexecTarget::Reboot);
  loader.unload(KexecTarget::Crash);
  REQUIRE(s.system.loads.size() == 2);
  CHECK(s.system.loads[0].flags == kKexecFileUnload);
  CHECK(s.system.loads[1].flags == (kKexecFileUnload | kKexecFileOnCrash));
  CHECK_FALSE(s.system.loads[1].kernel_fd_valid);
  s.system.load_error = EPERM;
  s.system.root = false;
  CHECK_THROWS_WITH(loader.unload(KexecTarget::Crash), Catch::StartsWith("-p -u: permission denied"));
}

TEST_CASE("/proc/mounts and /proc/filesystems", "[kexec]") {
  const auto mounts = parse_mounts(
      "/dev/vda1 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n"
      "/dev/vdb /mnt/my\\040disk ext2 ro,noatime 0 0\n");
  REQUIRE(mounts.size() == 3);
  CHECK(mounts[0].read_write);
  CHECK(mounts[2].mount_point == "/mnt/my disk");
  CHECK_FALSE(mounts[2].read_write);
  CHECK(nodev_filesystems("nodev\tsysfs\nnodev\tproc\n\text4\nnodev\ttmpfs\n") ==
        std::vector<std::string>{"sysfs", "proc", "tmpfs"});
}

TEST_CASE("kdive-kexec -e syncs, remounts writable disk filesystems read-only deepest first, and reboots", "[kexec]") {
  Setup s;
  s.tree.write("/sys/kernel/kexec_loaded", "1\n");
  s.tree.write("/proc/filesystems", "nodev\tproc\nnodev\ttmpfs\n\text4\n\tvfat\n");
  s.tree.write(
      "/proc/mounts",
      "rootfs / rootfs rw 0 0\n/dev/vda1 / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\ntmpfs /run tmpfs rw 0 0\n"
      "/dev/vda15 /boot/efi vfat rw 0 0\n/dev/vdb /srv ext4 ro 0 0\n");
  KexecLoader loader(s.tree.root(), s.system);
  std::ostringstream log;
  SECTION("remounting") {
    CHECK_THROWS_WITH(loader.execute(false, log), Catch::Contains("no image loaded"));  // the fake's reboot fails
    CHECK(s.system.events == std::vector<std::string>{"sync", "remount /boot/efi", "remount /", "sync", "reboot"});
    CHECK_THAT(log.str(), Catch::Contains("remounting / (ext4) read-only"));
  }
  SECTION("--force skips the remount, not the sync") {
    s.system.reboot_error = EPERM;
    s.system.root = false;
    CHECK_THROWS_WITH(loader.execute(true, log), Catch::StartsWith("-e: permission denied"));
    CHECK(s.system.events == std::vector<std::string>{"sync", "reboot"});
  }
  SECTION("a busy filesystem stops -e before the reboot and suggests --force") {
    s.system.remount_errors["/"] = EBUSY;
    CHECK_THROWS_WITH(loader.execute(false, log),
                      Catch::StartsWith("-e: cannot remount / read-only (") && Catch::Contains("--force"));
    CHECK(s.system.events.back() == "remount /");
  }
  SECTION("nothing loaded") {
    s.tree.write("/sys/kernel/kexec_loaded", "0\n");
    CHECK_THROWS_WITH(loader.execute(false, log), Catch::Contains("no kernel is loaded for a fast reboot"));
    CHECK(s.system.events.empty());
  }
}
