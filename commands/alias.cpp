// alias: lists and defines command aliases, as crash's alias does. The table
// lives in the session; the shell expands aliases before running a command.
#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace kdive {
namespace {

const char* origin(const Alias& a) { return a.builtin ? "builtin" : "runtime"; }

Json alias_json(const Alias& a) { return {{"name", a.name}, {"command", a.command}, {"origin", origin(a)}}; }

void print_row(const Alias& a, Output& out) { out.print("{:<8} {:<8} {}\n", origin(a), a.name, a.command); }

void run(Session& session, const ParsedArgs& args, Output& out) {
  AliasTable& aliases = session.aliases();
  const auto& words = args.positional();
  if (words.empty()) {
    out.print("ORIGIN   ALIAS    COMMAND\n");
    Json rows = Json::array();
    for (const Alias& a : aliases.all()) {
      print_row(a, out);
      rows.push_back(alias_json(a));
    }
    return out.result(std::move(rows));
  }
  const std::string& name = words[0];
  if (name.find_first_of(" \t|;>!") != std::string::npos || name.empty()) {
    throw CommandError(fmt::format("invalid alias name: '{}'", name));
  }
  if (words.size() == 1) {
    const Alias* a = aliases.find(name);
    if (a == nullptr) throw CommandError(fmt::format("alias does not exist: {}", name));
    out.print("ORIGIN   ALIAS    COMMAND\n");
    print_row(*a, out);
    return out.result(Json::array({alias_json(*a)}));
  }
  std::string command;
  for (size_t i = 1; i < words.size(); ++i) command += (i > 1 ? " " : "") + words[i];
  if (command.empty()) {
    if (!aliases.remove(name)) throw CommandError(fmt::format("alias does not exist: {}", name));
    out.print("alias deleted: {}\n", name);
    return out.result({{"deleted", name}});
  }
  if (CommandRegistry::instance().find(name) != nullptr) {
    throw CommandError(fmt::format("'{}' is a command; an alias may not hide it", name));
  }
  aliases.define(name, command);
  out.print("ORIGIN   ALIAS    COMMAND\n");
  print_row(*aliases.find(name), out);
  out.result(Json::array({alias_json(*aliases.find(name))}));
}

const CommandRegistrar registrar{
    {.name = "alias",
     .summary = "list or define command aliases",
     .usage = "alias [alias [command string]]",
     .description = "With no argument, lists every alias: crash's built-ins (man, ?, dmesg, lsmod,\n"
                    "last, px, pd, hex, dec, for, ...) and those defined at run time. With one\n"
                    "argument, shows that alias. With more, defines the first word as an alias for\n"
                    "the rest: a command line starting with the alias runs the command string\n"
                    "followed by the line's other words. An empty string (\"\") deletes an alias.\n"
                    "Quote a command string that holds | ; or > so that it becomes part of the\n"
                    "alias instead of acting on the alias command itself.",
     .examples = "  kdive> alias kp kmem -p\n"
                 "  ORIGIN   ALIAS    COMMAND\n"
                 "  runtime  kp       kmem -p\n\n"
                 "  kdive> alias pss \"ps | grep kd-\"\n"
                 "  kdive> pss\n\n"
                 "  kdive> alias kp \"\"\n"
                 "  alias deleted: kp",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"name", "command", "origin"},
              .notes = "One object per alias shown: origin is \"builtin\" or \"runtime\". Defining an\n"
                       "alias gives its row; deleting one gives {\"deleted\": name}.",
              .example = "alias"},
     .flags_end_at_first_word = true},
    run};

}  // namespace
}  // namespace kdive
