// Live inspection: which vmlinux and memory source to use for the running kernel
// when no dump is named. The vmlinux defaults to the debug image Debian's -dbg
// package installs for `uname -r`; memory is /proc/kcore. A named /dev/mem that
// the kernel restricts (STRICT_DEVMEM) falls back to /proc/kcore with a note.
//
//   LiveTarget t = live_target(std::nullopt);   // throws std::runtime_error
//   t.vmlinux; t.memory;                         // ".../vmlinux-6.1.0-56-amd64", "/proc/kcore"
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kdive {

struct LiveTarget {
  std::string vmlinux;
  std::string memory;
};

// The vmlinux of the running kernel, found in the usual places; throws
// std::runtime_error listing where it looked.
std::string find_running_vmlinux();

// Resolves a live session: `vmlinux` given or found, memory /proc/kcore.
LiveTarget live_target(const std::optional<std::string>& vmlinux);

}  // namespace kdive
