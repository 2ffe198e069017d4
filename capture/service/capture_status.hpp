// CaptureStatus: whether a crash would be captured right now, and if not,
// every reason why — the questions an admin asks after setting kdump up (is
// memory reserved? is a capture kernel loaded? is there room for the dump?).
// The /proc and /sys files are read under a root directory, so tests point
// it at a synthetic tree.
//
//   CaptureStatus s = read_capture_status(config, "");   // "" = this machine
//   if (!s.armed()) for (auto& why : s.problems) std::cout << why << '\n';
//   std::cout << capture_status_json(s).dump();   // status --json
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "capture/service/capture_config.hpp"

namespace kdive::capture {

struct CaptureStatus {
  std::optional<uint64_t> reserved_bytes;  // /sys/kernel/kexec_crash_size
  std::optional<bool> loaded;              // /sys/kernel/kexec_crash_loaded
  bool cmdline_has_crashkernel = false;    // /proc/cmdline
  std::string target;                      // the save directory or the pipe command
  std::optional<uint64_t> free_bytes;      // of the save directory's file system
  // One line per reason capture is not armed (empty: armed), and notes that
  // do not disarm it.
  std::vector<std::string> problems;
  std::vector<std::string> notes;

  bool armed() const { return problems.empty(); }
};

// ROOT prefixes /proc, /sys and the save directory ("" for this machine).
CaptureStatus read_capture_status(const CaptureConfig& config, const std::string& root);

// The report `kdive-capture status` prints.
std::string format_capture_status(const CaptureStatus& status);

// The same facts as one JSON object (`kdive-capture status --json`), sizes in
// bytes, null where the text says "unknown": {"armed", "reserved_bytes",
// "loaded", "cmdline_has_crashkernel", "target", "free_bytes", "problems",
// "notes"}.
nlohmann::json capture_status_json(const CaptureStatus& status);

}  // namespace kdive::capture
