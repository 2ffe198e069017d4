#include "commands/help_topics.hpp"

#include <array>

namespace kdive {
namespace {

constexpr std::array<HelpTopic, 2> kTopics = {{
    {"input", "how the shell reads commands",
     "Interactive input is read with readline: emacs-style line editing (vi with\n"
     "\"set editing-mode vi\" in ~/.inputrc), a history kept in ~/.kdive_history,\n"
     "and Tab completion of command names, options, kernel symbols, struct and\n"
     "union names and struct.member paths.\n"
     "\n"
     "One line may hold several commands separated by ';'. Words are split as a\n"
     "POSIX shell splits them: single quotes keep everything, double quotes allow\n"
     "\\\" and \\\\. A line starting with '#' is a comment; a line starting with '!'\n"
     "runs the rest in /bin/sh (a bare '!' starts an interactive shell).\n"
     "\n"
     "A first word that is no command but names a struct or union runs `struct`\n"
     "with it (\"task_struct.pid ffff...\"), as does \"*name\". `alias` defines short\n"
     "names for commands; `repeat` runs a command again and again.\n"
     "\n"
     "Commands are also read from -c 'COMMANDS' (';'-separated), from -i FILE (one\n"
     "command a line, then the prompt unless -b), and from standard input when it\n"
     "is not a terminal. Before any of them, ~/.kdiverc and ./.kdiverc run (with\n"
     "--crashrc, ~/.crashrc and ./.crashrc too); --no-rc skips them.\n"
     "\n"
     "Ctrl-C stops the running command and returns to the prompt."},
    {"output", "where output goes",
     "A command's output goes to the terminal, through the pager when it is longer\n"
     "than the screen (`set scroll on|off`; $PAGER, else less -X -E -R -K, else a\n"
     "built-in --More-- prompt). It is never paged in batch mode or when kdive's\n"
     "output is not a terminal.\n"
     "\n"
     "'| COMMAND' hands the output to /bin/sh as a pipeline (\"ps | grep bash\");\n"
     "'> FILE' writes it to FILE and '>> FILE' appends, as in a shell. Error lines\n"
     "go to the standard error, one line each, naming the command.\n"
     "\n"
     "`set output json` (or kdive --json) prints each command's result as one JSON\n"
     "object a line: {\"command\", \"result\"} or {\"command\", \"error\"}, plus\n"
     "\"warnings\" and \"lost\" when a damaged kernel object was met. `help COMMAND`\n"
     "documents each result's keys. In batch mode kdive exits with status 3 when\n"
     "any command met data it could not read, 1 when a command failed."},
}};

}  // namespace

std::span<const HelpTopic> help_topics() { return kTopics; }

const HelpTopic* find_help_topic(std::string_view name) {
  for (const HelpTopic& t : kTopics) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

}  // namespace kdive
