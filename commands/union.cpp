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
     .usage = "union [-o] [-l offset] [-rfupxd] union_name[.member[,member...]]\n"
              "      [address | symbol][:cpuspec] [count | -c count]",
     .description = "The same as struct, for unions: without an address the layout (-o adds\n"
                    "offsets, which are all 0 unless members are nested), with an address the\n"
                    "union stored there, every member seen over the same bytes. A first word that\n"
                    "names a union runs union.\n\n" KDIVE_STRUCT_ADDRESS_HELP,
     .examples = "  kdive> union -o rcu_special\n"
                 "  union rcu_special {\n"
                 "        struct {\n"
                 "            u8 blocked;\n"
                 "            u8 need_qs;\n"
                 "            u8 exp_hint;\n"
                 "            u8 need_mb;\n"
                 "    [0] } b;\n"
                 "    [0] u32 s;\n"
                 "  }\n"
                 "  SIZE: 4\n"
                 "\n"
                 "  kdive> union rcu_special init_task.trc_reader_special\n"
                 "  union rcu_special {\n"
                 "    b = {\n"
                 "      blocked = 0 '\\000',\n"
                 "      need_qs = 0 '\\000',\n"
                 "      exp_hint = 0 '\\000',\n"
                 "      need_mb = 0 '\\000'\n"
                 "    },\n"
                 "    s = 0\n"
                 "  }",
     .options = struct_command_options(),
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "type", "value"},
              .notes = "As struct's: with an address, one {address, type, value} per union shown\n"
                       "(every member as an object over the same bytes, or the selected members);\n"
                       "without one, the layout as a list of {member, offset, size, type}; -r, -p\n"
                       "and :cpuspec as struct's.",
              .example = "union rcu_special init_task.trc_reader_special"}},
    run};

}  // namespace
}  // namespace kdive
