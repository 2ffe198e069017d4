// SystemRoot: where kdive-kexec finds the running system's files (/proc,
// /sys, /boot). Every such path goes through one object, so that unit tests
// point it at a fake tree of plain files instead of the real kernel's.
//
//   SystemRoot root;                                  // the real "/"
//   SystemRoot fake(temp_dir);                        // a test's tree
//   std::optional<std::string> cmdline = root.read("/proc/cmdline");
//   std::filesystem::path kernel = root.path("/boot/vmlinuz-6.1.0-57-cloud-amd64");
//
// Paths the user gives on the command line (KERNEL, --initrd) are the user's
// and are never rewritten: only the system's own paths go through here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace kdive::capture {

class SystemRoot {
 public:
  explicit SystemRoot(std::filesystem::path prefix = "/");

  // ABSOLUTE ("/proc/cmdline") under this root.
  std::filesystem::path path(std::string_view absolute) const;

  // The whole file, or nullopt when it is absent or unreadable (a kernel
  // without CONFIG_CRASH_DUMP has no kexec_crash_size; /proc/iomem may be
  // unreadable in a container). Reads to EOF: /proc and /sys files report
  // size 0 or 4096 whatever they hold.
  std::optional<std::string> read(std::string_view absolute) const;

  // The file's first line with surrounding blanks removed, as a number
  // (decimal) or nullopt when absent or not a number.
  std::optional<uint64_t> read_number(std::string_view absolute) const;

  // The file's first line, blanks trimmed; nullopt when absent.
  std::optional<std::string> read_line(std::string_view absolute) const;

 private:
  std::filesystem::path prefix_;
};

// Paths kdive-kexec reads, in one place so that the help text, the status
// lines and the tests name the same files.
namespace sysfile {
inline constexpr std::string_view kCmdline = "/proc/cmdline";
inline constexpr std::string_view kIomem = "/proc/iomem";
inline constexpr std::string_view kMeminfo = "/proc/meminfo";
inline constexpr std::string_view kMounts = "/proc/mounts";
inline constexpr std::string_view kFilesystems = "/proc/filesystems";
inline constexpr std::string_view kOsrelease = "/proc/sys/kernel/osrelease";
inline constexpr std::string_view kKexecLoadDisabled = "/proc/sys/kernel/kexec_load_disabled";
inline constexpr std::string_view kKexecLoaded = "/sys/kernel/kexec_loaded";
inline constexpr std::string_view kKexecCrashLoaded = "/sys/kernel/kexec_crash_loaded";
inline constexpr std::string_view kKexecCrashSize = "/sys/kernel/kexec_crash_size";
inline constexpr std::string_view kLockdown = "/sys/kernel/security/lockdown";
}  // namespace sysfile

}  // namespace kdive::capture
