// The shared body of crash's `struct` and `union` commands (commands/struct.cpp,
// commands/union.cpp): a layout, or instances at an address, or selected
// members of them.
//
//   run_struct_command(session, args, out, "struct");
#pragma once

#include <string_view>

namespace kdive {

class Session;
class ParsedArgs;
class Output;

// `keyword` is "struct" or "union": the kind of type the name must denote.
void run_struct_command(Session& session, const ParsedArgs& args, Output& out, std::string_view keyword);

}  // namespace kdive
