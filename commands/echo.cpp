// echo: prints its arguments, like crash's echo. Handy in scripts (-i, -c) to
// label sections of a report, and the simplest exercise of pipes and redirects.
#include <string>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"

namespace kdive {
namespace {

void run(Session&, const ParsedArgs& args, Output& out) {
  std::string line;
  for (const auto& word : args.positional()) {
    if (!line.empty()) line += ' ';
    line += word;
  }
  out.print("{}\n", line);
  out.result({{"text", line}});
}

const CommandRegistrar registrar{{.name = "echo",
                                  .summary = "print text",
                                  .usage = "echo [text ...]",
                                  .description = "Prints its arguments separated by single spaces, then a newline.\n"
                                                 "Quotes keep spaces and special characters (| > ;) literal.",
                                  .examples = "Label a section of a batch report:\n\n"
                                              "  $ kdive -b -c 'echo === tasks ===; ps' vmlinux vmcore\n\n"
                                              "Write text to a file:\n\n"
                                              "  kdive> echo \"checked by $USER\" > note.txt",
                                  .options = {},
                                  .aliases = {},
                                  .json = {.kind = JsonShape::Kind::Object,
                                           .keys = {"text"},
                                           .notes = "The line echo prints, without its newline: a label\n"
                                                    "between the results of a JSON Lines report.",
                                           .example = "echo hello"}},
                                 run};

}  // namespace
}  // namespace kdive
