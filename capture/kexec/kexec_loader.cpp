// KexecLoader: kexec_file_load with errors that say why.
#include "capture/kexec/kexec_loader.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "capture/kexec/bzimage.hpp"
#include "capture/kexec/kexec_command_line.hpp"
#include "capture/kexec/kexec_error.hpp"
#include "capture/kexec/kexec_status.hpp"

namespace kdive::capture {

namespace {

// The head read for the probe: the setup header, and the version string that
// the header points to inside the setup sectors.
constexpr size_t kKernelHeadBytes = 16 * 1024;

// For a crash kernel the kernel adds " elfcorehdr=0x<address>" to the command
// line itself and refuses the load (EINVAL) when that would not fit the
// image's cmdline_size; the room it keeps is 30 characters
// (MAX_ELFCOREHDR_STR_LEN, arch/x86/kernel/kexec-bzimage64.c).
constexpr size_t kElfcorehdrRoom = 30;

std::string errno_text(int error) {
  const char* name = strerrorname_np(error);
  return fmt::format("{}, {}", std::strerror(error), name ? name : fmt::format("errno {}", error));
}

std::string_view option_of(KexecTarget target) { return target == KexecTarget::Crash ? "-p" : "-l"; }

// An fd closed on scope exit.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Opens PATH read-only for the kernel to read; WHAT names it in errors
// ("--initrd /x", "/boot/vmlinuz"). Returns the fd and the file's size.
std::pair<int, uint64_t> open_input(const std::string& path, std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw KexecError(fmt::format("{}: cannot open: {}", what, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw KexecError(fmt::format("{}: not a regular file", what));
  }
  return {fd, uint64_t(st.st_size)};
}

bool signature_error(int error) {
  return error == EKEYREJECTED || error == EBADMSG || error == ENODATA || error == ENOKEY || error == EKEYEXPIRED ||
         error == EKEYREVOKED;
}

std::string decode_mount_escapes(std::string_view field) {
  // The kernel writes space, tab, newline and backslash as \ooo octal.
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && field.size() - i >= 4 &&
        std::all_of(field.begin() + std::ptrdiff_t(i) + 1, field.begin() + std::ptrdiff_t(i) + 4,
                    [](char c) { return c >= '0' && c <= '7'; })) {
      out.push_back(char((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

}  // namespace

std::vector<MountEntry> parse_mounts(std::string_view text) {
  std::vector<MountEntry> mounts;
  while (!text.empty()) {
    auto line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    auto fields = split_command_line(line);  // blank-separated; fields hold no quotes
    if (fields.size() < 4) continue;
    MountEntry entry{decode_mount_escapes(fields[0]), decode_mount_escapes(fields[1]), fields[2], false};
    // Options are comma-separated; the first is always "rw" or "ro".
    const std::string_view options = fields[3];
    entry.read_write = options.substr(0, options.find(',')) == "rw";
    mounts.push_back(std::move(entry));
  }
  return mounts;
}

std::vector<std::string> nodev_filesystems(std::string_view text) {
  std::vector<std::string> types;
  while (!text.empty()) {
    auto line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    // "nodev\tproc" or "\text4".
    const auto tab = line.find('\t');
    if (tab == std::string_view::npos) continue;
    if (line.substr(0, tab) == "nodev") types.emplace_back(line.substr(tab + 1));
  }
  return types;
}

KexecLoader::KexecLoader(const SystemRoot& root, KexecSystem& system) : root_(root), system_(system) {}

std::string KexecLoader::command_line(const LoadRequest& request) const {
  std::string line;
  if (request.command_line) {
    line = *request.command_line;
  } else {
    auto running = root_.read_line(sysfile::kCmdline);
    if (!running) {
      throw KexecError(fmt::format("{}: cannot read {} to derive the command line: give it with --command-line",
                                   option_of(request.target), sysfile::kCmdline));
    }
    line = request.target == KexecTarget::Crash ? capture_command_line(*running) : reused_command_line(*running);
  }
  for (const auto& extra : request.append) line = append_options(line, extra);
  return line;
}

std::string KexecLoader::permission_reason() const {
  if (!system_.is_root()) return "loading a kernel needs CAP_SYS_BOOT: run as root";
  if (root_.read_number(sysfile::kKexecLoadDisabled).value_or(0) != 0) {
    return fmt::format("kexec is disabled until the next reboot ({} is 1)", sysfile::kKexecLoadDisabled);
  }
  if (auto text = root_.read(sysfile::kLockdown)) {
    auto mode = active_lockdown(*text);
    if (mode && *mode != "none") {
      return fmt::format("the kernel is locked down ({}: {}): it loads only kernels signed with a key it trusts",
                         sysfile::kLockdown, *mode);
    }
  }
  return "the kernel refused it although this is root, kexec is enabled and there is no lockdown: a security "
         "module (SELinux, AppArmor) or an enforced signature policy (CONFIG_KEXEC_SIG_FORCE) may forbid it";
}

void KexecLoader::load_failed(const LoadRequest& request, int error, uint64_t kernel_init_size,
                              uint64_t initrd_size) const {
  const auto what = fmt::format("{} {}", option_of(request.target), request.kernel);
  if (error == EPERM) throw KexecError(fmt::format("{}: permission denied (EPERM): {}", what, permission_reason()));
  if (request.target == KexecTarget::Crash && (error == EADDRNOTAVAIL || error == ENOMEM)) {
    // The kernel answers the same for "nothing reserved" and "too small":
    // kexec_crash_size (checked before the call too) tells them apart.
    const auto size = root_.read_number(sysfile::kKexecCrashSize);
    if (size && *size == 0) {
      throw KexecError(
          fmt::format("{}: no memory is reserved for a crash kernel ({} is 0): boot with "
                      "crashkernel=SIZE (kdive-kexec --recommend suggests a size)",
                      what, sysfile::kKexecCrashSize));
    }
    std::string needs = fmt::format("the kernel needs {} to start (its init_size)", human_size(kernel_init_size));
    if (request.initrd) needs += fmt::format(", the initrd {}", human_size(initrd_size));
    throw KexecError(fmt::format(
        "{}: the capture kernel does not fit the crashkernel= reservation of {} ({}; {}): {}, plus boot data and "
        "the ELF core header; reserve more (kdive-kexec --recommend) or use a smaller initrd",
        what, size ? human_size(*size) : std::string("unknown size"), sysfile::kKexecCrashSize, errno_text(error),
        needs));
  }
  if (error == ENOEXEC) {
    throw KexecError(
        fmt::format("{}: the running kernel refused the image ({}): its setup header is a 64-bit "
                    "bzImage's, but this kernel's kexec_file_load has no loader that accepts it",
                    what, errno_text(error)));
  }
  if (signature_error(error)) {
    throw KexecError(
        fmt::format("{}: the kernel rejected the image's signature ({}): signature checks are "
                    "enforced (lockdown or CONFIG_KEXEC_SIG_FORCE); use a kernel signed with a "
                    "trusted key",
                    what, errno_text(error)));
  }
  if (error == ENOSYS) {
    throw KexecError(
        fmt::format("{}: this kernel has no kexec_file_load (ENOSYS: built without CONFIG_KEXEC_FILE)", what));
  }
  if (error == EBUSY) {
    throw KexecError(fmt::format("{}: another kexec load, unload or reboot is in progress (EBUSY): try again", what));
  }
  if (error == ENOMEM) {
    throw KexecError(fmt::format("{}: not enough memory to stage the kernel and initrd ({})", what, errno_text(error)));
  }
  throw KexecError(fmt::format("{}: kexec_file_load failed: {}", what, errno_text(error)));
}

std::string KexecLoader::load(const LoadRequest& request) {
  const auto option = option_of(request.target);
  BzImage image;
  try {
    image = probe_bzimage(read_file_head(request.kernel, kKernelHeadBytes));
  } catch (const KexecError& e) {
    // read_file_head names the file already; the probe's reasons do not.
    const std::string reason = e.what();
    if (reason.rfind(request.kernel + ":", 0) == 0) throw KexecError(fmt::format("{} {}", option, reason));
    throw KexecError(fmt::format("{} {}: {}", option, request.kernel, reason));
  }

  std::optional<FileDescriptor> initrd;
  uint64_t initrd_size = 0;
  if (request.initrd) {
    auto [fd, size] = open_input(*request.initrd, fmt::format("--initrd {}", *request.initrd));
    initrd.emplace(fd);
    initrd_size = size;
  }

  const std::string line = command_line(request);
  const size_t room = request.target == KexecTarget::Crash ? kElfcorehdrRoom : 0;
  if (image.cmdline_size != 0 && line.size() + room > image.cmdline_size) {
    throw KexecError(fmt::format(
        "{} {}: the command line is {} bytes{}, more than the {} the kernel takes", option, request.kernel, line.size(),
        room ? fmt::format(" (+{} for the elfcorehdr= the kernel adds)", room) : "", image.cmdline_size));
  }

  if (request.target == KexecTarget::Crash) {
    // Read before the call: the kernel's errno cannot tell a missing
    // reservation from one that is too small.
    if (root_.read_number(sysfile::kKexecCrashSize) == uint64_t(0)) load_failed(request, EADDRNOTAVAIL, 0, 0);
  }

  FileDescriptor kernel(open_input(request.kernel, request.kernel).first);
  unsigned long flags = request.target == KexecTarget::Crash ? kKexecFileOnCrash : 0;
  if (!initrd) flags |= kKexecFileNoInitramfs;  // else the kernel reads fd -1 and fails with EBADF
  const int error = system_.file_load(kernel.get(), initrd ? initrd->get() : -1, line, flags);
  if (error != 0) load_failed(request, error, image.init_size, initrd_size);
  return line;
}

void KexecLoader::unload(KexecTarget target) {
  const unsigned long flags = kKexecFileUnload | (target == KexecTarget::Crash ? kKexecFileOnCrash : 0);
  const int error = system_.file_load(-1, -1, "", flags);
  if (error == 0) return;
  const auto what = target == KexecTarget::Crash ? "-p -u" : "-u";
  if (error == EPERM) throw KexecError(fmt::format("{}: permission denied (EPERM): {}", what, permission_reason()));
  if (error == EBUSY) {
    throw KexecError(fmt::format("{}: another kexec load, unload or reboot is in progress (EBUSY): try again", what));
  }
  throw KexecError(fmt::format("{}: kexec_file_load failed: {}", what, errno_text(error)));
}

void KexecLoader::execute(bool force, std::ostream& log) {
  if (root_.read_number(sysfile::kKexecLoaded) == uint64_t(0)) {
    throw KexecError(fmt::format("-e: no kernel is loaded for a fast reboot ({} is 0): load one with -l first",
                                 sysfile::kKexecLoaded));
  }
  log << "kdive-kexec: syncing filesystems" << std::endl;
  system_.sync();
  if (!force) {
    auto mounts_text = root_.read(sysfile::kMounts);
    auto filesystems_text = root_.read(sysfile::kFilesystems);
    if (!mounts_text || !filesystems_text) {
      throw KexecError(fmt::format("-e: cannot read {} to remount filesystems read-only: use --force to skip that",
                                   mounts_text ? sysfile::kFilesystems : sysfile::kMounts));
    }
    const auto nodev = nodev_filesystems(*filesystems_text);
    auto mounts = parse_mounts(*mounts_text);
    // Later mounts sit on top of earlier ones: remount them first.
    std::reverse(mounts.begin(), mounts.end());
    for (const auto& mount : mounts) {
      if (!mount.read_write || std::find(nodev.begin(), nodev.end(), mount.type) != nodev.end()) continue;
      log << "kdive-kexec: remounting " << mount.mount_point << " (" << mount.type << ") read-only" << std::endl;
      const int error = system_.remount_read_only(mount.mount_point);
      if (error == 0) continue;
      const std::string hint = error == EBUSY ? "something still writes there: stop it (e.g. switch to rescue "
                                                "mode) or use --force to skip remounting"
                                              : "use --force to skip remounting";
      throw KexecError(
          fmt::format("-e: cannot remount {} read-only ({}): {}", mount.mount_point, errno_text(error), hint));
    }
    system_.sync();
  }
  log << "kdive-kexec: starting the loaded kernel" << std::endl;
  const int error = system_.reboot_kexec();
  if (error == EPERM) throw KexecError(fmt::format("-e: permission denied (EPERM): {}", permission_reason()));
  if (error == EINVAL)
    throw KexecError("-e: the kernel has no image loaded for a fast reboot (EINVAL): load one with -l");
  throw KexecError(fmt::format("-e: reboot into the loaded kernel failed: {}", errno_text(error)));
}

}  // namespace kdive::capture
