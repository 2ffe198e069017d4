// advise_crashkernel: a crashkernel= size from what the capture kernel holds.
#include "capture/kexec/crashkernel_advice.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>

#include "capture/kexec/bzimage.hpp"
#include "capture/kexec/kexec_command_line.hpp"
#include "capture/kexec/kexec_error.hpp"

namespace kdive::capture {

namespace {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kGiB = 1ull << 30;
constexpr uint64_t kRounding = 16 * kMiB;

// Assumptions, each printed with its reason when used.
constexpr uint64_t kAssumedKernel = 64 * kMiB;  // when the image cannot be read
constexpr uint64_t kKernelRuntime = 16 * kMiB;  // slab, page tables, per-CPU areas, drivers with nr_cpus=1
constexpr uint64_t kDumpFilter = 32 * kMiB;     // makedumpfile's measured peak is 32-37 MiB
constexpr unsigned kAssumedUnpackRatio = 3;     // gzip/xz/lz4 on binaries and libraries
constexpr unsigned kMarginPercent = 25;         // over a measurement: crashes differ

uint64_t round_up(uint64_t bytes) { return (bytes + kRounding - 1) / kRounding * kRounding; }

// "Key:   1234 kB" lines → bytes.
std::optional<uint64_t> meminfo_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    auto line = text.substr(0, text.find('\n'));
    text.remove_prefix(std::min(text.size(), line.size() + 1));
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    auto rest = line.substr(key.size() + 1);
    rest.remove_prefix(std::min(rest.size(), rest.find_first_not_of(' ')));
    uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc()) return std::nullopt;
    std::string_view unit(ptr, size_t(rest.data() + rest.size() - ptr));
    unit.remove_prefix(std::min(unit.size(), unit.find_first_not_of(' ')));
    return unit == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

std::optional<uint64_t> file_size(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return std::nullopt;
  return size;
}

std::string distribution_default(uint64_t ram) {
  // SUSE's table for x86-64 (a distribution default, not a measurement).
  if (ram <= 12 * kGiB) return "256M";
  if (ram <= 48 * kGiB) return "512M";
  return "768M";
}

std::vector<std::filesystem::path> meminfo_files(const std::string& dir, std::vector<std::string>& notes) {
  namespace fs = std::filesystem;
  std::vector<fs::path> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    notes.push_back(fmt::format("{}: not a directory; ignored", dir));
    return found;
  }
  if (fs::is_regular_file(fs::path(dir) / kCaptureMeminfoFile, ec)) {
    found.push_back(fs::path(dir) / kCaptureMeminfoFile);
    return found;
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto candidate = entry.path() / kCaptureMeminfoFile;
    if (fs::is_regular_file(candidate, ec)) found.push_back(candidate);
  }
  std::sort(found.begin(), found.end());
  if (found.empty()) {
    notes.push_back(fmt::format("{}: no {} in it or its subdirectories (dumps saved by kdive-capture have one)", dir,
                                kCaptureMeminfoFile));
  }
  return found;
}

}  // namespace

std::optional<CaptureMeasurement> parse_capture_meminfo(std::string_view text, std::string file) {
  auto total = meminfo_value(text, "MemTotal");
  auto available = meminfo_value(text, "MemAvailable");
  if (!total || !available) return std::nullopt;
  CaptureMeasurement m;
  m.file = std::move(file);
  m.mem_total = *total;
  m.mem_available = std::min(*available, *total);
  m.reservation = meminfo_value(text, "CrashkernelSize");
  m.dump_peak = meminfo_value(text, "KdiveDumpPeak");
  return m;
}

std::optional<uint64_t> unpacked_initramfs_size(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  unsigned char head[18] = {};
  in.read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = size_t(in.gcount());
  if (got >= 6 && std::string_view(reinterpret_cast<char*>(head), 5) == "07070") return file_size(path);
  if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
    // gzip's last 4 bytes: the uncompressed size modulo 4 GiB (one member).
    unsigned char tail[4] = {};
    in.clear();
    in.seekg(-4, std::ios::end);
    if (!in.read(reinterpret_cast<char*>(tail), 4)) return std::nullopt;
    return uint64_t(tail[0]) | uint64_t(tail[1]) << 8 | uint64_t(tail[2]) << 16 | uint64_t(tail[3]) << 24;
  }
  if (got >= 6 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) {
    // zstd frame header: descriptor, [window], [dictionary id], [content size].
    const unsigned descriptor = head[4];
    const unsigned size_flag = descriptor >> 6;
    const bool single_segment = (descriptor & 0x20) != 0;
    constexpr unsigned kDictBytes[] = {0, 1, 2, 4};
    size_t at = 5 + (single_segment ? 0 : 1) + kDictBytes[descriptor & 3];
    const unsigned bytes = size_flag == 0 ? (single_segment ? 1 : 0) : (1u << size_flag);
    if (bytes == 0 || at + bytes > got) return std::nullopt;
    uint64_t value = 0;
    for (unsigned i = 0; i < bytes; ++i) value |= uint64_t(head[at + i]) << (8 * i);
    return bytes == 2 ? value + 256 : value;
  }
  return std::nullopt;
}

