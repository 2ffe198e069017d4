#include "capture/service/capture_initramfs.hpp"

#include <fmt/format.h>
#include <lzma.h>
#include <sys/stat.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "capture/service/cpio_writer.hpp"

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InitramfsError(fmt::format("{}: cannot read", path));
  std::vector<char> text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InitramfsError(fmt::format("{}: read error", path));
  std::vector<std::byte> out(text.size());
  std::memcpy(out.data(), text.data(), text.size());
  return out;
}

std::vector<std::byte> unxz(const std::vector<std::byte>& in, const std::string& what) {
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) throw InitramfsError("xz: out of memory");
  std::vector<std::byte> out;
  std::byte buf[1 << 16];
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  lzma_ret rc;
  do {
    s.next_out = reinterpret_cast<uint8_t*>(buf);
    s.avail_out = sizeof buf;
    rc = lzma_code(&s, LZMA_FINISH);
    out.insert(out.end(), buf, buf + (sizeof buf - s.avail_out));
  } while (rc == LZMA_OK);
  lzma_end(&s);
  if (rc != LZMA_STREAM_END) throw InitramfsError(fmt::format("{}: not a valid xz stream", what));
  return out;
}

std::vector<std::byte> unzstd(const std::vector<std::byte>& in, const std::string& what) {
  ZSTD_DStream* d = ZSTD_createDStream();
  std::vector<std::byte> out;
  std::byte buf[1 << 16];
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t rc = 1;
  while (input.pos < input.size || rc != 0) {
    ZSTD_outBuffer output{buf, sizeof buf, 0};
    rc = ZSTD_decompressStream(d, &output, &input);
    if (ZSTD_isError(rc) || (output.pos == 0 && input.pos == input.size && rc != 0)) {
      ZSTD_freeDStream(d);
      throw InitramfsError(fmt::format("{}: not a valid zstd stream", what));
    }
    out.insert(out.end(), buf, buf + output.pos);
  }
  ZSTD_freeDStream(d);
  return out;
}

std::string module_key(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// "virtio_blk.ko.xz" -> "virtio_blk"; empty if not a module file name.
std::string module_name_of(const std::string& file) {
  size_t at = file.find(".ko");
  if (at == std::string::npos) return "";
  std::string rest = file.substr(at);
  if (rest != ".ko" && rest != ".ko.xz" && rest != ".ko.zst" && rest != ".ko.gz") return "";
  return module_key(file.substr(0, at));
}

ModuleFile load_module(const std::string& path) {
  ModuleFile m;
  m.source = path;
  std::string file = fs::path(path).filename().string();
  m.name = module_name_of(file);
  if (m.name.empty()) throw InitramfsError(fmt::format("{}: not a kernel module file name (.ko[.xz|.zst|.gz])", path));
  auto raw = read_file(path);
  if (file.ends_with(".xz")) {
    m.data = unxz(raw, path);
  } else if (file.ends_with(".zst")) {
    m.data = unzstd(raw, path);
  } else if (file.ends_with(".gz")) {
    try {
      m.data = gunzip_bytes(raw);
    } catch (const CpioError&) {
      throw InitramfsError(fmt::format("{}: not a valid gzip stream", path));
    }
  } else {
    m.data = std::move(raw);
  }
  if (m.data.size() < 4 || std::memcmp(m.data.data(),
                                       "\x7f"
                                       "ELF",
                                       4) != 0) {
    throw InitramfsError(fmt::format("{}: not an ELF kernel module", path));
  }
  return m;
}

void add_file_from_disk(CpioWriter& cpio, const std::string& path, std::vector<std::string>* listing) {
  if (cpio.contains(path)) return;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InitramfsError(fmt::format("{}: {}", path, std::strerror(errno)));
  auto data = read_file(path);
  cpio.file(path, data, st.st_mode & 0755);
  if (listing) listing->push_back(fmt::format("{} ({} bytes)", path, data.size()));
}

}  // namespace

