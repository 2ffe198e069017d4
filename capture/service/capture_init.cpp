#include "capture/service/capture_init.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <thread>

#include "capture/service/capture_initramfs.hpp"
#include "capture/service/capture_save.hpp"
#include "capture/service/process.hpp"

namespace kdive::capture {
namespace {

void say(const std::string& line) { std::cerr << "kdive-capture: " << line << std::endl; }

void mount_or_say(const char* source, const char* target, const char* type) {
  ::mkdir(target, 0755);
  if (::mount(source, target, type, 0, nullptr) != 0 && errno != EBUSY) {
    say(fmt::format("mounting {} on {}: {}", type, target, std::strerror(errno)));
  }
}

// The device node appears once its driver has probed it (asynchronously,
// after insmod returns): poll for it.
bool wait_for(const std::string& path, int seconds) {
  for (int i = 0; i <= seconds * 10; ++i) {
    if (::access(path.c_str(), F_OK) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// When the save device cannot be used, a copy_target still gets the dump:
// it is then the only copy, streamed as the target.
bool copy_only(const CaptureConfig& config) {
  if (config.copy_command().empty()) return false;
  CaptureConfig c = config;
  c.target = config.copy_target;
  if (config.copy_dump_level >= 0) c.dump_level = config.copy_dump_level;
  c.copy_target.clear();
  say("saving to copy_target only");
  SaveOptions o;
  o.dump_program = find_program("kdive-dump");
  SaveResult r = save_dump(c, o, std::cerr);
  if (!r.ok) say("copy failed: " + r.error);
  return r.ok;
}

bool save(const CaptureConfig& config) {
  SaveOptions o;
  o.dump_program = find_program("kdive-dump");
  if (!config.pipe_target() && !config.device.empty()) {
    if (!wait_for(config.device, config.device_timeout)) {
      say(fmt::format("{} did not appear within {} s (device_timeout): not saving there", config.device,
                      config.device_timeout));
      return copy_only(config);
    }
    ::mkdir(kTargetMount, 0755);
    std::string type = config.fstype.empty() ? "ext4" : config.fstype;
    if (::mount(config.device.c_str(), kTargetMount, type.c_str(), 0, nullptr) != 0) {
      say(fmt::format("mounting {} ({}) on {}: {}: not saving there", config.device, type, kTargetMount,
                      std::strerror(errno)));
      return copy_only(config);
    }
    o.savedir_root = kTargetMount;
  } else if (!config.pipe_target()) {
    say(fmt::format("no device = in the config: {} is in the capture kernel's memory and would be lost",
                    config.savedir));
    return copy_only(config);
  }
  SaveResult r = save_dump(config, o, std::cerr);
  if (!r.ok) say("save failed: " + r.error);
  if (!r.copy_error.empty()) say("copy failed: " + r.copy_error);
  if (!o.savedir_root.empty()) {
    ::sync();
    if (::umount(kTargetMount) != 0) say(fmt::format("unmounting {}: {}", kTargetMount, std::strerror(errno)));
  }
  return r.ok;
}

}  // namespace

bool load_module_file(const std::string& path, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    why = std::strerror(errno);
    return false;
  }
  long rc = ::syscall(SYS_finit_module, fd, "", 0);
  int err = errno;
  ::close(fd);
  if (rc == 0 || err == EEXIST) return true;
  why = std::strerror(err);
  return false;
}

void perform_action(AfterSave action) {
  ::sync();
  switch (action) {
    case AfterSave::Shell:
      if (::access("/bin/sh", X_OK) == 0) {
        say("starting /bin/sh (action = shell)");
        ::execl("/bin/sh", "sh", static_cast<char*>(nullptr));
      }
      say("no /bin/sh in the capture initramfs: halting instead");
      ::reboot(RB_HALT_SYSTEM);
      break;
    case AfterSave::Halt:
      ::reboot(RB_HALT_SYSTEM);
      break;
    case AfterSave::Poweroff:
      ::reboot(RB_POWER_OFF);
      break;
    case AfterSave::Reboot:
      ::reboot(RB_AUTOBOOT);
      break;
  }
}

void run_as_init() {
  ::setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
  mount_or_say("proc", "/proc", "proc");
  mount_or_say("sysfs", "/sys", "sysfs");
  mount_or_say("devtmpfs", "/dev", "devtmpfs");
  say("capture kernel started");
  CaptureConfig config;
  bool have_config = true;
  try {
    config = load_capture_config(std::string("/") + kArchiveConfigPath);
  } catch (const std::exception& e) {
    say(e.what());
    have_config = false;
  }
  for (const auto& m : config.modules) {
    std::string why;
    if (!load_module_file(m, why)) say(fmt::format("insmod {}: {}", m, why));
  }
  if (have_config) save(config);
  say(fmt::format("{} (action)", after_save_name(config.action)));
  perform_action(config.action);
  say(fmt::format("{} failed: {}", after_save_name(config.action), std::strerror(errno)));
  // PID 1 must not exit.
  for (;;) ::pause();
}

}  // namespace kdive::capture
