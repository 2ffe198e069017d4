// wr: crash's command to write kernel memory. kdive never writes to the
// kernel it reads (a dump is evidence; a live kernel is someone's running
// system), so wr exists to say so, in one line.
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"

namespace kdive {
namespace {

void run(Session&, const ParsedArgs&, Output&) {
  throw CommandError("kdive never writes kernel memory: dumps and live kernels are only read");
}

const CommandRegistrar registrar{
    {.name = "wr",
     .summary = "write memory (refused: kdive only reads)",
     .usage = "wr [-u|-k|-p] [-8|-16|-32|-64] [address | symbol] value",
     .description = "crash's wr writes a value into kernel, user or physical memory. kdive never\n"
                    "writes to the kernel it examines: a dump is evidence to keep as it is, and a\n"
                    "live kernel is a running system. wr takes any arguments and refuses with one\n"
                    "line saying so (exit status 1 in batch mode). `sys -panic` refuses for the\n"
                    "same reason.",
     .examples = "  kdive> wr jiffies 0\n"
                 "  wr: kdive never writes kernel memory: dumps and live kernels are only read",
     .options = {{'u', "", "user virtual address (refused)"},
                 {'k', "", "kernel virtual address (refused)"},
                 {'p', "", "physical address (refused)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"error"},
              .notes = "wr never has a result: its JSON line is {\"command\", \"error\"} with the reason.",
              .example = "wr jiffies 0"},
     .flags_end_at_first_word = true},
    run};

}  // namespace
}  // namespace kdive
