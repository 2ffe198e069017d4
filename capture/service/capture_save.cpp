#include "capture/service/capture_save.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "capture/service/dump_store.hpp"
#include "capture/service/process.hpp"

namespace kdive::capture {
namespace fs = std::filesystem;
namespace {

std::string host_name(const CaptureConfig& config, const SaveOptions& options) {
  if (!options.hostname.empty()) return options.hostname;
  if (!config.hostname.empty()) return config.hostname;
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) == 0 && buf[0] && std::string(buf) != "(none)") return buf;
  return "localhost";
}

// Copies a small text file (a /proc file, whose size stat cannot tell) under a
// temporary name, renamed when complete.
void copy_text(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot read", from));
  std::ostringstream text;
  text << in.rdbuf();
  std::string tmp = to + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text.str();
    out.flush();
    if (!out) throw std::runtime_error(fmt::format("{}: write error", tmp));
  }
  fs::rename(tmp, to);
}

std::vector<std::pair<std::string, std::string>> hook_env(const std::string& where, bool ok) {
  return {{"KDIVE_DUMP", where}, {"KDIVE_SAVE_RESULT", ok ? "saved" : "failed"}};
}

// Says WHAT on the log and keeps it among the result's warnings.
void warn(SaveResult& r, std::ostream& log, const std::string& what) {
  log << "kdive-capture: " << what << "\n";
  r.warnings.push_back(what);
}

void run_hook(const CaptureConfig& config, const std::string& where, SaveResult& r, std::ostream& log) {
  if (config.post_save_hook.empty()) return;
  auto argv = split_command(config.post_save_hook);
  argv.push_back(where);
  int rc = run_program(argv, hook_env(where, r.ok));
  if (rc != 0) warn(r, log, fmt::format("post-save hook {}: {}", argv[0], describe_status(rc)));
}

// Streams kdive-dump -F's output into COMMAND at LEVEL. Returns the error,
// empty on success. "{name}" in the command becomes the dump's name, so a
// receiver can file it as a local save would:
// ssh host kdive-dump -R /var/crash/{name}/vmcore
std::string stream_to_pipe(const CaptureConfig& config, const SaveOptions& o, const std::string& command, int level,
                           const std::string& name, std::ostream& log) {
  auto reader = split_command(command);
  for (auto& word : reader) {
    for (size_t at; (at = word.find("{name}")) != std::string::npos;) word.replace(at, 6, name);
  }
  CaptureConfig at_level = config;
  at_level.dump_level = level;
  auto writer = dump_arguments(at_level, o.dump_program, true);
  writer.push_back(o.vmcore);
  log << fmt::format("kdive-capture: streaming {} at level {} to '{}'\n", o.vmcore, level, command);
  int rc = run_pipeline(writer, reader, {{"KDIVE_DUMP_NAME", name}});
  if (rc != 0) return fmt::format("pipe target '{}' failed: {}", command, describe_status(rc));
  log << fmt::format("kdive-capture: streamed {} through '{}'\n", name, command);
  return "";
}

SaveResult save_to_pipe(const CaptureConfig& config, const SaveOptions& o, std::time_t now, std::ostream& log) {
  SaveResult r;
  r.pipe = true;
  r.target = config.pipe_command();
  r.dump_dir = dump_dir_name(host_name(config, o), now);
  r.error = stream_to_pipe(config, o, config.pipe_command(), config.dump_level, r.dump_dir, log);
  r.ok = r.error.empty();
  return r;
}