std::vector<ModuleFile> resolve_modules(const std::vector<std::string>& names, const std::string& release,
                                        const std::string& modules_root) {
  std::vector<ModuleFile> out;
  std::map<std::string, std::string> index;  // module name -> file, built on first need
  bool indexed = false;
  for (const auto& name : names) {
    if (name.find('/') != std::string::npos) {
      out.push_back(load_module(name));
      continue;
    }
    if (!indexed) {
      indexed = true;
      std::error_code ec;
      fs::path root = fs::path(modules_root) / release;
      for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string key = module_name_of(it->path().filename().string());
        if (!key.empty()) index.emplace(key, it->path().string());
      }
    }
    auto hit = index.find(module_key(name));
    if (hit == index.end()) {
      throw InitramfsError(
          fmt::format("module {} not found under {}/{} (give its path in modules =)", name, modules_root, release));
    }
    out.push_back(load_module(hit->second));
  }
  return out;
}

std::vector<std::byte> build_capture_initramfs(InitramfsPlan plan, const LibrarySearch& search,
                                               std::vector<std::string>* listing) {
  CpioWriter cpio;
  for (const char* d : {"dev", "proc", "sys", "tmp", "run", "etc/kdive", "usr/sbin"}) cpio.directory(d);
  cpio.directory(std::string(kTargetMount).substr(1));
  // The kernel opens /dev/console for init's stdio before devtmpfs is mounted.
  cpio.char_device("dev/console", 5, 1);

  auto add_program = [&](const std::string& path, const std::string& as) {
    auto data = read_file(path);
    cpio.file(as, data, 0755);
    if (listing) listing->push_back(fmt::format("{} <- {} ({} bytes)", as, path, data.size()));
  };
  add_program(plan.capture_program, "usr/sbin/kdive-capture");
  add_program(plan.dump_program, "usr/sbin/kdive-dump");
  cpio.symlink("init", "usr/sbin/kdive-capture");

  std::vector<std::string> elves{plan.capture_program, plan.dump_program};
  for (const auto& p : plan.extra_programs) {
    std::string interp = script_interpreter(p);
    add_file_from_disk(cpio, p, listing);
    elves.push_back(p);
    if (!interp.empty()) {
      add_file_from_disk(cpio, interp, listing);
      elves.push_back(interp);
    }
  }
  for (const auto& lib : runtime_closure(elves, search)) add_file_from_disk(cpio, lib, listing);

  std::vector<std::string> module_paths;
  int n = 0;
  for (const auto& m : plan.modules) {
    std::string as = fmt::format("lib/modules/kdive/{:02}-{}.ko", n++, m.name);
    cpio.file(as, m.data, 0644);
    module_paths.push_back("/" + as);
    if (listing) listing->push_back(fmt::format("{} <- {} ({} bytes)", as, m.source, m.data.size()));
  }
  plan.config.modules = module_paths;
  cpio.file(kArchiveConfigPath, format_capture_config(plan.config), 0644);

  auto archive = cpio.finish();
  return plan.gzip ? gzip_bytes(archive) : archive;
}

SaveLocation locate_directory(const std::string& directory, const std::string& mounts_text) {
  SaveLocation best;
  std::istringstream lines(mounts_text);
  // /proc/self/mounts escapes blanks in paths as \040.
  auto unescape = [](std::string s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
        out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
        i += 3;
      } else {
        out += s[i];
      }
    }
    return out;
  };
  for (std::string line; std::getline(lines, line);) {
    std::istringstream f(line);
    std::string dev, mnt, type;
    if (!(f >> dev >> mnt >> type)) continue;
    mnt = unescape(mnt);
    bool inside = mnt == "/" || directory == mnt || directory.rfind(mnt + "/", 0) == 0;
    // The last mount on a path wins (it hides earlier ones), so >= not >.
    if (inside && mnt.size() >= best.mount_point.size()) {
      best.mount_point = mnt;
      best.fstype = type;
      best.device = dev.rfind("/dev/", 0) == 0 ? unescape(dev) : "";
    }
  }
  if (best.mount_point.empty()) return best;
  std::string rest = best.mount_point == "/" ? directory : directory.substr(best.mount_point.size());
  best.relative = rest.empty() ? "/" : rest;
  return best;
}

}  // namespace kdive::capture