CrashkernelAdvice advise_crashkernel(const SystemRoot& root, const AdviceInputs& inputs) {
  CrashkernelAdvice advice;
  const auto meminfo = root.read(sysfile::kMeminfo);
  const auto ram = meminfo ? meminfo_value(*meminfo, "MemTotal") : std::nullopt;
  if (!ram) throw KexecError(fmt::format("--recommend: cannot read MemTotal from {}", sysfile::kMeminfo));
  advice.ram = *ram;
  advice.distribution_default = distribution_default(*ram);
  advice.current = root.read_number(sysfile::kKexecCrashSize);

  // The capture kernel's image.
  std::string kernel;
  if (inputs.kernel) {
    kernel = *inputs.kernel;
  } else if (auto release = root.read_line(sysfile::kOsrelease)) {
    kernel = root.path("/boot/vmlinuz-" + *release).string();
  }
  uint64_t kernel_bytes = kAssumedKernel;
  std::string kernel_why = "assumed: no kernel image to read (--kernel FILE)";
  if (!kernel.empty()) {
    try {
      auto image = probe_bzimage(read_file_head(kernel, 16 * 1024));
      kernel_bytes = image.init_size;
      kernel_why = fmt::format(
          "{}: its init_size, the memory it needs from its load address to decompress and "
          "run (an upper bound: part is freed after boot)",
          kernel);
    } catch (const KexecError& e) {
      kernel_why = fmt::format("assumed: {}", e.what());
    }
  }
  advice.estimate.push_back({"capture kernel", kernel_bytes, kernel_why});

  // The capture initramfs: loaded packed into the reservation, then unpacked
  // into a tmpfs that holds it for the whole capture.
  const std::string initrd = inputs.initrd ? *inputs.initrd : root.path(kDefaultCaptureInitrd).string();
  if (auto packed = file_size(initrd)) {
    advice.estimate.push_back(
        {"initramfs, packed", *packed, fmt::format("{}: loaded as is, freed once unpacked", initrd)});
    if (auto unpacked = unpacked_initramfs_size(initrd)) {
      advice.estimate.push_back({"initramfs, unpacked", *unpacked, "its uncompressed size (from the file's format)"});
    } else {
      advice.estimate.push_back(
          {"initramfs, unpacked", *packed * kAssumedUnpackRatio,
           fmt::format("assumed {}x the packed size (compression not recognised)", kAssumedUnpackRatio)});
    }
  } else {
    advice.notes.push_back(
        fmt::format("no capture initramfs at {} (kdive-capture load builds it; --initrd FILE "
                    "names another): the estimate leaves it out",
                    initrd));
  }
  advice.estimate.push_back({"kernel at run time", kKernelRuntime,
                             "assumed: slab, page tables, per-CPU areas and drivers of a one-CPU kernel"});
  advice.estimate.push_back(
      {"dump filter", kDumpFilter, "kdive-dump's bounded working memory (makedumpfile's measured peak is 32-37 MiB)"});
  const uint64_t pages = *ram / 4096;
  advice.estimate.push_back({"page bitmaps", (pages * 2 + 7) / 8,
                             fmt::format("2 bits for each of this machine's {} pages, if kept whole", pages)});
  for (const auto& term : advice.estimate) advice.estimate_total += term.bytes;

  // Measurements from earlier captures: the largest need wins.
  for (const auto& dir : inputs.dump_dirs) {
    for (const auto& file : meminfo_files(dir, advice.notes)) {
      std::ifstream in(file);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto m = parse_capture_meminfo(text, file.string());
      if (!m) {
        advice.notes.push_back(fmt::format("{}: no MemTotal/MemAvailable lines; ignored", file.string()));
        continue;
      }
      // Used = everything the reservation held but what was still available,
      // plus kdive-dump's peak (it had exited when meminfo was read).
      uint64_t reservation = m->mem_total;
      if (m->reservation) {
        reservation = *m->reservation;
      } else if (advice.current && *advice.current != 0) {
        reservation = *advice.current;
        advice.notes.push_back(
            fmt::format("{}: no CrashkernelSize line; assuming the reservation then was the "
                        "current one",
                        file.string()));
      } else {
        advice.notes.push_back(
            fmt::format("{}: no CrashkernelSize line and no current reservation; using its "
                        "MemTotal, which leaves out the kernel image",
                        file.string()));
      }
      const uint64_t need = reservation - std::min(reservation, m->mem_available) + m->dump_peak.value_or(0);
      if (!advice.measured || need > advice.measured_need) {
        advice.measured = *m;
        advice.measured->reservation = reservation;
        advice.measured_need = need;
      }
    }
  }
  advice.recommended = advice.measured ? round_up(advice.measured_need * (100 + kMarginPercent) / 100)
                                       : round_up(advice.estimate_total + advice.estimate_total / 63);
  return advice;
}

