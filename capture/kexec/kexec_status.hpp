// KexecStatus: what the running kernel says about kexec — which images are
// loaded, how much memory crashkernel= reserved and where — read from /sys,
// /proc/iomem and /proc/cmdline. `kdive-kexec --status` prints it; the
// loader reads the reservation from it to explain a failed -p.
//
//   KexecStatus status = read_kexec_status(SystemRoot());
//   if (status.crash_size == 0) ...            // no crashkernel= reservation
//   std::cout << format_kexec_status(status);
//   std::cout << kexec_status_json(status).dump();   // --status --json
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/kexec/system_root.hpp"

namespace kdive::capture {

// One "Crash kernel" line of /proc/iomem: [start, end], end inclusive as the
// file prints it. crashkernel=X,high makes two (one above 4 GiB, one low).
struct CrashRange {
  uint64_t start = 0;
  uint64_t end = 0;
  uint64_t size() const { return end - start + 1; }
};

struct KexecStatus {
  std::optional<bool> kexec_loaded;    // -l image present (/sys/kernel/kexec_loaded)
  std::optional<bool> crash_loaded;    // -p image present (/sys/kernel/kexec_crash_loaded)
  std::optional<uint64_t> crash_size;  // bytes reserved (/sys/kernel/kexec_crash_size)
  bool iomem_readable = false;
  std::vector<CrashRange> crash_ranges;
  // /proc/iomem shows every address as 0 to readers without CAP_SYS_ADMIN.
  bool iomem_addresses_hidden = false;
  std::optional<std::string> command_line;  // /proc/cmdline
  std::optional<std::string> crashkernel;   // its crashkernel= words
  std::optional<std::string> lockdown;      // the active lockdown mode ("none", "integrity", …)
};

KexecStatus read_kexec_status(const SystemRoot& root);

// The "Crash kernel" ranges of an /proc/iomem text, at any nesting depth.
std::vector<CrashRange> parse_crash_ranges(std::string_view iomem);

// The bracketed (active) mode of /sys/kernel/security/lockdown's
// "none [integrity] confidentiality", or nullopt when there is none.
std::optional<std::string> active_lockdown(std::string_view text);

// The lines `kdive-kexec --status` prints, each naming the file it comes from.
std::string format_kexec_status(const KexecStatus& status);

// The same facts as one JSON object (`kdive-kexec --status --json`): sizes in
// bytes, addresses as numbers, null where the text says "unknown":
//   {"kexec_loaded", "crash_loaded", "crash_size", "iomem_readable",
//    "crash_ranges": [{"start", "end", "size"}], "iomem_addresses_hidden",
//    "command_line", "crashkernel", "lockdown"}
nlohmann::json kexec_status_json(const KexecStatus& status);

}  // namespace kdive::capture
