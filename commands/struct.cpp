// struct: a structure's layout, or its contents at an address (crash's forms;
// the work is shared with union and `*` in struct_command.cpp).
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/struct_command.hpp"

namespace kdive {
namespace {

void run(Session& session, const ParsedArgs& args, Output& out) { run_struct_command(session, args, out, "struct"); }

const CommandRegistrar registrar{
    {.name = "struct",
     .summary = "structure contents or layout",
     .usage = "struct [-o] [-l offset] [-rfupxd] struct_name[.member[,member...]]\n"
              "       [address | symbol][:cpuspec] [count | -c count]",
     .description = "Without an address, shows the layout of a structure as C declarations and\n"
                    "its size; -o adds each member's offset. With an address, shows the\n"
                    "structure stored there, member by member, as gdb prints values. Members may\n"
                    "be selected with .member[,member...], including nested members such as\n"
                    "se.on_rq and array elements such as cpus_mask.bits[0]; then only those\n"
                    "lines print. As in crash, the command name may be left out: a first word\n"
                    "that names a struct (\"task_struct.pid ADDR\") runs struct.\n\n" KDIVE_STRUCT_ADDRESS_HELP,
     .examples = "  kdive> struct -o list_head\n"
                 "  struct list_head {\n"
                 "     [0] struct list_head *next;\n"
                 "     [8] struct list_head *prev;\n"
                 "  }\n"
                 "  SIZE: 16\n"
                 "\n"
                 "  kdive> struct task_struct.pid,comm ffffffff82613940\n"
                 "    pid = 0,\n"
                 "    comm = \"swapper/0\\000\\000\\000\\000\\000\\000\",\n"
                 "\n"
                 "  kdive> struct -x page ffffea0000040000 2\n"
                 "\n"
                 "  kdive> struct rq.nr_running runqueues:a\n"
                 "  [0]: ffff88803ec2c0c0\n"
                 "    nr_running = 1,\n"
                 "  [1]: ffff88803ed2c0c0\n"
                 "    nr_running = 0,\n"
                 "\n"
                 "  kdive> struct -l task_struct.tasks task_struct.pid,comm ffff888003a1b7b8\n"
                 "\n"
                 "  kdive> struct -p file.f_path,f_op ffff888004c2e600\n"
                 "  kdive> struct -r list_head init_task.tasks",
     .options = struct_command_options(),
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "type", "value"},
              .notes = "With an address, one object per structure shown: its address, its type and\n"
                       "its value — the whole struct as an object (member -> value), or the selected\n"
                       "members as {\"pid\": 1, \"se.on_rq\": 0}. Values: structs are objects, arrays\n"
                       "arrays, char arrays text (up to the NUL), pointers \"0x...\" strings, enums\n"
                       "names, integers numbers (beyond 2^53, \"0x...\" strings); a member that\n"
                       "cannot be read is null. -x and -d change only the text. Without an address,\n"
                       "the layout: a list of {member, offset, size, type} (bitfields add bit_offset\n"
                       "and bit_size); -o with an address adds each member's address. -r gives\n"
                       "{address, type, size, raw: [{address, values, ascii}]}; -p adds\n"
                       "\"dereferenced\": {member: {pointer, target}}, target the pointed-to value,\n"
                       "string or {symbol}, or null. With :cpuspec, one {cpu, address, instances}\n"
                       "per CPU, instances as above.",
              .example = "struct task_struct.pid,comm init_task"}},
    run};

}  // namespace
}  // namespace kdive
