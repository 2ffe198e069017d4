// help: lists the commands, or shows one command's manual page.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/help_topics.hpp"

namespace kdive {
namespace {

// Prints text indented by two spaces, keeping blank lines blank.
void print_indented(Output& out, std::string_view text) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = text.substr(0, nl);
    if (line.empty()) {
      out.write("\n");
    } else {
      out.print("  {}\n", line);
    }
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// How the manual names an option: "-c cpu", "-c, --cpu cpu", "--inline".
std::string option_synopsis(const OptionSpec& o) {
  std::string names;
  if (has_short_form(o.flag)) names = fmt::format("-{}", o.flag);
  if (!o.long_name.empty()) names += fmt::format("{}--{}", names.empty() ? "" : ", ", o.long_name);
  return o.argument.empty() ? names : fmt::format("{} {}", names, o.argument);
}

void print_manual(const CommandSpec& spec, Output& out) {
  out.print("NAME\n  {} - {}\n\n", spec.name, spec.summary);
  out.print("SYNOPSIS\n  {}\n\n", spec.usage);
  if (!spec.aliases.empty()) {
    std::string names;
    for (auto a : spec.aliases) names += fmt::format("{}{}", names.empty() ? "" : ", ", a);
    out.print("ALIASES\n  {}\n\n", names);
  }
  out.print("DESCRIPTION\n");
  print_indented(out, spec.description);
  if (!spec.options.empty()) {
    out.print("\n");
    std::vector<std::string> flags;
    size_t width = 14;
    for (const auto& o : spec.options) {
      flags.push_back(option_synopsis(o));
      width = std::max(width, flags.back().size() + 2);
    }
    for (size_t i = 0; i < flags.size(); ++i) out.print("  {:<{}}{}\n", flags[i], width, spec.options[i].help);
  }
  if (!spec.json.keys.empty() || !spec.json.notes.empty()) {
    out.print("\nJSON RESULT (kdive --json, set output json)\n");
    std::string keys;
    for (auto key : spec.json.keys) keys += fmt::format("{}{}", keys.empty() ? "" : ", ", key);
    out.print("  {}\n", spec.json.kind == JsonShape::Kind::List ? fmt::format("a list of {{{}}}", keys)
                                                                : fmt::format("{{{}}}", keys));
    if (!spec.json.notes.empty()) print_indented(out, spec.json.notes);
    if (!spec.json.example.empty()) out.print("  Try: kdive> {}\n", spec.json.example);
  }
  if (!spec.examples.empty()) {
    out.print("\nEXAMPLES\n");
    print_indented(out, spec.examples);
  }
}

Json manual_json(const CommandSpec& spec) {
  Json options = Json::array();
  for (const auto& o : spec.options) {
    options.push_back({{"flag", has_short_form(o.flag) ? Json(std::string(1, o.flag)) : Json(nullptr)},
                       {"long", o.long_name.empty() ? Json(nullptr) : Json(o.long_name)},
                       {"argument", o.argument},
                       {"help", o.help}});
  }
  return {{"name", spec.name},
          {"summary", spec.summary},
          {"usage", spec.usage},
          {"description", spec.description},
          {"options", std::move(options)},
          {"aliases", spec.aliases},
          {"examples", spec.examples},
          {"json",
           {{"kind", spec.json.kind == JsonShape::Kind::List ? "list" : "object"},
            {"keys", spec.json.keys},
            {"notes", spec.json.notes},
            {"example", spec.json.example}}}};
}

// Command names in columns, filled down each column as crash's `help` does.
void print_index(Output& out) {
  auto commands = CommandRegistry::instance().all();
  size_t width = 0;
  for (const Command* c : commands) width = std::max(width, c->spec.name.size());
  width += 3;
  const size_t columns = std::max<size_t>(1, 78 / width);
  const size_t rows = (commands.size() + columns - 1) / columns;
  for (size_t r = 0; r < rows; ++r) {
    std::string line;
    for (size_t c = 0; c < columns; ++c) {
      size_t i = c * rows + r;
      if (i < commands.size()) line += fmt::format("{:<{}}", commands[i]->spec.name, width);
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out.print("{}\n", line);
  }
  out.print("\nType 'help COMMAND' for a command's manual.\n");
}

void print_topic(const HelpTopic& t, Output& out) {
  out.print("{}\n  {}\n\n", t.name == "input" ? "INPUT" : "OUTPUT", t.summary);
  print_indented(out, t.text);
}

Json topic_json(const HelpTopic& t) { return {{"topic", t.name}, {"summary", t.summary}, {"text", t.text}}; }

// `help all`: the input and output pages, then every command's manual, as
// crash's `help all` pages through them.
Json print_everything(Output& out) {
  Json pages = Json::array();
  for (const HelpTopic& t : help_topics()) {
    print_topic(t, out);
    out.print("\n");
    pages.push_back(topic_json(t));
  }
  for (const Command* c : CommandRegistry::instance().all()) {
    print_manual(c->spec, out);
    out.print("\n");
    pages.push_back(manual_json(c->spec));
  }
  return pages;
}

void run(Session&, const ParsedArgs& args, Output& out) {
  Json manuals = Json::array();
  if (args.positional().empty() || (args.positional().size() == 1 && args.positional()[0] == "commands")) {
    print_index(out);
    for (const Command* c : CommandRegistry::instance().all()) {
      manuals.push_back({{"name", c->spec.name}, {"summary", c->spec.summary}});
    }
    return out.result(std::move(manuals));
  }
  if (args.positional().size() == 1 && args.positional()[0] == "all") return out.result(print_everything(out));
  for (const auto& name : args.positional()) {
    if (!manuals.empty()) out.print("\n");
    // A command of that name comes first: the topics are not commands.
    const Command* command = CommandRegistry::instance().find(name);
    if (command == nullptr) {
      const HelpTopic* topic = find_help_topic(name);
      if (topic == nullptr) throw CommandError(fmt::format("no such command or help topic: {}", name));
      print_topic(*topic, out);
      manuals.push_back(topic_json(*topic));
      continue;
    }
    print_manual(command->spec, out);
    manuals.push_back(manual_json(command->spec));
  }
  out.result(std::move(manuals));
}

const CommandRegistrar registrar{
    {.name = "help",
     .summary = "list the commands, or show a command's manual",
     .usage = "help [command | input | output ...] | help all | help commands",
     .description = "Without arguments (or with \"commands\"), lists every command. With command\n"
                    "names, shows each one's synopsis, description, options, JSON result and\n"
                    "examples. \"input\" explains how the shell reads commands (editing, ';',\n"
                    "quotes, '!', -c, -i, start-up files), \"output\" where their output goes\n"
                    "(pager, '|', '>', JSON, exit status). \"all\" shows both pages and then\n"
                    "every command's manual: pipe it to a file or a search.",
     .examples = "List the commands:\n\n"
                 "  kdive> help\n\n"
                 "Every manual, searched for a word:\n\n"
                 "  kdive> help all | grep -n cpuspec\n\n"
                 "Show the manual of echo, keeping only its synopsis:\n\n"
                 "  kdive> help echo | grep -A1 SYNOPSIS\n"
                 "  SYNOPSIS\n"
                 "    echo [text ...]",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"name", "summary"},
              .notes = "Without arguments, every command's name and summary. With names,\n"
                       "each manual in full (a topic gives {topic, summary, text}; help all gives\n"
                       "the topics and then every manual): name, summary, usage, description, options\n"
                       "[{flag, long, argument, help}] (flag null for a long-only option, long\n"
                       "null for a short-only one), aliases, examples and json (its result's\n"
                       "kind, keys, notes and example).",
              .example = "help ps"}},
    run};

}  // namespace
}  // namespace kdive
