// `*`: crash's short form of struct and union — the name says which it is.
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/struct_command.hpp"

namespace kdive {
namespace {

void run(Session& session, const ParsedArgs& args, Output& out) { run_struct_command(session, args, out, ""); }

const CommandRegistrar registrar{
    {.name = "*",
     .summary = "struct or union, whichever the name is",
     .usage = "* [-o] [-l offset] [-rfupxd] name[.member[,member...]]\n"
              "  [address | symbol][:cpuspec] [count | -c count]",
     .description = "struct for a structure's name, union for a union's: the same options and\n"
                    "output (see help struct).\n\n" KDIVE_STRUCT_ADDRESS_HELP,
     .examples = "  kdive> * list_head init_task.tasks\n"
                 "  struct list_head {\n"
                 "    next = 0xffff888003a1b7b8,\n"
                 "    prev = 0xffff888004e49bf8\n"
                 "  }\n"
                 "\n"
                 "  kdive> * rcu_special init_task.trc_reader_special",
     .options = struct_command_options(),
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "type", "value"},
              .notes = "As struct's (or union's).",
              .example = "* list_head init_task.tasks"}},
    run};

}  // namespace
}  // namespace kdive
