// CaptureConfig: the settings of the capture service, read from
// /etc/kdive/capture.conf (the role /etc/sysconfig/kdump plays for the kdump
// init scripts). The same text format travels inside the capture initramfs,
// completed by `kdive-capture load` with what only the first kernel knows (its
// host name, the device and file system holding the save directory).
//
//   CaptureConfig c = parse_capture_config(text, "/etc/kdive/capture.conf");
//   c.dump_level;                   // 31 unless the file says otherwise
//   std::string copy = format_capture_config(c);   // parses back to c
//
// Format: `key = value` lines; `#` starts a comment; unknown keys and bad
// values are errors naming the file and line (a typo must not silently
// change where a dump goes).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kdive::capture {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr const char* kDefaultConfigPath = "/etc/kdive/capture.conf";

enum class AfterSave { Reboot, Halt, Shell, Poweroff };
std::string_view after_save_name(AfterSave a);

struct CaptureConfig {
  // Where dumps go: <savedir>/<host>-<date>/. In the capture kernel the path is
  // taken inside `device` (mounted by kdive-capture acting as init) when set.
  std::string savedir = "/var/crash";
  // Block device and file system type that hold savedir, for the capture
  // kernel; empty: found by `load` from the first kernel's mounts.
  std::string device;
  std::string fstype;
  // makedumpfile-style dump level 0..31 and page codec for kdive-dump.
  int dump_level = 31;
  std::string compression = "zlib";  // zlib | lzo | snappy | zstd | none
  // Old dumps kept in savedir besides the new one; 0 keeps all.
  int keep_old_dumps = 5;
  // Bytes that must stay free in savedir's file system after saving.
  uint64_t min_free_bytes = 64ull << 20;
  // Program (and arguments) run after a save with the dump directory.
  std::string post_save_hook;
  AfterSave action = AfterSave::Reboot;
  // Kernel modules the capture kernel loads before saving, in this order
  // (names looked up under /lib/modules/<release>, or paths).
  std::vector<std::string> modules;
  // Empty: save to disk. Otherwise "pipe:COMMAND": the flattened stream goes
  // to COMMAND's standard input (say, `ssh crash@host kdive-dump -R PATH`).
  std::string target;
  // Empty, or "pipe:COMMAND": after the save to `target`, a second copy is
  // streamed into COMMAND the same way (a remote copy beside a local one, or
  // two receivers), at copy_dump_level (-1: dump_level). It is tried even
  // when the first save failed: then it is the only copy.
  std::string copy_target;
  int copy_dump_level = -1;
  // The capture kernel (default /boot/vmlinuz-<running release>) and, when
  // set, its whole command line (else kdive-kexec's default).
  std::string kernel;
  std::string kernel_cmdline;
  // Where `load` writes the capture initramfs, and whether it is gzipped.
  std::string initramfs = "/var/lib/kdive/capture-initramfs.img";
  bool initramfs_gzip = true;
  // Seconds the capture kernel waits for `device` to appear.
  int device_timeout = 60;
  // Filled in by `load` for the capture kernel's copy: the first kernel's
  // host name (the capture kernel has none of its own).
  std::string hostname;

  bool pipe_target() const { return target.rfind("pipe:", 0) == 0; }
  std::string pipe_command() const { return pipe_target() ? target.substr(5) : std::string(); }
  std::string copy_command() const { return copy_target.rfind("pipe:", 0) == 0 ? copy_target.substr(5) : ""; }
};

// Throws ConfigError("ORIGIN:LINE: ...") on the first bad line.
CaptureConfig parse_capture_config(std::string_view text, std::string_view origin);
// Reads and parses PATH; a missing file gives the defaults, an unreadable one
// throws ConfigError.
CaptureConfig load_capture_config(const std::string& path);
// The config as text that parse_capture_config reads back to an equal config.
std::string format_capture_config(const CaptureConfig& config);

// "512M", "2G", "4096", "1.5G" → bytes (binary units); nullopt if malformed.
// Fractions are a config nicety; kdive-kexec's parse_size reads the kernel's
// crashkernel= grammar, which has none.
std::optional<uint64_t> parse_config_size(std::string_view text);
// kdive-dump's codec flag for a compression name: -c zlib, -l lzo, -p snappy,
// -z zstd; empty for none.
std::string compression_flag(std::string_view compression);

}  // namespace kdive::capture
