// run_command: one command, from its words to its text or its JSON Lines object.
// The shell, `foreach` and extensions all run commands through it, so error
// reporting, the JSON envelope and the exit-status facts are the same everywhere.
//
//   CommandRun r = run_command(session, "ps -k", {"ps", "-k"}, out, report);
//   if (r.status == CommandStatus::Failed) ...
//
// JSON mode writes exactly one line per run:
//   {"command": "ps -k", "result": [...]}            the command ran
//   {"command": "ps -k", "error": "..."}             it failed
//   {"command": "sys config", "unavailable": "..."}  the kernel lacks it (not a failure)
// plus "warnings": [...] and "lost": [...] (items shown with a marker) when any.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"

namespace kdive {

class Session;

enum class CommandStatus {
  Ok,        // ran (including "the kernel lacks this", which is an answer)
  DataLost,  // ran, but at least one item could not be read and got a marker
  Failed,    // did not run or stopped with an error
};

// Where one-line errors go: (who, message), printed as "who: message".
using ErrorReport = std::function<void(std::string_view who, std::string_view message)>;

struct CommandRun {
  CommandStatus status = CommandStatus::Ok;
};

// Who takes a command kdive does not know, as crash hands it to GDB: given
// its name, the Command to run with all the words (the name included) as its
// arguments, or nullptr. Tried after commands, aliases and struct names; the
// `gdb` command installs one when kdive has GDB.
using UnknownCommandHandler = std::function<const Command*(Session& session, std::string_view name)>;
void set_unknown_command_handler(UnknownCommandHandler handler);

// `words` starts with the command's name; `as_typed` is echoed as "command" in JSON.
// `quoted_words`, when given, are the same words with their quotes as typed:
// a command whose spec keeps_quotes gets these.
CommandRun run_command(Session& session, std::string_view as_typed, const std::vector<std::string>& words, Output& out,
                       const ErrorReport& report, const std::vector<std::string>* quoted_words = nullptr);

}  // namespace kdive
