// save_dump: what `kdive-capture save` does in the capture kernel — the kdump
// init scripts' save step. To disk: old dumps pruned (keep_old_dumps), free
// space checked (min_free), then <savedir>/<host>-<date>/ receives dmesg.txt
// (first: small, and the most useful part if the full dump then fails),
// capture-meminfo.txt (the capture kernel's /proc/meminfo, what kdive-kexec
// --recommend sizes crashkernel= from) and vmcore, written by kdive-dump.
// To a pipe: target: kdive-dump -F's flattened stream into the command.
// Then, with a copy_target, the same stream (at copy_dump_level) into its
// command, whatever became of the first save. Then the post-save hook. The action after saving is the caller's.
//
//   SaveOptions o;  o.dump_program = find_program("kdive-dump");
//   SaveResult r = save_dump(config, o, std::cerr);
//   if (!r.ok) ...;                    // r.error says why, one line
//   std::cout << save_result_json(r).dump();   // save --json
#pragma once

#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "capture/service/capture_config.hpp"

namespace kdive::capture {

struct SaveOptions {
  std::string vmcore = "/proc/vmcore";
  std::string meminfo = "/proc/meminfo";
  std::string dump_program;  // kdive-dump's path
  // Prefixed to config.savedir: where the capture kernel mounted the device.
  std::string savedir_root;
  std::time_t now = 0;   // 0: the current time
  std::string hostname;  // empty: config.hostname, then gethostname()
};

struct SaveResult {
  bool ok = false;
  bool pipe = false;                  // streamed to a pipe: target, not saved to disk
  std::string source;                 // what was read (/proc/vmcore)
  std::string target;                 // the save directory, or the pipe command
  std::string dump_dir;               // the directory made (disk), or the dump's name (pipe)
  std::vector<std::string> files;     // files completed in dump_dir, in the order written
  std::vector<std::string> warnings;  // what went wrong without failing the save, one line each
  std::string error;                  // one line when !ok
  // The copy_target stream, when the config has one: empty copy_error when
  // it went through.
  bool copy_tried = false;
  std::string copy_error;
};

SaveResult save_dump(const CaptureConfig& config, const SaveOptions& options, std::ostream& log);

// The same facts as the log lines, as one JSON object (`kdive-capture save
// --json`): {"ok", "pipe", "source", "target", "dump_dir", "files",
// "warnings", "error" (null when ok)}.
nlohmann::json save_result_json(const SaveResult& result);

// kdive-dump's arguments for CONFIG's level and codec, before SRC [DST].
std::vector<std::string> dump_arguments(const CaptureConfig& config, const std::string& program, bool flattened);

}  // namespace kdive::capture
