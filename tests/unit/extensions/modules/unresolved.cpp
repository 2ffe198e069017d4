// Broken on purpose: registers itself the way built-in commands do, through
// CommandRegistrar, which kdive does not export to extensions — dlopen cannot
// resolve it, and kdive refuses the file before any of its code runs.
#include "extensions/kdive_extension.hpp"

namespace {

void run(kdive::Session&, const kdive::ParsedArgs&, kdive::Output& out) { out.write("never runs\n"); }

const kdive::CommandRegistrar registrar{{.name = "ext-unresolved",
                                         .summary = "",
                                         .usage = "",
                                         .description = "",
                                         .examples = "",
                                         .options = {},
                                         .aliases = {},
                                         .json = {}},
                                        run};

}  // namespace

KDIVE_EXTENSION("unresolved", "needs a symbol kdive does not export") {}
