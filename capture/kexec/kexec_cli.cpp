// kdive-kexec's options and actions.
#include "capture/kexec/kexec_cli.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/kexec/crashkernel_advice.hpp"
#include "capture/kexec/kexec_error.hpp"
#include "capture/kexec/kexec_loader.hpp"
#include "capture/kexec/kexec_status.hpp"

namespace kdive::capture {

namespace {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Options {
  bool load = false;       // -l
  bool panic = false;      // -p
  bool unload = false;     // -u
  bool exec = false;       // -e
  bool status = false;     // --status
  bool recommend = false;  // --recommend
  bool force = false;      // --force
  bool json = false;       // --json (with --status or --recommend)
  bool help = false;
  bool reuse = false;  // --reuse-cmdline
  std::optional<std::string> initrd;
  std::optional<std::string> command_line;
  std::optional<std::string> kernel_option;  // --kernel (for --recommend)
  std::vector<std::string> append;
  std::vector<std::string> positional;
};

Options parse(std::span<const std::string> args) {
  Options o;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::optional<std::string> inline_value;
    if (arg.rfind("--", 0) == 0 && arg.find('=') != std::string::npos) {
      inline_value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
    }
    auto value = [&]() -> std::string {
      if (inline_value) return *inline_value;
      if (i + 1 >= args.size()) throw UsageError(fmt::format("{} needs a value", arg));
      return args[++i];
    };
    auto no_value = [&] {
      if (inline_value) throw UsageError(fmt::format("{} takes no value", arg));
    };
    if (arg == "-l" || arg == "--load") {
      no_value();
      o.load = true;
    } else if (arg == "-p" || arg == "--load-panic") {
      no_value();
      o.panic = true;
    } else if (arg == "-u" || arg == "--unload") {
      no_value();
      o.unload = true;
    } else if (arg == "-e" || arg == "--exec") {
      no_value();
      o.exec = true;
    } else if (arg == "-s" || arg == "--kexec-file-syscall") {
      no_value();  // kexec-tools' switch to kexec_file_load: the only call kdive-kexec makes
    } else if (arg == "--status") {
      no_value();
      o.status = true;
    } else if (arg == "--recommend") {
      no_value();
      o.recommend = true;
    } else if (arg == "--json") {
      no_value();
      o.json = true;
    } else if (arg == "-f" || arg == "--force") {
      no_value();
      o.force = true;
    } else if (arg == "-h" || arg == "--help") {
      no_value();
      o.help = true;
    } else if (arg == "--reuse-cmdline") {
      no_value();
      o.reuse = true;
    } else if (arg == "--initrd" || arg == "--ramdisk") {
      if (o.initrd) throw UsageError("--initrd given twice");
      o.initrd = value();
    } else if (arg == "--append") {
      o.append.push_back(value());
    } else if (arg == "--command-line") {
      if (o.command_line) throw UsageError("--command-line given twice");
      o.command_line = value();
    } else if (arg == "--kernel") {
      o.kernel_option = value();
    } else if (arg == "--") {
      o.positional.insert(o.positional.end(), args.begin() + std::ptrdiff_t(i) + 1, args.end());
      break;
    } else if (arg.size() > 1 && arg[0] == '-') {
      throw UsageError(fmt::format("unknown option {}", args[i]));
    } else {
      o.positional.push_back(arg);
    }
  }
  return o;
}

void check_combinations(const Options& o) {
  const int actions =
      int(o.load) + int(o.panic && !o.unload) + int(o.unload) + int(o.exec) + int(o.status) + int(o.recommend);
  if (actions == 0) throw UsageError("no action: give -l, -p, -u, -e, --status or --recommend (see --help)");
  if (actions > 1 || (o.load && o.panic)) {
    throw UsageError("give one action: -l, -p, -u, -p -u, -e, --status or --recommend");
  }
  const bool loading = o.load || (o.panic && !o.unload);
  if (loading && o.positional.size() != 1) {
    throw UsageError(
        fmt::format("{} needs one KERNEL file (a bzImage, e.g. /boot/vmlinuz-$(uname -r))", o.load ? "-l" : "-p"));
  }
  if (!loading) {
    if (o.reuse || !o.append.empty() || o.command_line) {
      throw UsageError("--append, --reuse-cmdline and --command-line go with -l or -p");
    }
    if (o.initrd && !o.recommend) throw UsageError("--initrd goes with -l, -p or --recommend");
  }
  if (o.reuse && o.command_line) throw UsageError("--reuse-cmdline and --command-line exclude each other");
  if (o.force && !o.exec) throw UsageError("--force goes with -e");
  if (o.json && !o.status && !o.recommend) throw UsageError("--json goes with --status or --recommend");
  if (o.kernel_option && !o.recommend) throw UsageError("--kernel goes with --recommend");
  if ((o.unload || o.exec || o.status) && !o.positional.empty()) {
    throw UsageError(fmt::format("unexpected argument {}", o.positional.front()));
  }
}

}  // namespace

