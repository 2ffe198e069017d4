// LinuxKexecSystem: the real system calls behind KexecSystem.
#include "capture/kexec/kexec_system.hpp"

#include <linux/reboot.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace kdive::capture {

int LinuxKexecSystem::file_load(int kernel_fd, int initrd_fd, const std::string& cmdline, unsigned long flags) {
  // glibc has no wrapper. An unload passes no command line at all: the kernel
  // ignores it then, and a length of 0 is what kexec-tools passes too.
  const bool unload = (flags & kKexecFileUnload) != 0;
  const unsigned long length = unload ? 0 : cmdline.size() + 1;  // the kernel wants the NUL counted
  const char* text = unload ? nullptr : cmdline.c_str();
  const long rc = ::syscall(SYS_kexec_file_load, kernel_fd, initrd_fd, length, text, flags);
  return rc == 0 ? 0 : errno;
}

void LinuxKexecSystem::sync() { ::sync(); }

int LinuxKexecSystem::remount_read_only(const std::string& mount_point) {
  return ::mount(nullptr, mount_point.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0 ? 0 : errno;
}

int LinuxKexecSystem::reboot_kexec() {
  ::reboot(LINUX_REBOOT_CMD_KEXEC);
  return errno;  // reached only when the kernel refused
}

bool LinuxKexecSystem::is_root() const { return ::geteuid() == 0; }

}  // namespace kdive::capture
