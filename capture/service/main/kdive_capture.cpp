// kdive-capture: the capture service (the kdump init scripts' job) — `load`
// arms capture in the first kernel, `save` runs in the capture kernel,
// `status` says whether a crash would be captured. Run as PID 1 (the capture
// initramfs's /init) it mounts, loads modules, saves and acts by itself.
#include <unistd.h>

#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "capture/service/capture_config.hpp"
#include "capture/service/capture_init.hpp"
#include "capture/service/capture_load.hpp"
#include "capture/service/capture_save.hpp"
#include "capture/service/capture_status.hpp"
#include "capture/service/process.hpp"

namespace {

using namespace kdive::capture;

const char* kHelp = R"(usage: kdive-capture [--config FILE] COMMAND [OPTIONS]

The kdive capture service: arms kdump-style crash capture with kdive-kexec and
saves the crashed kernel's memory with kdive-dump.

Commands:
  load      (first kernel) build the capture initramfs — kdive-capture as its
            /init, kdive-dump, their libraries, the save target's modules and
            this config — and load it with the capture kernel (kdive-kexec -p).
            --build-only   write the initramfs, do not load it
            --verbose      list what goes into the initramfs
  save      (capture kernel) save /proc/vmcore to <savedir>/<host>-<date>/vmcore
            with dmesg.txt and capture-meminfo.txt (or stream it to a pipe:
            target), keep at most keep_old_dumps old dumps, refuse when less
            than min_free would remain, run post_save_hook, then the action.
            --vmcore FILE  another source (then no action is taken)
            --no-action    save only
            --json         the result as JSON on stdout (below)
  status    say whether capture is armed, and every reason it is not
            (exit 0 armed, 1 not armed); --json: as JSON (below)
  write PATH  copy standard input to PATH, which must exist (waiting up to
            device_timeout for it): a pipe: target that needs no other
            program, e.g. pipe:kdive-capture write /dev/vport0p1

With --json (after status or save), one JSON object on stdout,
{"command": "kdive-capture status", "result": {...}} (or "error": "..."
when the config cannot be read), the same facts as the text, sizes in bytes,
null for what cannot be read:
  status    armed, reserved_bytes, loaded, cmdline_has_crashkernel, target,
            free_bytes, problems [lines], notes [lines]
  save      ok, pipe, source, target, dump_dir, files [completed, in the
            order written], warnings [lines], error (null when ok), copy
            (null, or ok and error of the copy_target stream); the log
            lines still go to stderr

Options:
  --config FILE   settings (default /etc/kdive/capture.conf; defaults if absent)
  -h, --help      this text

Settings (key = value, # comments):
  savedir = /var/crash           dump directory (default /var/crash)
  device = /dev/sdb1             what holds savedir in the capture kernel
  fstype = ext4                  (both found from the mounts when unset)
  dump_level = 31                0..31, as makedumpfile -d
  compression = zlib             zlib | lzo | snappy | zstd | none
  keep_old_dumps = 5             old dumps kept; 0 keeps all
  min_free = 512M                free space that must remain after saving
  post_save_hook = /usr/local/sbin/notify   run with the dump directory
  action = reboot                reboot | halt | shell | poweroff
  modules = virtio_ring virtio virtio_pci virtio_blk   loaded in this order
  target = pipe:ssh crash@vault kdive-dump -R /srv/crash/{name}.vmcore
                                 (one program and its arguments, no shell;
                                 {name} is the dump's <host>-<date> name)
  copy_target = pipe:COMMAND     after the save, stream a second copy there
  copy_dump_level = 31           its level (default: dump_level)
  kernel = /boot/vmlinuz-6.1.0-57-amd64   (default: the running release's)
  kernel_cmdline = ...           (default: kdive-kexec's)
  initramfs = /var/lib/kdive/capture-initramfs.img
  initramfs_compression = gzip   gzip | none
  device_timeout = 60            seconds to wait for the device

Examples:
  kdive-capture status
  kdive-capture status --json
  kdive-capture load --verbose
  kdive-capture --config /etc/kdive/remote.conf load
  kdive-capture save --vmcore /var/tmp/vmcore.copy --no-action
)";

int usage_error(const std::string& what) {
  std::cerr << "kdive-capture: " << what << " (see kdive-capture --help)\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // The capture initramfs runs this program as /init.
  if (getpid() == 1) run_as_init();

  std::vector<std::string> args(argv + 1, argv + argc);
  std::string config_path = kDefaultConfigPath;
  std::string command;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    } else if (a == "--config") {
      if (i + 1 >= args.size()) return usage_error("--config needs a file");
      config_path = args[++i];
    } else if (command.empty() && !a.starts_with("-")) {
      command = a;
    } else if (!command.empty()) {
      rest.push_back(a);
    } else {
      return usage_error("unknown option " + a);
    }
  }
  if (command.empty()) return usage_error("no command (load, save, status or write)");
  const bool json = std::erase(rest, std::string("--json")) > 0;
  if (json && command != "status" && command != "save") return usage_error("--json goes with status or save");
  const std::string json_command = "kdive-capture " + command;

  CaptureConfig config;
  try {
    config = load_capture_config(config_path);
  } catch (const ConfigError& e) {
    if (json) std::cout << nlohmann::json{{"command", json_command}, {"error", e.what()}}.dump() << '\n';
    std::cerr << "kdive-capture: " << e.what() << '\n';
    return 2;
  }

  if (command == "status") {
    if (!rest.empty()) return usage_error("status takes no options but --json");
    CaptureStatus s = read_capture_status(config, "");
    if (json) {
      std::cout << nlohmann::json{{"command", json_command}, {"result", capture_status_json(s)}}.dump() << '\n';
    } else {
      std::cout << format_capture_status(s);
    }
    return s.armed() ? 0 : 1;
  }
  if (command == "load") {
    LoadOptions o;
    for (const auto& a : rest) {
      if (a == "--build-only") {
        o.build_only = true;
      } else if (a == "--verbose" || a == "-v") {
        o.verbose = true;
      } else {
        return usage_error("load: unknown option " + a);
      }
    }
    return load_capture(config, o, std::cout, std::cerr);
  }
  if (command == "write") {
    if (rest.size() != 1) return usage_error("write takes one argument, the file or device to write");
    std::string problem = write_stream_to(STDIN_FILENO, rest[0], config.device_timeout);
    if (!problem.empty()) {
      std::cerr << "kdive-capture: write: " << problem << '\n';
      return 1;
    }
    return 0;
  }
  if (command == "save") {
    SaveOptions o;
    bool act = true;
    for (size_t i = 0; i < rest.size(); ++i) {
      if (rest[i] == "--no-action") {
        act = false;
      } else if (rest[i] == "--vmcore") {
        if (i + 1 >= rest.size()) return usage_error("--vmcore needs a file");
        o.vmcore = rest[++i];
        act = false;  // a copy on a running system: never reboot it
      } else {
        return usage_error("save: unknown option " + rest[i]);
      }
    }
    o.dump_program = find_program("kdive-dump");
    // With --json, stdout holds the JSON alone: what the programs save runs
    // print there (kdive-dump's report) goes to stderr with the log.
    int json_out = -1;
    if (json) {
      std::cout.flush();
      json_out = dup(STDOUT_FILENO);
      if (json_out >= 0) dup2(STDERR_FILENO, STDOUT_FILENO);
    }
    SaveResult r = save_dump(config, o, std::cerr);
    if (!r.ok) std::cerr << "kdive-capture: save failed: " << r.error << '\n';
    if (!r.copy_error.empty()) std::cerr << "kdive-capture: copy failed: " << r.copy_error << '\n';
    if (json_out >= 0) {
      dup2(json_out, STDOUT_FILENO);
      close(json_out);
    }
    if (json) std::cout << nlohmann::json{{"command", json_command}, {"result", save_result_json(r)}}.dump() << '\n';
    std::cout.flush();
    if (act) {
      perform_action(config.action);
      std::cerr << "kdive-capture: " << after_save_name(config.action) << " failed: " << std::strerror(errno) << '\n';
      return 1;
    }
    return r.ok && r.copy_error.empty() ? 0 : 1;
  }
  return usage_error("unknown command " + command);
}
