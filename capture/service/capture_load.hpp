// load_capture: what `kdive-capture load` does in the first kernel (the kdump
// service's start): works out where the capture kernel must save (the device
// and file system holding savedir, from the mounts table), builds the capture
// initramfs, writes it atomically, and loads kernel + initramfs as the crash
// kernel with `kdive-kexec -p`.
//
//   LoadOptions o;                 // this machine's /proc, /lib/modules, uname
//   int rc = load_capture(config, o, std::cout, std::cerr);
#pragma once

#include <ostream>
#include <string>

#include "capture/service/capture_config.hpp"

namespace kdive::capture {

struct LoadOptions {
  std::string mounts = "/proc/self/mounts";
  std::string modules_root = "/lib/modules";
  std::string release;      // empty: uname -r
  bool build_only = false;  // write the initramfs, do not call kdive-kexec
  bool verbose = false;     // list the initramfs's contents
};

// The capture kernel's copy of CONFIG: savedir made relative to the device
// that holds it (found in MOUNTS_TEXT unless config.device is set), the host
// name filled in. Throws ConfigError when the save directory is on something
// the capture kernel cannot mount.
CaptureConfig capture_kernel_config(const CaptureConfig& config, const std::string& mounts_text,
                                    const std::string& hostname);

// 0 on success; otherwise one line on ERR and a non-zero status.
int load_capture(const CaptureConfig& config, const LoadOptions& options, std::ostream& out, std::ostream& err);

}  // namespace kdive::capture
