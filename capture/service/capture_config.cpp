#include "capture/service/capture_config.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace kdive::capture {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::optional<long> parse_int(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::optional<AfterSave> parse_action(std::string_view s) {
  if (s == "reboot") return AfterSave::Reboot;
  if (s == "halt") return AfterSave::Halt;
  if (s == "shell") return AfterSave::Shell;
  if (s == "poweroff") return AfterSave::Poweroff;
  return std::nullopt;
}

// A value that is written back verbatim must stay one line: a newline in a
// path would split it into two settings on the way into the initramfs.
void check_one_line(const std::string& key, const std::string& value) {
  if (value.find('\n') != std::string::npos) throw ConfigError(fmt::format("{}: value holds a newline", key));
}

}  // namespace

std::string_view after_save_name(AfterSave a) {
  switch (a) {
    case AfterSave::Reboot:
      return "reboot";
    case AfterSave::Halt:
      return "halt";
    case AfterSave::Shell:
      return "shell";
    case AfterSave::Poweroff:
      return "poweroff";
  }
  return "reboot";
}

std::optional<uint64_t> parse_config_size(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  uint64_t unit = 1;
  char last = text.back();
  switch (last) {
    case 'k':
    case 'K':
      unit = 1ull << 10;
      break;
    case 'm':
    case 'M':
      unit = 1ull << 20;
      break;
    case 'g':
    case 'G':
      unit = 1ull << 30;
      break;
    case 't':
    case 'T':
      unit = 1ull << 40;
      break;
    default:
      break;
  }
  if (unit != 1) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  int dots = 0;
  for (char c : text) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return std::nullopt;
    }
  }
  if (dots > 1 || text.front() == '.' || text.back() == '.') return std::nullopt;
  double v = std::strtod(std::string(text).c_str(), nullptr) * static_cast<double>(unit);
  if (!std::isfinite(v) || v >= 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(v);
}

std::string compression_flag(std::string_view compression) {
  if (compression == "zlib") return "-c";
  if (compression == "lzo") return "-l";
  if (compression == "snappy") return "-p";
  if (compression == "zstd") return "-z";
  return "";
}

