// quit: leaves kdive (also `exit` and `q`, as in crash).
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace kdive {
namespace {

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (!args.positional().empty()) throw CommandError("takes no arguments");
  session.request_quit();
  out.result({{"quit", true}});
}

const CommandRegistrar registrar{{.name = "quit",
                                  .summary = "leave kdive",
                                  .usage = "quit",
                                  .description = "Ends the session. Commands after it on the same line or in the same\n"
                                                 "script are not run. Ctrl-D at an empty prompt does the same.",
                                  .examples = "  kdive> q",
                                  .options = {},
                                  .aliases = {"exit", "q"},
                                  .json = {.kind = JsonShape::Kind::Object,
                                           .keys = {"quit"},
                                           .notes = "{\"quit\": true}: the session ends after this line.",
                                           .example = "quit"}},
                                 run};

}  // namespace
}  // namespace kdive
