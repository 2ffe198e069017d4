#include "capture/service/capture_load.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "capture/service/capture_initramfs.hpp"
#include "capture/service/process.hpp"

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InitramfsError(fmt::format("{}: cannot read", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Written under a temporary name and renamed when complete: a crash during
// `load` must not leave a half-written initramfs that a later load reuses.
void write_atomically(const std::string& path, const std::vector<std::byte>& data) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    throw InitramfsError(fmt::format("{}: cannot create: {}", fs::path(path).parent_path().string(), ec.message()));
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      throw InitramfsError(fmt::format("{}: write error", tmp));
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) throw InitramfsError(fmt::format("{}: cannot rename into place: {}", path, ec.message()));
}

std::string this_host() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) == 0 && buf[0] && std::string(buf) != "(none)") return buf;
  return "localhost";
}

}  // namespace

CaptureConfig capture_kernel_config(const CaptureConfig& config, const std::string& mounts_text,
                                    const std::string& hostname) {
  CaptureConfig c = config;
  c.hostname = hostname;
  if (c.pipe_target() || !c.device.empty()) return c;
  std::error_code ec;
  std::string dir = fs::weakly_canonical(config.savedir, ec).string();
  if (ec) dir = config.savedir;
  SaveLocation where = locate_directory(dir, mounts_text);
  if (where.device.empty()) {
    throw ConfigError(fmt::format(
        "{} is on {} ({}), which the capture kernel cannot mount: set device = and fstype = in the config, or "
        "target = pipe:COMMAND",
        config.savedir, where.mount_point.empty() ? "no mounted file system" : where.mount_point,
        where.fstype.empty() ? "unknown" : where.fstype));
  }
  c.device = where.device;
  c.fstype = where.fstype;
  c.savedir = where.relative;
  return c;
}

int load_capture(const CaptureConfig& config, const LoadOptions& o, std::ostream& out, std::ostream& err) {
  try {
    std::string release = o.release;
    if (release.empty()) {
      struct utsname u {};
      uname(&u);
      release = u.release;
    }
    std::string kernel = config.kernel.empty() ? "/boot/vmlinuz-" + release : config.kernel;
    std::error_code ec;
    if (!fs::is_regular_file(kernel, ec)) {
      err << fmt::format("kdive-capture: capture kernel {} not found (set kernel = in the config)\n", kernel);
      return 1;
    }
    InitramfsPlan plan;
    plan.capture_program = self_executable();
    plan.dump_program = find_program("kdive-dump");
    if (plan.dump_program.empty()) {
      err << "kdive-capture: kdive-dump not found beside kdive-capture or in PATH\n";
      return 1;
    }
    std::string kexec = find_program("kdive-kexec");
    if (kexec.empty() && !o.build_only) {
      err << "kdive-capture: kdive-kexec not found beside kdive-capture or in PATH\n";
      return 1;
    }
    plan.config = capture_kernel_config(config, read_text(o.mounts), this_host());
    // A pipe command runs without a shell (split at blanks, exec'd through
    // PATH): its program, with its libraries or script interpreter, is all
    // the capture initramfs needs to carry for it.
    for (const auto& [key, target] : {std::pair{"target", config.target}, {"copy_target", config.copy_target}}) {
      if (target.rfind("pipe:", 0) != 0) continue;
      auto words = split_command(target.substr(5));
      std::string prog = find_program(words.at(0));
      if (prog.empty()) {
        err << fmt::format("kdive-capture: {} (of {} = {}) not found in PATH\n", words[0], key, target);
        return 1;
      }
      // kdive-capture itself (its write command) is there already.
      if (prog != plan.capture_program && prog != plan.dump_program) plan.extra_programs.push_back(prog);
    }
    if (!config.post_save_hook.empty()) {
      std::string hook = split_command(config.post_save_hook).at(0);
      std::string prog = find_program(hook);
      if (prog.empty()) {
        err << fmt::format("kdive-capture: post_save_hook {} not found\n", hook);
        return 1;
      }
      plan.extra_programs.push_back(prog);
    }
    plan.modules = resolve_modules(config.modules, release, o.modules_root);
    plan.gzip = config.initramfs_gzip;
    std::vector<std::string> listing;
    auto image = build_capture_initramfs(plan, LibrarySearch::system(), o.verbose ? &listing : nullptr);
    write_atomically(config.initramfs, image);
    for (const auto& line : listing) out << "  " << line << '\n';
    out << fmt::format("kdive-capture: capture initramfs {} ({:.1f} MiB{}, {} modules)\n", config.initramfs,
                       image.size() / 1048576.0, plan.gzip ? ", gzip" : "", plan.modules.size());
    out << fmt::format("kdive-capture: the capture kernel saves to {}\n",
                       plan.config.pipe_target()
                           ? plan.config.target
                           : fmt::format("{} on {} ({})", plan.config.savedir, plan.config.device, plan.config.fstype));
    if (!plan.config.copy_target.empty())
      out << fmt::format("kdive-capture: and a copy to {}\n", plan.config.copy_target);
    if (o.build_only) return 0;
    std::vector<std::string> argv{kexec, "-p", kernel, "--initrd", config.initramfs};
    if (!config.kernel_cmdline.empty()) {
      argv.push_back("--command-line");
      argv.push_back(config.kernel_cmdline);
    }
    int rc = run_program(argv);
    if (rc != 0) {
      err << fmt::format("kdive-capture: kdive-kexec -p {}: {}\n", kernel, describe_status(rc));
      return 1;
    }
    out << fmt::format("kdive-capture: armed: {} loaded as the crash kernel\n", kernel);
    return 0;
  } catch (const std::exception& e) {
    err << "kdive-capture: " << e.what() << '\n';
    return 1;
  }
}

}  // namespace kdive::capture
