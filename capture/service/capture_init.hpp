// kdive-capture as the capture kernel's /init: mounts /proc, /sys and
// devtmpfs, loads the configured modules in order, waits for and mounts the
// save device, saves the dump (capture_save), then performs the action after
// saving. PID 1 must never exit (the kernel panics), so every failure is
// reported on the console and the action still happens — a machine that
// cannot save must still come back up.
//
//   if (getpid() == 1) run_as_init();   // never returns
#pragma once

#include "capture/service/capture_config.hpp"

namespace kdive::capture {

[[noreturn]] void run_as_init();

// sync, then reboot / halt / power off, or exec /bin/sh for "shell" (halt
// when the initramfs has none). Returns only if the reboot call failed
// (not root): the caller reports it.
void perform_action(AfterSave action);

// Loads one kernel module from a file (finit_module); true if loaded or
// already present; WHY says what went wrong otherwise.
bool load_module_file(const std::string& path, std::string& why);

}  // namespace kdive::capture