std::string kexec_help() {
  return R"(Usage: kdive-kexec ACTION [OPTIONS]

Loads a kernel to boot without the firmware (-l, then -e: a fast reboot) or to
start when this kernel panics (-p: the kdump capture kernel), through the
kexec_file_load system call: the running kernel checks and places the image,
builds the crash kernel's ELF core header and adds elfcorehdr= itself, and it
is the only kexec path that lockdown and secure boot allow.

Actions:
  -l KERNEL          load KERNEL (a bzImage: vmlinuz) for a fast reboot with -e
  -p KERNEL          load KERNEL as the crash (capture) kernel, into the memory
                     crashkernel= reserved at boot
  -u                 unload the -l kernel
  -p -u              unload the crash kernel
  -e                 reboot into the -l kernel now: sync, remount every
                     writable disk filesystem of /proc/mounts read-only (as
                     "mount -o remount,ro" would, deepest first), sync again,
                     then reboot(LINUX_REBOOT_CMD_KEXEC). Services are NOT
                     stopped: use "systemctl kexec" (or stop them first) on a
                     running system, and -e from a rescue shell or a script
  --status           what is loaded, the crashkernel= reservation
                     (/sys/kernel/kexec_crash_size), the "Crash kernel" ranges
                     of /proc/iomem and the running crashkernel= option
  --recommend [DUMP_DIR...]
                     a crashkernel= size for this machine, with the reasoning:
                     from its RAM, the capture kernel and initramfs, and (when
                     DUMP_DIR holds a dump saved by kdive-capture) the memory
                     the capture kernel actually used (capture-meminfo.txt)
  -h, --help         this text

Options:
  --json             with --status or --recommend: one JSON object on stdout,
                     {"command": "kdive-kexec --status", "result": {...}} (or
                     "error": "..." when it fails), the same facts as the
                     text, sizes and addresses as numbers of bytes, null for
                     what cannot be read. --status's result: kexec_loaded,
                     crash_loaded, crash_size, iomem_readable, crash_ranges
                     [{start, end, size}], iomem_addresses_hidden,
                     command_line, crashkernel, lockdown. --recommend's:
                     recommended, crashkernel, ram, current, estimate [{what,
                     bytes, why}], estimate_sum, estimate_total, measured
                     ({file, mem_total, mem_available, reservation,
                     dump_peak} or null), measured_need, margin_percent,
                     distribution_default, notes
  --initrd FILE      the initramfs the loaded kernel boots with (for
                     --recommend: the capture initramfs, default
                     )" +
         std::string(kDefaultCaptureInitrd) + R"()
  --command-line S   the loaded kernel's command line, exactly S
  --reuse-cmdline    the running kernel's command line (the default): for -l
                     /proc/cmdline minus BOOT_IMAGE= and initrd=; for -p also
                     minus crashkernel= and plus "irqpoll nr_cpus=1 reset_devices"
  --append S         add S to the command line (to --command-line's if given,
                     else to the running one, derived as above); repeatable
  --force            with -e: do not remount filesystems read-only (sync only),
                     like kexec-tools' "kexec -e" that skips the orderly
                     shutdown "reboot" does; for when the remount cannot
                     succeed (a busy root) and the data is safe anyway
  --kernel FILE      with --recommend: the capture kernel (default
                     /boot/vmlinuz-RELEASE of the running kernel)
  -s                 accepted for kexec-tools compatibility (always
                     kexec_file_load)

Examples:
  kdive-kexec --status
  kdive-kexec --status --json
  kdive-kexec -p /boot/vmlinuz-$(uname -r) --initrd /var/lib/kdive/capture-initrd.img
  kdive-kexec -p /boot/vmlinuz-$(uname -r) --initrd capture.img --append "panic=1"
  kdive-kexec -p -u
  kdive-kexec -l /boot/vmlinuz-6.1.0-57-amd64 --initrd /boot/initrd.img-6.1.0-57-amd64
  kdive-kexec -e
  kdive-kexec --recommend /var/crash

Errors are one line each: no crashkernel= reservation, a capture kernel too
large for it, permission (not root, kexec disabled, lockdown), not a bzImage,
a missing kernel or initrd file. Exit status: 0 done, 1 failed, 2 usage.
)";
}

int run_kexec_cli(std::span<const std::string> args, const SystemRoot& root, KexecSystem& system, std::ostream& out,
                  std::ostream& err) {
  Options o;
  try {
    o = parse(args);
    if (o.help) {
      out << kexec_help();
      return 0;
    }
    check_combinations(o);
  } catch (const UsageError& e) {
    err << "kdive-kexec: " << e.what() << " (kdive-kexec --help)\n";
    return 2;
  }
  const std::string json_command = o.status ? "kdive-kexec --status" : "kdive-kexec --recommend";
  try {
    KexecLoader loader(root, system);
    if (o.status) {
      const KexecStatus status = read_kexec_status(root);
      if (o.json) {
        out << nlohmann::json{{"command", json_command}, {"result", kexec_status_json(status)}}.dump() << "\n";
      } else {
        out << format_kexec_status(status);
      }
    } else if (o.recommend) {
      AdviceInputs inputs;
      inputs.kernel = o.kernel_option;
      inputs.initrd = o.initrd;
      inputs.dump_dirs = o.positional;
      const CrashkernelAdvice advice = advise_crashkernel(root, inputs);
      if (o.json) {
        out << nlohmann::json{{"command", json_command}, {"result", advice_json(advice)}}.dump() << "\n";
      } else {
        out << format_advice(advice);
      }
    } else if (o.unload) {
      loader.unload(o.panic ? KexecTarget::Crash : KexecTarget::Reboot);
    } else if (o.exec) {
      loader.execute(o.force, out);
    } else {
      LoadRequest request;
      request.target = o.panic ? KexecTarget::Crash : KexecTarget::Reboot;
      request.kernel = o.positional.front();
      request.initrd = o.initrd;
      request.command_line = o.command_line;
      request.append = o.append;
      const std::string line = loader.load(request);
      out << fmt::format("kdive-kexec: loaded {} as the {} kernel; command line: {}\n", request.kernel,
                         o.panic ? "crash" : "fast-reboot", line);
    }
  } catch (const KexecError& e) {
    if (o.json) out << nlohmann::json{{"command", json_command}, {"error", e.what()}}.dump() << "\n";
    out.flush();
    err << "kdive-kexec: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kdive::capture
