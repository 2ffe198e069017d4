#include "commands/api/run_command.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands/api/session.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

void write_json_line(Output& out, std::string_view as_typed, const char* key, Json value) {
  Json line = {{"command", as_typed}, {key, std::move(value)}};
  if (!out.warnings().empty()) line["warnings"] = out.warnings();
  if (!out.lost_items().empty()) line["lost"] = out.lost_items();
  // Invalid UTF-8 from kernel memory (a corrupted comm) is replaced, not thrown on.
  out.write_raw(line.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

// crash runs struct or union when the first word names one instead of a
// command: "task_struct ADDR", "task_struct.pid,comm ADDR". Commands win.
bool names_struct_or_union(Session& session, const std::string& word) {
  if (!session.has_kernel()) return false;
  std::string name = word.substr(0, word.find('.'));
  if (name.empty()) return false;
  TypeSystem& types = session.kernel().types();
  return types.lookup("struct " + name) != nullptr || types.lookup("union " + name) != nullptr;
}

UnknownCommandHandler& unknown_command_handler() {
  static UnknownCommandHandler handler;
  return handler;
}

}  // namespace

void set_unknown_command_handler(UnknownCommandHandler handler) { unknown_command_handler() = std::move(handler); }

CommandRun run_command(Session& session, std::string_view as_typed, const std::vector<std::string>& words, Output& out,
                       const ErrorReport& report, const std::vector<std::string>* quoted_words) {
  CommandRun run;
  auto fail = [&](std::string_view who, std::string_view message) {
    run.status = CommandStatus::Failed;
    report(who, message);
    if (out.json()) write_json_line(out, as_typed, "error", std::string(message));
  };
  if (words.empty()) return run;
  const Command* command = CommandRegistry::instance().find(words.front());
  // The words after the command name: with "*task_struct" or a bare
  // "task_struct", the type name is the first of them.
  std::vector<std::string> rest(words.begin() + 1, words.end());
  size_t name_words = 1;  // how many of `words` name the command rather than being its arguments
  if (command == nullptr && words.front().size() > 1 && words.front()[0] == '*') {
    command = CommandRegistry::instance().find("*");
    rest.insert(rest.begin(), words.front().substr(1));
  } else if (command == nullptr && names_struct_or_union(session, words.front())) {
    command = CommandRegistry::instance().find("*");
    rest.insert(rest.begin(), words.front());
  } else if (command == nullptr && unknown_command_handler()) {
    try {
      command = unknown_command_handler()(session, words.front());
    } catch (const std::exception& e) {
      fail("kdive", e.what());
      return run;
    }
    if (command != nullptr) {
      rest = words;
      name_words = 0;
    }
  }
  if (command != nullptr && command->spec.keeps_quotes && quoted_words != nullptr &&
      quoted_words->size() == words.size()) {
    rest.assign(quoted_words->begin() + name_words, quoted_words->end());
  }
  if (command == nullptr) {
    fail("kdive", fmt::format("command not found: {} (try 'help')", words.front()));
    return run;
  }
  try {
    ParsedArgs args = parse_args(command->spec, rest);
    if (session.has_kernel()) session.kernel().begin_command();
    command->run(session, args, out);
    if (out.json()) write_json_line(out, as_typed, "result", out.take_result());
    if (!out.lost_items().empty()) run.status = CommandStatus::DataLost;
  } catch (const NotInKernel& e) {
    report(command->spec.name, e.what());
    if (out.json()) write_json_line(out, as_typed, "unavailable", e.what());
  } catch (const std::exception& e) {
    // CommandError, the kernel model's Fault and Error, a reader's FormatError,
    // Interrupted: one line naming the command, and the session goes on.
    fail(command->spec.name, e.what());
  }
  return run;
}

}  // namespace kdive
