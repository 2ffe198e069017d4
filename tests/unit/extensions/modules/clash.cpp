// Broken on purpose: its second command has the name of a built-in (ps). The
// whole extension is refused, its first command included.
#include "extensions/kdive_extension.hpp"

namespace {

void run(kdive::Session&, const kdive::ParsedArgs&, kdive::Output& out) { out.write("clash\n"); }

kdive::CommandSpec spec(std::string_view name) {
  return {.name = name,
          .summary = "clash",
          .usage = name,
          .description = "clash",
          .examples = "clash",
          .options = {},
          .aliases = {},
          .json = {}};
}

}  // namespace

KDIVE_EXTENSION("clash", "adds a command kdive already has") {
  host.add_command(spec("ext-clash-ok"), run);
  host.add_command(spec("ps"), run);
}