// WHERE is what the hook is told: the dump directory, or the save directory
// when none could be made.
SaveResult save_to_disk(const CaptureConfig& config, const SaveOptions& o, std::time_t now, std::ostream& log,
                        std::string& where) {
  SaveResult r;
  r.target = config.savedir;
  DumpStore store(
      o.savedir_root.empty()
          ? config.savedir
          : (fs::path(o.savedir_root) / fs::path(config.savedir).relative_path()).lexically_normal().string());
  std::error_code ec;
  try {
    fs::create_directories(store.savedir(), ec);
    if (ec) throw StoreError(fmt::format("{}: cannot create: {}", store.savedir(), ec.message()));
    // Old dumps go first: the space they free counts for the new one.
    store.prune(config.keep_old_dumps > 0 ? config.keep_old_dumps : 0, log);
    // Only an unfiltered, uncompressed dump has a size known in advance (the
    // source's); filtered and compressed ones are checked against min_free
    // alone, as their size depends on the pages' contents.
    uint64_t estimate = 0;
    if (config.dump_level == 0 && config.compression == "none") estimate = fs::file_size(o.vmcore, ec);
    store.check_space(config.min_free_bytes, ec ? 0 : estimate);
    r.dump_dir = store.create_dump_dir(host_name(config, o), now);
  } catch (const StoreError& e) {
    r.error = e.what();
    where = store.savedir();
    return r;
  }
  where = r.dump_dir;
  log << fmt::format("kdive-capture: saving {} to {}\n", o.vmcore, r.dump_dir);

  // dmesg and meminfo failures are reported but do not stop the dump itself.
  int rc = run_program({o.dump_program, "--dump-dmesg", o.vmcore, r.dump_dir + "/dmesg.txt"});
  if (rc != 0) {
    warn(r, log, fmt::format("the kernel log was not saved: kdive-dump {}", describe_status(rc)));
  } else {
    r.files.push_back("dmesg.txt");
  }
  try {
    copy_text(o.meminfo, r.dump_dir + "/capture-meminfo.txt");
    r.files.push_back("capture-meminfo.txt");
  } catch (const std::exception& e) {
    warn(r, log, fmt::format("capture-meminfo.txt not saved: {}", e.what()));
  }

  auto argv = dump_arguments(config, o.dump_program, false);
  argv.push_back(o.vmcore);
  argv.push_back(r.dump_dir + "/vmcore");
  rc = run_program(argv);
  if (rc != 0) {
    r.error = fmt::format("kdive-dump {} writing {}/vmcore", describe_status(rc), r.dump_dir);
  } else {
    r.ok = true;
    r.files.push_back("vmcore");
    log << fmt::format("kdive-capture: saved {}/vmcore\n", r.dump_dir);
  }
  sync();
  return r;
}

}  // namespace

std::vector<std::string> dump_arguments(const CaptureConfig& config, const std::string& program, bool flattened) {
  std::vector<std::string> argv{program, "-d", std::to_string(config.dump_level)};
  std::string codec = compression_flag(config.compression);
  if (!codec.empty()) argv.push_back(codec);
  if (flattened) argv.push_back("-F");
  return argv;
}

SaveResult save_dump(const CaptureConfig& config, const SaveOptions& o, std::ostream& log) {
  std::time_t now = o.now ? o.now : std::time(nullptr);
  SaveResult refused;
  refused.pipe = config.pipe_target();
  refused.source = o.vmcore;
  refused.target = refused.pipe ? config.pipe_command() : config.savedir;
  if (o.dump_program.empty()) {
    refused.error = "kdive-dump not found (it is installed beside kdive-capture)";
    return refused;
  }
  std::error_code ec;
  if (!fs::exists(o.vmcore, ec)) {
    refused.error = fmt::format("{} does not exist: not running in a capture kernel?", o.vmcore);
    return refused;
  }
  std::string where;
  SaveResult r = config.pipe_target() ? save_to_pipe(config, o, now, log) : save_to_disk(config, o, now, log, where);
  r.source = o.vmcore;
  if (config.pipe_target()) where = r.dump_dir;
  if (!config.copy_command().empty()) {
    r.copy_tried = true;
    int level = config.copy_dump_level >= 0 ? config.copy_dump_level : config.dump_level;
    std::string name = dump_dir_name(host_name(config, o), now);
    r.copy_error = stream_to_pipe(config, o, config.copy_command(), level, name, log);
  }
  // The hook learns about the first save (its directory, or the pipe dump's
  // name); the copy's outcome is in the log.
  run_hook(config, where, r, log);
  return r;
}

nlohmann::json save_result_json(const SaveResult& r) {
  return {{"ok", r.ok},
          {"pipe", r.pipe},
          {"source", r.source},
          {"target", r.target},
          {"dump_dir", r.dump_dir.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.dump_dir)},
          {"files", r.files},
          {"warnings", r.warnings},
          {"copy", r.copy_tried ? nlohmann::json{{"ok", r.copy_error.empty()},
                                                 {"error", r.copy_error.empty() ? nlohmann::json(nullptr)
                                                                                : nlohmann::json(r.copy_error)}}
                                : nlohmann::json(nullptr)},
          {"error", r.ok ? nlohmann::json(nullptr) : nlohmann::json(r.error)}};
}

}  // namespace kdive::capture
