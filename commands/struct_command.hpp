// The shared body of crash's `struct`, `union` and `*` commands
// (commands/struct.cpp, union.cpp, pointer.cpp): a layout, or instances at an
// address (kernel, per-CPU, user, or a dump file offset), or selected members
// of them, shown whole, raw, or with pointers followed.
//
//   run_struct_command(session, args, out, "struct");
//   run_struct_command(session, args, out, "");   // `*`: struct or union, whichever the name is
#pragma once

#include <string_view>
#include <vector>

#include "commands/api/command.hpp"

namespace kdive {

class Session;
class Output;

// `keyword` is "struct" or "union": the kind of type the name must denote;
// "" accepts either.
void run_struct_command(Session& session, const ParsedArgs& args, Output& out, std::string_view keyword);

// The options the three commands share, with their help lines.
std::vector<OptionSpec> struct_command_options();

// The part of their help that explains addresses, counts and the options: a
// string literal, so that each command's description can be joined to it at
// compile time (a CommandSpec holds string_views).
#define KDIVE_STRUCT_ADDRESS_HELP                                                      \
  "The address is hex, a symbol, or a global variable's member such as\n"              \
  "init_task.se. A count shows that many consecutive instances (a negative count,\n"   \
  "those before the address ending with it); -c gives the count anywhere on the\n"     \
  "line. A per-CPU symbol or offset takes crash's :cpuspec suffix: \"runqueues:1\",\n" \
  "\"runqueues:1,3\", \"runqueues:a\" (every CPU), \"runqueues:\" (the current\n"      \
  "context's CPU); each CPU's copy is shown after a \"[cpu]: address\" line.\n"        \
  "-l names where the address points inside the instance, as \"struct.member\" or a\n" \
  "number of bytes: an address taken from a list_head embedded in it, say.\n"          \
  "-u reads a user address of the current context (see `set`), -f an offset into\n"    \
  "the dump file itself. -r shows the raw bytes as rd does; -p follows every\n"        \
  "pointer member: its type and value, then \"->\" and what it points at (the\n"       \
  "string, symbol, or the pointed-to data). -x and -d choose hexadecimal or\n"         \
  "decimal integers."

}  // namespace kdive
