// The capture initramfs: what the capture kernel boots into after a panic.
// kdive-capture itself is its /init (no shell, no busybox: a production
// system has neither to spare), with kdive-dump, every shared library the two
// (and a pipe target's command, and the hook) need, the kernel modules the save
// target needs in load order, and the config as the first kernel completed it.
//
//   InitramfsPlan plan;
//   plan.capture_program = self_executable();
//   plan.dump_program = find_program("kdive-dump");
//   plan.modules = resolve_modules(config.modules, release, "/lib/modules");
//   plan.config = config;              // savedir already relative to device
//   auto image = build_capture_initramfs(plan, LibrarySearch::system());
//
// Layout: /init -> usr/sbin/kdive-capture, /usr/sbin/kdive-dump, libraries at
// the paths the loader asks for, /etc/kdive/capture.conf, the modules under
// /lib/modules/kdive/NN-name.ko (plain ELF: decompressed here, so the capture
// kernel needs no in-kernel module decompression), /dev/console.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/service/capture_config.hpp"
#include "capture/service/elf_needs.hpp"

namespace kdive::capture {

class InitramfsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where the capture kernel mounts the save device.
inline constexpr const char* kTargetMount = "/kdive-target";
inline constexpr const char* kArchiveConfigPath = "etc/kdive/capture.conf";

struct ModuleFile {
  std::string name;             // "virtio_blk"
  std::string source;           // the file it came from
  std::vector<std::byte> data;  // decompressed ELF
};

struct InitramfsPlan {
  std::string capture_program;
  std::string dump_program;
  // Further programs the capture kernel runs (a pipe target's command, the
  // hook, a script's interpreter), each stored at its own path.
  std::vector<std::string> extra_programs;
  std::vector<ModuleFile> modules;
  CaptureConfig config;
  bool gzip = true;
};

// The archive, and what went into it (one line per file, for --verbose).
std::vector<std::byte> build_capture_initramfs(InitramfsPlan plan, const LibrarySearch& search,
                                               std::vector<std::string>* listing = nullptr);

// Each of NAMES (a module name looked up under MODULES_ROOT/RELEASE, or a
// path) read and decompressed (.ko, .ko.xz, .ko.zst, .ko.gz), in order.
std::vector<ModuleFile> resolve_modules(const std::vector<std::string>& names, const std::string& release,
                                        const std::string& modules_root);

// Where a directory lives, from a mounts table (/proc/self/mounts format):
// the block device, its file system type and the path inside it.
struct SaveLocation {
  std::string device;  // empty when not a block device (tmpfs, nfs, ...)
  std::string fstype;
  std::string mount_point;
  std::string relative;  // the directory's path inside the file system, "/..."
};
SaveLocation locate_directory(const std::string& directory, const std::string& mounts_text);

}  // namespace kdive::capture
