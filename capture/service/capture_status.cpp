#include "capture/service/capture_status.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "capture/service/dump_store.hpp"

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<uint64_t> read_number(const std::string& path) {
  auto text = read_text(path);
  if (!text) return std::nullopt;
  std::istringstream in(*text);
  uint64_t v;
  if (!(in >> v)) return std::nullopt;
  return v;
}

std::string mib(uint64_t bytes) { return fmt::format("{} MiB", bytes >> 20); }

}  // namespace

CaptureStatus read_capture_status(const CaptureConfig& config, const std::string& root) {
  CaptureStatus s;
  s.reserved_bytes = read_number(root + "/sys/kernel/kexec_crash_size");
  if (auto loaded = read_number(root + "/sys/kernel/kexec_crash_loaded")) s.loaded = *loaded != 0;
  if (auto cmdline = read_text(root + "/proc/cmdline")) {
    std::istringstream words(*cmdline);
    for (std::string w; words >> w;) s.cmdline_has_crashkernel |= w.rfind("crashkernel=", 0) == 0;
  }

  if (!s.reserved_bytes) {
    s.problems.push_back(
        "no kexec crash support: /sys/kernel/kexec_crash_size is missing (a kernel without CONFIG_CRASH_DUMP)");
  } else if (*s.reserved_bytes == 0) {
    s.problems.push_back(s.cmdline_has_crashkernel
                             ? "no memory reserved for a capture kernel: crashkernel= is on the command line but "
                               "the kernel could not reserve it (see dmesg)"
                             : "no memory reserved for a capture kernel: add crashkernel=SIZE to the kernel "
                               "command line and reboot (kdive-kexec --recommend suggests a size)");
  }
  if (s.loaded && !*s.loaded) {
    s.problems.push_back("no capture kernel loaded: run kdive-capture load");
  } else if (!s.loaded && s.reserved_bytes) {
    s.problems.push_back("cannot tell whether a capture kernel is loaded: /sys/kernel/kexec_crash_loaded is missing");
  }

  if (config.pipe_target()) {
    s.target = config.target;
    s.notes.push_back("remote target: the dump is streamed to '" + config.pipe_command() +
                      "' (its reachability is not checked here)");
  } else {
    s.target = config.savedir;
    if (!config.device.empty()) {
      s.notes.push_back(
          fmt::format("the capture kernel mounts {} and saves into {} on it", config.device, config.savedir));
    } else {
      std::string dir = root + config.savedir;
      std::error_code ec;
      if (!fs::is_directory(dir, ec)) {
        s.problems.push_back(fmt::format("save directory {} is missing", config.savedir));
      } else {
        DumpStore store(dir);
        try {
          s.free_bytes = store.free_bytes();
          if (*s.free_bytes < config.min_free_bytes) {
            s.problems.push_back(fmt::format("save directory {} is short of space: {} free, min_free is {}",
                                             config.savedir, mib(*s.free_bytes), mib(config.min_free_bytes)));
          }
        } catch (const StoreError& e) {
          s.problems.push_back(e.what());
        }
      }
    }
  }
  if (!config.copy_command().empty()) {
    s.notes.push_back("copy target: a copy is then streamed to '" + config.copy_command() +
                      "' (its reachability is not checked here)");
  }
  return s;
}

std::string format_capture_status(const CaptureStatus& s) {
  std::string out = s.armed() ? "capture: armed\n" : "capture: NOT armed\n";
  out += fmt::format("  reservation:   {}\n", s.reserved_bytes ? mib(*s.reserved_bytes) : "unknown");
  out += fmt::format("  kernel loaded: {}\n", !s.loaded ? "unknown" : *s.loaded ? "yes" : "no");
  out += fmt::format("  target:        {}\n", s.target);
  if (s.free_bytes) out += fmt::format("  free space:    {}\n", mib(*s.free_bytes));
  for (const auto& p : s.problems) out += "  not armed: " + p + "\n";
  for (const auto& n : s.notes) out += "  note: " + n + "\n";
  return out;
}

nlohmann::json capture_status_json(const CaptureStatus& s) {
  auto optional = [](const auto& value) -> nlohmann::json {
    if (!value) return nullptr;
    return *value;
  };
  return {{"armed", s.armed()},           {"reserved_bytes", optional(s.reserved_bytes)},
          {"loaded", optional(s.loaded)}, {"cmdline_has_crashkernel", s.cmdline_has_crashkernel},
          {"target", s.target},           {"free_bytes", optional(s.free_bytes)},
          {"problems", s.problems},       {"notes", s.notes}};
}

}  // namespace kdive::capture
