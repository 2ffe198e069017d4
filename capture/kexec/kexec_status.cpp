// KexecStatus: the kernel's kexec state, from /sys, /proc/iomem, /proc/cmdline.
#include "capture/kexec/kexec_status.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "capture/kexec/kexec_command_line.hpp"

namespace kdive::capture {

namespace {

std::optional<bool> read_flag(const SystemRoot& root, std::string_view file) {
  auto value = root.read_number(file);
  if (!value) return std::nullopt;
  return *value != 0;
}

std::optional<uint64_t> parse_hex(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

std::string loaded_text(const std::optional<bool>& flag) {
  if (!flag) return "unknown";
  return *flag ? "loaded" : "not loaded";
}

}  // namespace

std::vector<CrashRange> parse_crash_ranges(std::string_view iomem) {
  std::vector<CrashRange> ranges;
  while (!iomem.empty()) {
    auto line = iomem.substr(0, iomem.find('\n'));
    iomem.remove_prefix(std::min(iomem.size(), line.size() + 1));
    // "  2b000000-32ffffff : Crash kernel": indentation says the nesting.
    const auto colon = line.find(" : ");
    if (colon == std::string_view::npos || line.substr(colon + 3) != "Crash kernel") continue;
    auto range = line.substr(0, colon);
    range.remove_prefix(std::min(range.size(), range.find_first_not_of(' ')));
    const auto dash = range.find('-');
    if (dash == std::string_view::npos) continue;
    auto start = parse_hex(range.substr(0, dash));
    auto end = parse_hex(range.substr(dash + 1));
    if (start && end && *end >= *start) ranges.push_back({*start, *end});
  }
  return ranges;
}

std::optional<std::string> active_lockdown(std::string_view text) {
  const auto open = text.find('[');
  const auto close = text.find(']', open);
  if (open == std::string_view::npos || close == std::string_view::npos) return std::nullopt;
  return std::string(text.substr(open + 1, close - open - 1));
}

KexecStatus read_kexec_status(const SystemRoot& root) {
  KexecStatus status;
  status.kexec_loaded = read_flag(root, sysfile::kKexecLoaded);
  status.crash_loaded = read_flag(root, sysfile::kKexecCrashLoaded);
  status.crash_size = root.read_number(sysfile::kKexecCrashSize);
  if (auto iomem = root.read(sysfile::kIomem)) {
    status.iomem_readable = true;
    status.crash_ranges = parse_crash_ranges(*iomem);
    status.iomem_addresses_hidden =
        !status.crash_ranges.empty() && std::all_of(status.crash_ranges.begin(), status.crash_ranges.end(),
                                                    [](const CrashRange& r) { return r.start == 0 && r.end == 0; });
  }
  if (auto line = root.read_line(sysfile::kCmdline)) {
    status.command_line = *line;
    status.crashkernel = crashkernel_options(*line);
  }
  if (auto text = root.read(sysfile::kLockdown)) status.lockdown = active_lockdown(*text);
  return status;
}

std::string format_kexec_status(const KexecStatus& status) {
  std::string out;
  auto row = [&](std::string_view what, const std::string& value, std::string_view source) {
    out += fmt::format("{:<22}{:<40} ({})\n", what, value, source);
  };
  row("kexec kernel (-l):", loaded_text(status.kexec_loaded), sysfile::kKexecLoaded);
  row("crash kernel (-p):", loaded_text(status.crash_loaded), sysfile::kKexecCrashLoaded);
  if (!status.crash_size) {
    row("crash reservation:", "unknown (no such file: kernel without kdump support?)", sysfile::kKexecCrashSize);
  } else if (*status.crash_size == 0) {
    row("crash reservation:", "none (boot with crashkernel=SIZE to reserve memory)", sysfile::kKexecCrashSize);
  } else {
    row("crash reservation:", fmt::format("{} ({} bytes)", human_size(*status.crash_size), *status.crash_size),
        sysfile::kKexecCrashSize);
  }
  if (!status.iomem_readable) {
    row("Crash kernel range:", "unknown (cannot read the file)", sysfile::kIomem);
  } else if (status.crash_ranges.empty()) {
    row("Crash kernel range:", "none", sysfile::kIomem);
  } else if (status.iomem_addresses_hidden) {
    row("Crash kernel range:", fmt::format("{} range(s), addresses hidden (read as root)", status.crash_ranges.size()),
        sysfile::kIomem);
  } else {
    for (const auto& r : status.crash_ranges) {
      row("Crash kernel range:", fmt::format("{:#018x}-{:#018x} {}", r.start, r.end, human_size(r.size())),
          sysfile::kIomem);
    }
  }
  if (!status.command_line) {
    row("crashkernel= option:", "unknown (cannot read the file)", sysfile::kCmdline);
  } else {
    row("crashkernel= option:", status.crashkernel.value_or("none"), sysfile::kCmdline);
  }
  if (status.lockdown) row("lockdown:", *status.lockdown, sysfile::kLockdown);
  return out;
}

nlohmann::json kexec_status_json(const KexecStatus& status) {
  auto optional = [](const auto& value) -> nlohmann::json {
    if (!value) return nullptr;
    return *value;
  };
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& r : status.crash_ranges) ranges.push_back({{"start", r.start}, {"end", r.end}, {"size", r.size()}});
  return {{"kexec_loaded", optional(status.kexec_loaded)},
          {"crash_loaded", optional(status.crash_loaded)},
          {"crash_size", optional(status.crash_size)},
          {"iomem_readable", status.iomem_readable},
          {"crash_ranges", std::move(ranges)},
          {"iomem_addresses_hidden", status.iomem_addresses_hidden},
          {"command_line", optional(status.command_line)},
          {"crashkernel", optional(status.crashkernel)},
          {"lockdown", optional(status.lockdown)}};
}

}  // namespace kdive::capture
