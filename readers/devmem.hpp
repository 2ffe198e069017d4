// DevMem: the running system's physical memory through /dev/mem.
//
// Rules of this source:
// - RAM ranges come from /proc/iomem's top-level "System RAM" lines (root only:
//   others see zero addresses, which is an error here).
// - An address outside those ranges is Missing; a read the kernel refuses
//   (EPERM/EFAULT: CONFIG_STRICT_DEVMEM allows only the first MiB and non-RAM) is
//   Missing too. Opening checks one RAM page above 1 MiB and throws FormatError
//   "... STRICT_DEVMEM ..." when it is refused, so the caller can fall back to
//   /proc/kcore.
// - VMCOREINFO comes from the note /sys/kernel/vmcoreinfo points at.
//
//   auto mem = open_devmem({});                      // /dev/mem, /proc/iomem, ...
//   auto fake = open_devmem({.mem = "mem.img", .iomem = "iomem.txt", .vmcoreinfo = ""});
#pragma once

#include <memory>
#include <string>

#include "readers/dump_source.hpp"

namespace kdive {

struct DevMemPaths {
  std::string mem = "/dev/mem";
  std::string iomem = "/proc/iomem";
  std::string vmcoreinfo = "/sys/kernel/vmcoreinfo";  // "" to skip
};

std::unique_ptr<DumpSource> open_devmem(const DevMemPaths& paths);

}  // namespace kdive
