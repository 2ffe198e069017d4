// repeat: runs a command again and again on a live kernel, SECS seconds
// apart, until Ctrl-C (crash's repeat). A dump does not change, so on a dump
// the command runs once and a note says why.
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "commands/api/command.hpp"
#include "commands/api/interrupt.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/kernel.hpp"
#include "readers/dump_source.hpp"

namespace kdive {
namespace {

constexpr uint64_t kDefaultSeconds = 1;
constexpr uint64_t kMaxSeconds = 24 * 3600;

// Sleeps `seconds`, waking early when Ctrl-C was pressed.
void pause(uint64_t seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    throw_if_interrupted();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  std::vector<std::string> words = args.positional();
  uint64_t seconds = kDefaultSeconds;
  // "-5": the interval (the flag parser keeps a dash-number as a word).
  if (!words.empty() && words[0].size() > 1 && words[0][0] == '-') {
    const std::string digits = words[0].substr(1);
    if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 6) {
      throw CommandError(fmt::format("'{}': the interval is -SECONDS, a whole number", words[0]));
    }
    seconds = std::stoull(digits);
    if (seconds > kMaxSeconds) throw CommandError(fmt::format("'{}': at most {} seconds", words[0], kMaxSeconds));
    words.erase(words.begin());
  }
  if (words.empty()) throw CommandError("no command to repeat");
  const Command* inner = CommandRegistry::instance().find(words[0]);
  if (inner == nullptr) throw CommandError(fmt::format("{}: no such command", words[0]));
  if (inner->spec.name == "repeat") throw CommandError("repeat cannot repeat itself");
  std::vector<std::string> inner_words(words.begin() + 1, words.end());
  ParsedArgs inner_args = parse_args(inner->spec, inner_words);
  if (!session.kernel().dump().notes().live) {
    // Said before the output, so a reader sees why there is one run only.
    out.warning("repeat: a dump does not change: the command runs once (repeat is for live kernels)");
    inner->run(session, inner_args, out);
    return;
  }
  // Live: until Ctrl-C, which ends the repetition (the shell reports it).
  for (;;) {
    inner->run(session, inner_args, out);
    pause(seconds);
  }
}

const CommandRegistrar registrar{
    {.name = "repeat",
     .summary = "run a command repeatedly (live kernels)",
     .usage = "repeat [-seconds] command [arguments ...]",
     .description = "On a live kernel, runs the command, waits, and runs it again, until Ctrl-C.\n"
                    "The wait is 1 second unless -seconds says otherwise. On a dump, which\n"
                    "cannot change, the command runs once and a warning says so.\n\n"
                    "  -seconds  the wait between two runs, in whole seconds.\n\n"
                    "What kdive has already read and keeps (the task table, the module list)\n"
                    "is not read again; values read from memory each time (p, rd, struct, log)\n"
                    "are current.",
     .examples = "Watch jiffies advance on the running kernel:\n\n"
                 "  kdive> repeat -2 p jiffies\n"
                 "  jiffies = $1 = 4295833015\n"
                 "  jiffies = $2 = 4295833515\n"
                 "  ^C",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"tainted_mask", "letters"},
              .notes = "The repeated command's own result: on a dump, that of its one run (the keys\n"
                       "here are those of the example's sys -t). On a live kernel the runs end with\n"
                       "Ctrl-C, which is reported as an interruption: use the command itself for JSON.",
              .example = "repeat sys -t"},
     .flags_end_at_first_word = true},
    run};

}  // namespace
}  // namespace kdive
