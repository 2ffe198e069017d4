// gdb: one command for the embedded GDB, or (with no arguments) GDB's state in
// this session. Also takes the commands kdive does not know, as crash does.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/run_command.hpp"
#include "commands/api/session.hpp"
#include "commands/gdb_fallback.hpp"
#include "gdb/gdb_session.hpp"

namespace kdive {
namespace {

Json status_fields(Json j) {
  GdbStatus s = GdbSession::instance().status();
  j["built_in"] = s.built_in;
  j["initialized"] = s.initialized;
  j["loaded"] = s.loaded;
  j["load_seconds"] = s.loaded ? Json(s.load_seconds) : Json(nullptr);
  j["load_rss_kb"] = s.loaded ? Json(s.load_rss_kb) : Json(nullptr);
  return j;
}

void show_status(Output& out) {
  GdbStatus s = GdbSession::instance().status();
  if (!s.built_in) {
    out.print("gdb: not built in (kdive was configured with -DKDIVE_GDB=OFF)\n");
  } else if (!s.loaded) {
    out.print("gdb: not loaded{}\n", s.initialized ? " (initialised: a command name was looked up)" : "");
  } else {
    out.print("gdb: loaded in {:.2f} s, resident memory grew by {} MB\n", s.load_seconds, s.load_rss_kb / 1024);
  }
  out.result(status_fields({{"command", nullptr}, {"output", nullptr}}));
}

void run_words(Session& session, const std::vector<std::string>& words, Output& out) {
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + w;
  std::string text = run_in_gdb(session, line);
  out.write(text);
  out.result(status_fields({{"command", line}, {"output", text}}));
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.positional().empty()) return show_status(out);
  run_words(session, args.positional(), out);
}

// A command kdive does not know, on its way to GDB: its words as they are.
void run_unknown(Session& session, const ParsedArgs& args, Output& out) {
  note_gdb_once(out, "unknown command",
                fmt::format("'{}' is not a kdive command: passed to GDB (gdb CMD does this explicitly)",
                            args.positional().front()));
  run_words(session, args.positional(), out);
}

constexpr std::string_view kDescription =
    "Runs one command of the GDB linked into kdive over the dump and prints what\n"
    "GDB prints: full C expressions (function-pointer members, casts, $ value\n"
    "history, format letters: gdb p/t flags), GDB's own type printing, `info\n"
    "symbol`, `info line`, `list`, `x`, `bt` of the current context (see set),\n"
    "and the rest of GDB's commands that read memory and symbols. Output goes\n"
    "through kdive, so pipes, redirects and the pager work; GDB's errors come\n"
    "back as one kdive error line.\n"
    "\n"
    "GDB starts on first use only: loading the vmlinux's symbols takes a few\n"
    "seconds and a few hundred MB once per session. kdive answers p, ptype,\n"
    "whatis, struct and dis itself; p hands GDB only the expressions kdive's\n"
    "evaluator does not parse (and $ history), and a command kdive does not know\n"
    "goes to GDB as in crash (a note says so the first time). With no argument,\n"
    "gdb says whether GDB is loaded and what that cost.\n"
    "\n"
    "GDB's registers are those of the current context task: the panic task's\n"
    "from the dump's NT_PRSTATUS note, a sleeping task's saved rip, rsp and rbp\n"
    "(its other registers are <unavailable>). Memory comes from the dump: a\n"
    "page the dump lacks reads as GDB's \"Cannot access memory\".\n"
    "\n"
    "Commands that would end or escape kdive, run a process, or replace GDB's\n"
    "target or symbols are refused: quit, shell (!), pipe (|), make, edit, cd,\n"
    "run, start, attach, detach, kill, target, file, symbol-file, core-file,\n"
    "source, define, if, while, eval, python, and $_shell in an expression.\n"
    "kdive's shell takes quotes off words: to give GDB a C string, wrap it in\n"
    "single quotes ('\"text\"').\n"
    "\n"
    "GDB is GPLv3: see kdive's README. A kdive built with -DKDIVE_GDB=OFF says\n"
    "so here and treats unknown commands as errors.";

constexpr std::string_view kExamples =
    "  kdive> gdb p init_task.comm\n"
    "  $1 = \"swapper/0\\000\\000\\000\\000\\000\\000\"\n"
    "\n"
    "  kdive> gdb info symbol 0xffffffff81e4a740\n"
    "  init_task in section .data\n"
    "\n"
    "  kdive> gdb p/x init_task.se.load\n"
    "  kdive> gdb bt 3\n"
    "  kdive> gdb ptype struct list_head\n"
    "  kdive> info line schedule\n"
    "\n"
    "  kdive> gdb\n"
    "  gdb: loaded in 2.61 s, resident memory grew by 371 MB";

CommandSpec spec(std::string_view name) {
  return {.name = name,
          .summary = "run a command of the embedded GDB",
          .usage = "gdb [command ...]",
          .description = kDescription,
          .examples = kExamples,
          .options = {},
          .aliases = {},
          .json = {.kind = JsonShape::Kind::Object,
                   .keys = {"command", "output", "built_in", "initialized", "loaded", "load_seconds", "load_rss_kb"},
                   .notes = "command is the line GDB ran and output what it printed (both null for the\n"
                            "status alone); built_in, initialized and loaded say how far GDB got in this\n"
                            "process; load_seconds and load_rss_kb what loading cost (null before).",
                   .example = "gdb"},
          .flags_end_at_first_word = true,
          .keeps_quotes = true};
}

const CommandRegistrar registrar{spec("gdb"), run};

// The hidden command an unknown command runs as (not in the registry: help
// lists gdb once).
const Command& unknown_command() {
  static const Command command{spec("gdb"), run_unknown};
  return command;
}

[[maybe_unused]] const bool handler_installed = [] {
  if (!gdb_built_in()) return false;
  set_unknown_command_handler([](Session& session, std::string_view name) -> const Command* {
    if (!session.has_kernel() || !GdbSession::instance().knows_command(name)) return nullptr;
    return &unknown_command();
  });
  return true;
}();

}  // namespace
}  // namespace kdive
