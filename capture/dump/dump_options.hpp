// DumpOptions: kdive-dump's command line, parsed — makedumpfile's options for
// what they share (-d, -c/-l/-p/-z, -E, -F, -R, --split, --num-threads,
// --message-level, --dump-dmesg, -x), so scripts and habits carry over.
//
//   DumpOptions o = parse_dump_options(argc, argv);   // throws UsageError
//   if (o.help) std::cout << dump_help();
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "readers/page_codec.hpp"

namespace kdive::capture {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class DumpMode {
  Dump,       // SRC DST (or SRC DST1 DST2 ... with --split)
  Flatten,    // -F: SRC, the flattened stream on stdout
  Rearrange,  // -R: DST, the flattened stream on stdin
  DumpDmesg,  // --dump-dmesg SRC FILE
};

// makedumpfile's --message-level bits.
inline constexpr int kMessageProgress = 1;
inline constexpr int kMessageCommon = 2;
inline constexpr int kMessageError = 4;
inline constexpr int kMessageReport = 16;

struct DumpOptions {
  bool help = false;
  DumpMode mode = DumpMode::Dump;
  int dump_level = 0;
  PageCodec codec = PageCodec::Raw;  // makedumpfile's default: pages uncompressed
  bool elf = false;
  bool split = false;
  unsigned threads = 0;  // 0: every core
  int message_level = kMessageProgress | kMessageCommon | kMessageError | kMessageReport;
  std::optional<std::string> vmlinux;  // -x
  std::string source;
  std::vector<std::string> outputs;
};

DumpOptions parse_dump_options(int argc, char** argv);
std::string dump_help();

}  // namespace kdive::capture
