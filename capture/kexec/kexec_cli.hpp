// The kdive-kexec command line: parses the arguments (kexec-tools' options
// where they exist: -l, -p, -u, -e, --initrd, --append, --reuse-cmdline,
// --command-line) and runs the action against a SystemRoot and a
// KexecSystem, so that tests run the whole program on a fake tree with
// injected errno values.
//
//   LinuxKexecSystem system;
//   int status = run_kexec_cli({"-p", "/boot/vmlinuz", "--initrd", "/boot/capture.img"},
//                              SystemRoot(), system, std::cout, std::cerr);
//
// Exit status: 0 done, 1 the action failed (one "kdive-kexec: error: …" line
// on ERR), 2 a usage error.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "capture/kexec/kexec_system.hpp"
#include "capture/kexec/system_root.hpp"

namespace kdive::capture {

int run_kexec_cli(std::span<const std::string> args, const SystemRoot& root, KexecSystem& system, std::ostream& out,
                  std::ostream& err);

// The --help text.
std::string kexec_help();

}  // namespace kdive::capture
