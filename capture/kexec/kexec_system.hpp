// KexecSystem: the few system calls kdive-kexec makes, behind one small
// interface so that unit tests inject errno values instead of loading
// kernels. LinuxKexecSystem is the real one.
//
//   LinuxKexecSystem system;
//   int error = system.file_load(kernel_fd, initrd_fd, "console=ttyS0", kKexecFileOnCrash);
//   if (error != 0) ...                      // an errno value, never -1
#pragma once

#include <string>

namespace kdive::capture {

// kexec_file_load(2) flags (include/uapi/linux/kexec.h).
inline constexpr unsigned long kKexecFileUnload = 0x1;
inline constexpr unsigned long kKexecFileOnCrash = 0x2;
inline constexpr unsigned long kKexecFileNoInitramfs = 0x4;

class KexecSystem {
 public:
  virtual ~KexecSystem() = default;

  // kexec_file_load(kernel_fd, initrd_fd, strlen(cmdline) + 1, cmdline, flags):
  // 0 on success, else the errno value. An unload passes -1 for both fds.
  virtual int file_load(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) = 0;

  // sync(2).
  virtual void sync() = 0;

  // mount(NULL, MOUNT_POINT, NULL, MS_REMOUNT | MS_RDONLY, NULL): 0 or errno.
  virtual int remount_read_only(const std::string& mount_point) = 0;

  // reboot(LINUX_REBOOT_CMD_KEXEC): returns only on failure, with the errno.
  virtual int reboot_kexec() = 0;

  // True when the effective user is root (kexec needs CAP_SYS_BOOT; this is
  // only used to explain an EPERM).
  virtual bool is_root() const = 0;
};

class LinuxKexecSystem final : public KexecSystem {
 public:
  int file_load(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) override;
  void sync() override;
  int remount_read_only(const std::string& mount_point) override;
  int reboot_kexec() override;
  bool is_root() const override;
};

}  // namespace kdive::capture
