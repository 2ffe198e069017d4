// union: a union's layout, or its contents at an address (like struct).
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/struct_command.hpp"

namespace kdive {
namespace {

void run(Session& session, const ParsedArgs& args, Output& out) { run_struct_command(session, args, out, "union"); }

const CommandRegistrar registrar{
    {.name = "union",
     .summary = "union contents or layout",
     .usage = "union [-o] [-x|-d] union_name[.member[,member...]] [address | symbol] [count]",
     .description = "The same as struct, for unions: without an address the layout (-o adds\n"
                    "offsets, which are all 0 unless members are nested), with an address the\n"
                    "union stored there, every member seen over the same bytes.",
     .examples = "  kdive> union -o thread_union\n"
                 "\n"
                 "  kdive> union thread_union ffffffff82600000",
     .options = {{'o', "", "show member offsets (with an address: member addresses)"},
                 {'x', "", "integers in hexadecimal"},
                 {'d', "", "integers in decimal (the default)"}},
     .aliases = {}},
    run};

}  // namespace
}  // namespace kdive
