// KexecLoader: loads, unloads and starts kernels through kexec_file_load —
// the only kexec path lockdown and secure boot allow, and the one where the
// running kernel builds the crash kernel's ELF core header itself — and turns
// every refusal into one line that says why: no crashkernel= reservation,
// an image too large for it, EPERM (not root, kexec disabled, lockdown),
// not a bzImage, a file that cannot be opened.
//
//   LinuxKexecSystem system;
//   KexecLoader loader(SystemRoot(), system);
//   LoadRequest request{.target = KexecTarget::Crash, .kernel = "/boot/vmlinuz"};
//   request.initrd = "/var/lib/kdive/capture-initrd.img";
//   std::string line = loader.load(request);   // the command line used; throws KexecError
//   loader.unload(KexecTarget::Crash);
//   loader.execute(/*force=*/false, log);       // -e: returns only by throwing
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "capture/kexec/kexec_system.hpp"
#include "capture/kexec/system_root.hpp"

namespace kdive::capture {

enum class KexecTarget {
  Reboot,  // -l: started by -e (fast reboot)
  Crash,   // -p: started by the kernel when it panics
};

struct LoadRequest {
  KexecTarget target = KexecTarget::Reboot;
  std::string kernel;                       // a bzImage (vmlinuz)
  std::optional<std::string> initrd;        // none: the kernel boots without an initramfs
  std::optional<std::string> command_line;  // --command-line: used as given
  std::vector<std::string> append;          // --append: added to whichever line is used
};

class KexecLoader {
 public:
  KexecLoader(const SystemRoot& root, KexecSystem& system);

  // The command line REQUEST loads with: --command-line if given, else the
  // running kernel's (/proc/cmdline; for -p minus crashkernel= and plus
  // irqpoll nr_cpus=1 reset_devices), then --append. Throws KexecError when
  // /proc/cmdline is needed and unreadable.
  std::string command_line(const LoadRequest& request) const;

  // Loads REQUEST; returns the command line used. Throws KexecError.
  std::string load(const LoadRequest& request);

  // -u / -p -u. Unloading when nothing is loaded succeeds, as in the kernel.
  void unload(KexecTarget target);

  // -e: sync; unless FORCE, remount every writable disk-backed filesystem of
  // /proc/mounts read-only (deepest first); sync; reboot into the loaded
  // kernel. Progress lines go to LOG. Returns only by throwing KexecError:
  // nothing loaded, a filesystem that will not remount, reboot refused.
  void execute(bool force, std::ostream& log);

 private:
  [[noreturn]] void load_failed(const LoadRequest& request, int error, uint64_t kernel_init_size,
                                uint64_t initrd_size) const;
  std::string permission_reason() const;

  const SystemRoot& root_;
  KexecSystem& system_;
};

// A mount of /proc/mounts, with the octal escapes (\040 …) decoded.
struct MountEntry {
  std::string source;
  std::string mount_point;
  std::string type;
  bool read_write = false;
};
std::vector<MountEntry> parse_mounts(std::string_view text);

// Filesystem types /proc/filesystems marks "nodev" (not backed by a block
// device: proc, tmpfs, …). -e leaves them alone: there is nothing on a disk
// for them to leave dirty.
std::vector<std::string> nodev_filesystems(std::string_view text);

}  // namespace kdive::capture
