#include "analyzer/live_target.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <stdexcept>

namespace kdive {

std::string find_running_vmlinux() {
  struct utsname u {};
  if (::uname(&u) != 0) throw std::runtime_error("cannot tell which kernel is running (uname failed)");
  const std::string release = u.release;
  const std::vector<std::string> candidates = {
      "/usr/lib/debug/boot/vmlinux-" + release,
      "/usr/lib/debug/lib/modules/" + release + "/vmlinux",
      "/boot/vmlinux-" + release,
      "/lib/modules/" + release + "/build/vmlinux",
  };
  for (const auto& c : candidates) {
    if (::access(c.c_str(), R_OK) == 0) return c;
  }
  throw std::runtime_error(
      fmt::format("no vmlinux with debug info for the running kernel {} (looked in {}); install its -dbg package "
                  "or name the file: kdive VMLINUX",
                  release, fmt::join(candidates, ", ")));
}

LiveTarget live_target(const std::optional<std::string>& vmlinux) {
  return LiveTarget{vmlinux ? *vmlinux : find_running_vmlinux(), "/proc/kcore"};
}

}  // namespace kdive
