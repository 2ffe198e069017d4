// Test doubles for kdive-kexec: a fake system tree (a temporary directory
// that a SystemRoot points at, with /proc and /sys files written by the test),
// a KexecSystem that records calls and returns injected errno values, and a
// synthetic bzImage header.
//
//   FakeTree tree;
//   tree.write("/sys/kernel/kexec_crash_size", "0\n");
//   tree.write_state({.crash_loaded = "1\n", .crash_size = "83886080\n", .cmdline = "crashkernel=80M\n"});
//   FakeKexecSystem system;
//   system.load_error = EADDRNOTAVAIL;
//   KexecLoader loader(tree.root(), system);
#pragma once

#include <stdlib.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "capture/kexec/kexec_system.hpp"
#include "capture/kexec/system_root.hpp"

namespace kdive::test {

// The /proc and /sys files of a machine's kexec state that most tests set up;
// each is written when given, and left absent otherwise.
struct KexecState {
  const char* kexec_loaded = nullptr;  // /sys/kernel/kexec_loaded
  const char* crash_loaded = nullptr;  // /sys/kernel/kexec_crash_loaded
  const char* crash_size = nullptr;    // /sys/kernel/kexec_crash_size
  const char* iomem = nullptr;         // /proc/iomem
  const char* cmdline = nullptr;       // /proc/cmdline
  const char* lockdown = nullptr;      // /sys/kernel/security/lockdown
  const char* meminfo = nullptr;       // /proc/meminfo
};

class FakeTree {
 public:
  FakeTree() {
    std::string pattern = (std::filesystem::temp_directory_path() / "kdive-kexec-test-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    root_ = capture::SystemRoot(dir_);
  }
  ~FakeTree() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FakeTree(const FakeTree&) = delete;
  FakeTree& operator=(const FakeTree&) = delete;

  // Writes TEXT (or bytes) at ABSOLUTE inside the tree; returns the real path.
  std::string write(const std::string& absolute, const std::string& text) {
    auto path = root_.path(absolute);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }
  std::string write(const std::string& absolute, const std::vector<std::byte>& bytes) {
    return write(absolute, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  void write_state(const KexecState& state) {
    namespace f = capture::sysfile;
    const std::pair<std::string_view, const char*> files[] = {{f::kKexecLoaded, state.kexec_loaded},
                                                              {f::kKexecCrashLoaded, state.crash_loaded},
                                                              {f::kKexecCrashSize, state.crash_size},
                                                              {f::kIomem, state.iomem},
                                                              {f::kCmdline, state.cmdline},
                                                              {f::kLockdown, state.lockdown},
                                                              {f::kMeminfo, state.meminfo}};
    for (const auto& [file, text] : files) {
      if (text != nullptr) write(std::string(file), text);
    }
  }
  const capture::SystemRoot& root() const { return root_; }
  std::string path(const std::string& absolute) const { return root_.path(absolute).string(); }

 private:
  std::filesystem::path dir_;
  capture::SystemRoot root_;
};

struct FakeKexecSystem : capture::KexecSystem {
  struct Load {
    bool kernel_fd_valid;
    bool initrd_fd_valid;
    std::string cmdline;
    unsigned long flags;
  };
  int load_error = 0;
  int reboot_error = EINVAL;
  bool root = true;
  std::map<std::string, int> remount_errors;  // mount point -> errno
  std::vector<Load> loads;
  std::vector<std::string> remounted;
  std::vector<std::string> events;  // "sync", "remount /x", "reboot" in order

  int file_load(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) override {
    loads.push_back({kernel_fd >= 0, initrd_fd >= 0, cmdline, flags});
    return load_error;
  }
  void sync() override { events.push_back("sync"); }
  int remount_read_only(const std::string& mount_point) override {
    events.push_back("remount " + mount_point);
    auto it = remount_errors.find(mount_point);
    if (it != remount_errors.end()) return it->second;
    remounted.push_back(mount_point);
    return 0;
  }
  int reboot_kexec() override {
    events.push_back("reboot");
    return reboot_error;
  }
  bool is_root() const override { return root; }
};

// Stores VALUE little-endian in BYTES bytes at OFFSET of an image.
inline void put_le(std::vector<std::byte>& image, size_t offset, uint64_t value, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i) image[offset + i] = std::byte((value >> (8 * i)) & 0xff);
}

// The first bytes of an x86-64 bzImage as the kernel's kexec loader wants
// them (boot protocol 2.15, LOADED_HIGH, XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G).
inline std::vector<std::byte> fake_bzimage(uint32_t init_size = 48u << 20, std::string version = "6.1.0-test") {
  std::vector<std::byte> image(0x4000);
  auto put = [&](size_t offset, uint64_t value, size_t bytes) { put_le(image, offset, value, bytes); };
  put(0x1fe, 0xaa55, 2);
  put(0x202, 0x53726448, 4);  // "HdrS"
  put(0x206, 0x020f, 2);
  put(0x20e, 0x3000 - 0x200, 2);
  put(0x211, 0x01, 1);
  put(0x236, 0x3, 2);
  put(0x238, 2047, 4);
  put(0x260, init_size, 4);
  for (size_t i = 0; i < version.size(); ++i) image[0x3000 + i] = std::byte(version[i]);
  return image;
}

}  // namespace kdive::test