CaptureConfig parse_capture_config(std::string_view text, std::string_view origin) {
  CaptureConfig c;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    auto fail = [&](const std::string& why) { throw ConfigError(fmt::format("{}:{}: {}", origin, line_no, why)); };
    // A '#' starts a comment only at the start of a line or after blanks, so
    // a pipe command may still hold one inside a word.
    size_t hash = line.find('#');
    while (hash != std::string_view::npos && hash > 0 && line[hash - 1] != ' ' && line[hash - 1] != '\t') {
      hash = line.find('#', hash + 1);
    }
    line = trim(line.substr(0, hash));
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) fail(fmt::format("'{}' is not 'key = value'", line));
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    auto need_int = [&](long lo, long hi) {
      auto v = parse_int(value);
      if (!v || *v < lo || *v > hi)
        fail(fmt::format("{} must be a number from {} to {}, not '{}'", key, lo, hi, value));
      return static_cast<int>(*v);
    };
    if (key == "savedir") {
      if (value.empty() || value.front() != '/') fail(fmt::format("savedir must be an absolute path, not '{}'", value));
      c.savedir = value;
    } else if (key == "device") {
      c.device = value;
    } else if (key == "fstype") {
      c.fstype = value;
    } else if (key == "dump_level") {
      c.dump_level = need_int(0, 31);
    } else if (key == "compression") {
      if (value != "none" && compression_flag(value).empty()) {
        fail(fmt::format("compression must be zlib, lzo, snappy, zstd or none, not '{}'", value));
      }
      c.compression = value;
    } else if (key == "keep_old_dumps") {
      c.keep_old_dumps = need_int(0, 100000);
    } else if (key == "min_free") {
      auto v = parse_config_size(value);
      if (!v) fail(fmt::format("min_free must be a size such as 512M or 2G, not '{}'", value));
      c.min_free_bytes = *v;
    } else if (key == "post_save_hook") {
      c.post_save_hook = value;
    } else if (key == "action") {
      auto a = parse_action(value);
      if (!a) fail(fmt::format("action must be reboot, halt, shell or poweroff, not '{}'", value));
      c.action = *a;
    } else if (key == "modules") {
      c.modules = words(value);
    } else if (key == "target") {
      if (!value.empty() && value.rfind("pipe:", 0) != 0) {
        fail(fmt::format("target must be empty (save to disk) or pipe:COMMAND, not '{}'", value));
      }
      if (value == "pipe:" || (value.size() > 5 && words(value.substr(5)).empty())) {
        fail("target pipe: names no command");
      }
      c.target = value;
    } else if (key == "copy_target") {
      // Only a pipe: the capture kernel mounts one device, the target's.
      if (!value.empty() && value.rfind("pipe:", 0) != 0) {
        fail(fmt::format("copy_target must be empty or pipe:COMMAND, not '{}'", value));
      }
      if (value == "pipe:" || (value.size() > 5 && words(value.substr(5)).empty())) {
        fail("copy_target pipe: names no command");
      }
      c.copy_target = value;
    } else if (key == "copy_dump_level") {
      c.copy_dump_level = need_int(0, 31);
    } else if (key == "kernel") {
      c.kernel = value;
    } else if (key == "kernel_cmdline") {
      c.kernel_cmdline = value;
    } else if (key == "initramfs") {
      if (value.empty() || value.front() != '/')
        fail(fmt::format("initramfs must be an absolute path, not '{}'", value));
      c.initramfs = value;
    } else if (key == "initramfs_compression") {
      if (value != "gzip" && value != "none")
        fail(fmt::format("initramfs_compression must be gzip or none, not '{}'", value));
      c.initramfs_gzip = value == "gzip";
    } else if (key == "device_timeout") {
      c.device_timeout = need_int(0, 3600);
    } else if (key == "hostname") {
      c.hostname = value;
    } else {
      fail(fmt::format("unknown setting '{}'", key));
    }
  }
  return c;
}

CaptureConfig load_capture_config(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && !ec) return CaptureConfig{};
  if (std::filesystem::is_directory(path, ec)) throw ConfigError(fmt::format("{}: is a directory", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(fmt::format("{}: read error", path));
  return parse_capture_config(text.str(), path);
}

std::string format_capture_config(const CaptureConfig& c) {
  std::string out = "# kdive capture settings (see kdive-capture --help)\n";
  auto put = [&](std::string_view key, const std::string& value) {
    check_one_line(std::string(key), value);
    if (!value.empty()) out += fmt::format("{} = {}\n", key, value);
  };
  put("savedir", c.savedir);
  put("device", c.device);
  put("fstype", c.fstype);
  put("dump_level", std::to_string(c.dump_level));
  put("compression", c.compression);
  put("keep_old_dumps", std::to_string(c.keep_old_dumps));
  put("min_free", std::to_string(c.min_free_bytes));
  put("post_save_hook", c.post_save_hook);
  put("action", std::string(after_save_name(c.action)));
  std::string mods;
  for (const auto& m : c.modules) mods += (mods.empty() ? "" : " ") + m;
  put("modules", mods);
  put("target", c.target);
  put("copy_target", c.copy_target);
  if (c.copy_dump_level >= 0) put("copy_dump_level", std::to_string(c.copy_dump_level));
  put("kernel", c.kernel);
  put("kernel_cmdline", c.kernel_cmdline);
  put("initramfs", c.initramfs);
  put("initramfs_compression", c.initramfs_gzip ? "gzip" : "none");
  put("device_timeout", std::to_string(c.device_timeout));
  put("hostname", c.hostname);
  return out;
}

}  // namespace kdive::capture
