#include "capture/dump/dump_options.hpp"

#include <fmt/format.h>
#include <getopt.h>

#include <charconv>
#include <string_view>

namespace kdive::capture {
namespace {

enum LongOnly { kSplit = 256, kThreads, kMessageLevel, kDumpDmesg };

int parse_int(std::string_view text, const char* what, int lo, int hi) {
  int v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < lo || v > hi) {
    throw UsageError(fmt::format("{} '{}' is not a number from {} to {}", what, text, lo, hi));
  }
  return v;
}

}  // namespace

std::string dump_help() {
  return R"(Usage: kdive-dump [-d LEVEL] [-c|-l|-p|-z] [-E] [-x VMLINUX] [--num-threads N] [--message-level N] SRC DST
       kdive-dump [-d LEVEL] [-c|-l|-p|-z] -F SRC > STREAM
       kdive-dump -R DST < STREAM
       kdive-dump [-d LEVEL] [-c|-l|-p|-z] --split SRC DST1 DST2 ...
       kdive-dump --dump-dmesg [-x VMLINUX] SRC FILE

Copies a crash dump, leaving out pages by dump level and compressing the rest,
as makedumpfile does. SRC is /proc/vmcore in a capture kernel, or any dump kdive
reads (a kexec or QEMU ELF core, a kdump-compressed or flattened file, a split
dump's first part is not enough: name one file). DST is written under a
temporary name and renamed when complete; a dump cut short (disk full, write
error, SIGINT, SIGTERM) is kept as DST.incomplete, marked incomplete inside,
and kdive-dump exits non-zero.

Options:
  -d LEVEL            dump level 0-31, the sum of what to leave out:
                      1 zero pages, 2 page cache without private data,
                      4 page cache with private data, 8 user pages, 16 free
                      pages (hwpoison and offline pages are always left out)
  -c | -l | -p | -z   compress pages with zlib, lzo, snappy or zstd (default:
                      none); a page that does not shrink is stored raw
  -E                  write an ELF core instead of kdump-compressed
  -F                  write the flattened format to stdout (for a pipe or ssh)
  -R                  read a flattened stream from stdin and write it as DST
  --split             write several files, each with a part of the memory;
                      kdive opens them together
  --num-threads N     compress on N threads (default: every core)
  --message-level N   what to print, the sum of: 1 progress, 2 messages,
                      4 errors, 16 the report of pages left out (default 23)
  --dump-dmesg        write the kernel log of SRC to FILE as text
  -x VMLINUX          the kernel's debuginfo image (vmlinux with DWARF), for a
                      dump without VMCOREINFO (a QEMU dump taken without
                      -device vmcoreinfo): the kernel is found in the dump as
                      kdive finds it, then the filter reads the VMCOREINFO the
                      kernel keeps in memory, or facts built from the
                      vmlinux's symbols and DWARF. When the dump has
                      VMCOREINFO, that wins and -x is not used. Without
                      either, levels above 1 are refused. With --dump-dmesg:
                      for a dump whose VMCOREINFO lacks the log's keys
  -h, --help          this text

Examples:
  kdive-dump -d 31 -z /proc/vmcore /var/crash/host-2026-01-01/vmcore
  kdive-dump -d 31 -c -F /proc/vmcore | ssh crash@server kdive-dump -R /srv/crash/vmcore
  kdive-dump -d 1 -E vmcore.kdump vmcore.elf
  kdive-dump -d 31 -x /usr/lib/debug/boot/vmlinux-$(uname -r) qemu-dump.elf vmcore
  kdive-dump -d 31 -l --split /proc/vmcore vmcore.1 vmcore.2
  kdive-dump --dump-dmesg /proc/vmcore /var/crash/dmesg.txt
)";
}

DumpOptions parse_dump_options(int argc, char** argv) {
  DumpOptions o;
  static const option longs[] = {
      {"split", no_argument, nullptr, kSplit},
      {"num-threads", required_argument, nullptr, kThreads},
      {"message-level", required_argument, nullptr, kMessageLevel},
      {"dump-dmesg", no_argument, nullptr, kDumpDmesg},
      {"help", no_argument, nullptr, 'h'},
      {nullptr, 0, nullptr, 0},
  };
  bool flatten = false, rearrange = false, dmesg = false;
  int codecs = 0;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":d:clpzEFRx:h", longs, nullptr)) != -1) {
    switch (c) {
      case 'd':
        o.dump_level = parse_int(optarg, "dump level", 0, 31);
        break;
      case 'c':
        o.codec = PageCodec::Zlib, ++codecs;
        break;
      case 'l':
        o.codec = PageCodec::Lzo, ++codecs;
        break;
      case 'p':
        o.codec = PageCodec::Snappy, ++codecs;
        break;
      case 'z':
        o.codec = PageCodec::Zstd, ++codecs;
        break;
      case 'E':
        o.elf = true;
        break;
      case 'F':
        flatten = true;
        break;
      case 'R':
        rearrange = true;
        break;
      case 'x':
        o.vmlinux = optarg;
        break;
      case 'h':
        o.help = true;
        return o;
      case kSplit:
        o.split = true;
        break;
      case kThreads:
        o.threads = static_cast<unsigned>(parse_int(optarg, "--num-threads", 1, 1024));
        break;
      case kMessageLevel:
        o.message_level = parse_int(optarg, "--message-level", 0, 31);
        break;
      case kDumpDmesg:
        dmesg = true;
        break;
      case ':':
        throw UsageError(fmt::format("option {} needs a value", argv[optind - 1]));
      default: {
        std::string bad = optopt ? fmt::format("-{}", static_cast<char>(optopt)) : argv[optind - 1];
        throw UsageError(fmt::format("unknown option {} (see --help)", bad));
      }
    }
  }
  std::vector<std::string> args(argv + optind, argv + argc);
  if (codecs > 1) throw UsageError("choose one compression: -c, -l, -p or -z");
  if (flatten + rearrange + dmesg + o.split > 1)
    throw UsageError("-F, -R, --split and --dump-dmesg exclude each other");
  if (o.elf && (flatten || rearrange || o.split)) {
    throw UsageError("-E cannot be combined with -F, -R or --split: those carry kdump-compressed dumps");
  }
  if (o.elf && codecs) throw UsageError("-E writes pages uncompressed: drop -c/-l/-p/-z");
  if (rearrange) {
    o.mode = DumpMode::Rearrange;
    if (args.size() != 1) throw UsageError("-R takes one argument, the file to write (the stream comes on stdin)");
    o.outputs = args;
    return o;
  }
  if (args.empty()) throw UsageError("no source dump given (see --help)");
  o.source = args[0];
  o.outputs.assign(args.begin() + 1, args.end());
  if (flatten) {
    o.mode = DumpMode::Flatten;
    if (!o.outputs.empty()) throw UsageError("-F writes to stdout: give only SRC");
  } else if (dmesg) {
    o.mode = DumpMode::DumpDmesg;
    if (o.outputs.size() != 1) throw UsageError("--dump-dmesg needs SRC and FILE");
  } else if (o.split) {
    if (o.outputs.size() < 2) throw UsageError("--split needs at least two output files");
  } else if (o.outputs.size() != 1) {
    throw UsageError(o.outputs.empty() ? "no destination given (see --help)" : "too many arguments (see --help)");
  }
  return o;
}

}  // namespace kdive::capture