std::string format_advice(const CrashkernelAdvice& a) {
  std::string out = fmt::format("recommended: crashkernel={}\n\n", crashkernel_size(a.recommended));
  out +=
      fmt::format("This machine: {} of RAM (MemTotal, {}); reserved now: {}.\n", human_size(a.ram), sysfile::kMeminfo,
                  !a.current   ? std::string("unknown")
                  : *a.current ? human_size(*a.current)
                               : std::string("none"));
  if (a.measured) {
    const auto& m = *a.measured;
    out += fmt::format(
        "\nMeasured ({}): the capture kernel ran in {}, {} was still available after the save{}; it used {}.\n"
        "Recommended = that + {}%, rounded up to 16 MiB: crashes differ (more CPUs' notes, a larger log), and the "
        "boot-time peak while the initramfs unpacks is not in a reading taken after the save.\n",
        m.file, human_size(m.reservation.value_or(m.mem_total)), human_size(m.mem_available),
        m.dump_peak ? fmt::format(", kdive-dump peaked at {}", human_size(*m.dump_peak)) : "",
        human_size(a.measured_need), kMarginPercent);
  }
  out += fmt::format("\n{} (sum of what the capture kernel holds{}):\n",
                     a.measured ? "Estimate, for comparison" : "Estimate", a.measured ? "" : "; no measured run");
  for (const auto& term : a.estimate)
    out += fmt::format("  {:>10}  {:<20} {}\n", human_size(term.bytes), term.what, term.why);
  out += fmt::format("  {:>10}  total (+1/64 for the struct pages of the reservation itself{})\n",
                     human_size(a.estimate_total + a.estimate_total / 63),
                     a.measured ? "" : ", then rounded up to 16 MiB");
  out +=
      "  These terms do not all peak at once (the packed initramfs is freed when unpacked; init_size includes\n"
      "  decompression room), so the estimate errs high. For a tighter size, arm capture, crash a test\n"
      "  machine (echo c > /proc/sysrq-trigger) and run --recommend on the saved dump's directory.\n";
  out += fmt::format(
      "\nDistribution default for this RAM: crashkernel={} (SUSE's table: 256M up to 12 GB, 512M to 48 GB, 768M "
      "above) -- a default, not a measurement.\n",
      a.distribution_default);
  for (const auto& note : a.notes) out += fmt::format("note: {}\n", note);
  return out;
}

nlohmann::json advice_json(const CrashkernelAdvice& a) {
  auto optional = [](const std::optional<uint64_t>& value) -> nlohmann::json {
    if (!value) return nullptr;
    return *value;
  };
  nlohmann::json estimate = nlohmann::json::array();
  for (const auto& term : a.estimate)
    estimate.push_back({{"what", term.what}, {"bytes", term.bytes}, {"why", term.why}});
  nlohmann::json measured = nullptr;
  if (a.measured) {
    const auto& m = *a.measured;
    measured = {{"file", m.file},
                {"mem_total", m.mem_total},
                {"mem_available", m.mem_available},
                {"reservation", optional(m.reservation)},
                {"dump_peak", optional(m.dump_peak)}};
  }
  return {{"recommended", a.recommended},
          {"crashkernel", "crashkernel=" + crashkernel_size(a.recommended)},
          {"ram", a.ram},
          {"current", optional(a.current)},
          {"estimate", std::move(estimate)},
          {"estimate_sum", a.estimate_total},
          // As the text prints it: the sum plus the reservation's own struct pages.
          {"estimate_total", a.estimate_total + a.estimate_total / 63},
          {"measured", std::move(measured)},
          {"measured_need", a.measured ? nlohmann::json(a.measured_need) : nlohmann::json(nullptr)},
          {"margin_percent", kMarginPercent},
          {"distribution_default", a.distribution_default},
          {"notes", a.notes}};
}

}  // namespace kdive::capture
