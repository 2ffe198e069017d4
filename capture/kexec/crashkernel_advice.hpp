// CrashkernelAdvice: a crashkernel= size for this machine, with the reasoning
// that led to it (`kdive-kexec --recommend`). Distribution tables (SUSE's
// 256M up to 12 GB, 512M to 48 GB, 768M above) are defaults, not
// measurements; this estimates from what the capture kernel really holds —
// its kernel image, its initramfs packed and unpacked, a dump filter's
// working memory, page-frame bitmaps for this machine's RAM — and, when a
// dump saved by kdive-capture is at hand, from the memory the capture kernel
// was measured to use (capture-meminfo.txt beside the vmcore).
//
//   AdviceInputs inputs;
//   inputs.dump_dirs = {"/var/crash"};
//   CrashkernelAdvice advice = advise_crashkernel(SystemRoot(), inputs);
//   std::cout << format_advice(advice);       // "crashkernel=96M" and why
//
// capture-meminfo.txt (written by kdive-capture in the capture kernel): the
// capture kernel's /proc/meminfo right after the dump was saved, plus
// optional lines in the same "Key: N kB" form:
//   CrashkernelSize: N kB   the reservation the capture kernel ran in
//   KdiveDumpPeak: N kB     kdive-dump's peak resident memory (VmHWM)
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/kexec/system_root.hpp"

namespace kdive::capture {

// Where kdive-capture keeps the capture initramfs it builds.
inline constexpr std::string_view kDefaultCaptureInitrd = "/var/lib/kdive/capture-initrd.img";
inline constexpr std::string_view kCaptureMeminfoFile = "capture-meminfo.txt";

struct AdviceInputs {
  std::optional<std::string> kernel;   // default: /boot/vmlinuz-<running release>
  std::optional<std::string> initrd;   // default: kDefaultCaptureInitrd
  std::vector<std::string> dump_dirs;  // each: a dump's dir, or a dir of dump dirs
};

// One capture kernel's measured use, from a capture-meminfo.txt.
struct CaptureMeasurement {
  std::string file;
  uint64_t mem_total = 0;               // bytes the capture kernel managed
  uint64_t mem_available = 0;           // what was still available after the save
  std::optional<uint64_t> reservation;  // CrashkernelSize, if recorded
  std::optional<uint64_t> dump_peak;    // KdiveDumpPeak, if recorded
};
std::optional<CaptureMeasurement> parse_capture_meminfo(std::string_view text, std::string file);

struct AdviceTerm {
  std::string what;
  uint64_t bytes = 0;
  std::string why;
};

struct CrashkernelAdvice {
  uint64_t ram = 0;                  // MemTotal of this machine
  std::vector<AdviceTerm> estimate;  // the terms summed
  uint64_t estimate_total = 0;
  std::optional<CaptureMeasurement> measured;  // the largest need among the dumps found
  uint64_t measured_need = 0;                  // bytes the capture kernel used, when measured
  uint64_t recommended = 0;                    // the crashkernel= size, rounded up to 16 MiB
  std::string distribution_default;            // SUSE's table for this RAM
  std::optional<uint64_t> current;             // kexec_crash_size now
  std::vector<std::string> notes;              // assumptions and files not found
};

// Throws KexecError when /proc/meminfo cannot be read (nothing to base a size on).
CrashkernelAdvice advise_crashkernel(const SystemRoot& root, const AdviceInputs& inputs);

std::string format_advice(const CrashkernelAdvice& advice);

// The same facts as one JSON object (`kdive-kexec --recommend --json`), sizes
// in bytes: {"recommended", "crashkernel" ("crashkernel=96M"), "ram",
// "current", "estimate": [{"what", "bytes", "why"}], "estimate_sum",
// "estimate_total" (the sum + 1/64 for the reservation's struct pages),
// "measured": {"file", "mem_total", "mem_available", "reservation",
// "dump_peak"} or null, "measured_need", "margin_percent",
// "distribution_default", "notes"}.
nlohmann::json advice_json(const CrashkernelAdvice& advice);

// The uncompressed size of an initramfs: exact for an uncompressed cpio and
// for gzip (its ISIZE trailer) and zstd (the frame's content size, when
// recorded); nullopt otherwise.
std::optional<uint64_t> unpacked_initramfs_size(const std::string& path);

}  // namespace kdive::capture
