// Value formatting as gdb (and so crash) prints values: structs as
// "{\n  pid = 1,\n  comm = \"init\\000...\"\n}" with two spaces per nesting level,
// pointers as 0xffff..., function pointers and pointers into symbols as
// "0xffffffff81234567 <schedule>", enums by name, char arrays as strings with
// octal escapes, other arrays as "{1, 2, 3}". Used by p, struct, union and,
// through print_struct_members(), by any command that shows selected members
// of structures (list -s, tree -s).
//
//   ValueFormat f = value_format_for(kernel, /*radix=*/16);
//   out.print("$1 = {}\n", format_top_level(value, f));
//   print_struct_members(out, instance, {"pid", "comm", "se.on_rq"}, f);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/expression.hpp"

namespace kdive {

class Kernel;
class Output;

struct ValueFormat {
  int radix = 10;  // 10 or 16: integers in decimal or 0x hex (gdb's output-radix)
  // "<schedule+16>"-style name of an address, or nullopt; empty: no symbols.
  std::function<std::optional<std::string>(uint64_t)> symbolize;
};

// Symbols from the kernel's symbol table, named as gdb names them.
ValueFormat value_format_for(const Kernel& kernel, int radix);

// The value as gdb prints it inside an aggregate; `indent` is the column of
// the line the value starts on (nested members go two columns deeper).
std::string format_value(const Value& v, const ValueFormat& f, int indent = 0);
// As after "$1 = ": pointers carry their type, "(struct task_struct *) 0x...",
// functions "{void (void)} 0x... <schedule>".
std::string format_top_level(const Value& v, const ValueFormat& f);

// The selected members of one struct/union instance, one per line as crash's
// "struct task_struct.pid,comm ADDR" prints them: "  pid = 1,". A member path
// may be nested ("se.on_rq") and is printed as given. An unknown member throws
// Error(Lookup) before anything is printed.
void print_struct_members(Output& out, const Value& instance, const std::vector<std::string>& members,
                          const ValueFormat& f);

// A C string literal body with gdb's escapes (\n, \", \\, other bytes as \ooo).
std::string escape_c_string(std::string_view bytes);

}  // namespace kdive
