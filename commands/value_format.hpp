// The one value printer of kdive's commands: p, struct, union, task -R and the
// -s members of list and tree all print values through it, as gdb (and so
// crash) prints them — structs as "{\n  pid = 1,\n  comm = \"init\\000...\"\n}"
// with two spaces per nesting level, pointers as 0xffff..., function pointers
// and pointers into symbols as "0xffffffff81234567 <schedule>", enums by name,
// char arrays as strings with octal escapes, other arrays as "{1, 2, 3}" —
// and builds the same values' JSON: structs as objects, arrays as arrays,
// pointers as "0x..." strings, char arrays as text, integers as numbers.
//
//   ValueFormat f = value_format_for(kernel, /*radix=*/16);
//   out.print("$1 = {}\n", format_top_level(value, f));
//   print_struct_members(out, instance, {"pid", "comm", "se.on_rq"}, f);
//   Json j = value_json(value);     // {"pid": 1, "comm": "init", ...}
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/api/json_values.hpp"
#include "kernel-model/expression.hpp"

namespace kdive {

class Kernel;
class Output;
struct SessionSettings;

struct ValueFormat {
  int radix = 10;  // 10 or 16: integers in decimal or 0x hex (gdb's output-radix)
  // "<schedule+16>"-style name of an address, or nullopt; empty: no symbols.
  std::function<std::optional<std::string>(uint64_t)> symbolize;
  // `set print_max N` (gdb's print elements): the elements of an array, or
  // characters of a char array, shown before "..."; 0 shows them all.
  uint64_t print_max = 256;
  // The characters of a string a char pointer points to shown before "...":
  // 200 (gdb's default) until `set print_max` changes both.
  uint64_t string_max = 200;
  // `set print_array on` (gdb's print array): one element per line.
  bool print_array = false;
  // `set null-stop on` (gdb's print null-stop): a char array ends at its
  // first NUL.
  bool null_stop = false;
};

// Symbols from the kernel's symbol table, named as gdb names them.
ValueFormat value_format_for(const Kernel& kernel, int radix);
// The same with the session's print_max, print_array and null-stop.
ValueFormat value_format_for(const Kernel& kernel, int radix, const SessionSettings& settings);

// The value as gdb prints it inside an aggregate; `indent` is the column of
// the line the value starts on (nested members go two columns deeper).
std::string format_value(const Value& v, const ValueFormat& f, int indent = 0);
// As after "$1 = ": pointers carry their type, "(struct task_struct *) 0x...",
// functions "{void (void)} 0x... <schedule>".
std::string format_top_level(const Value& v, const ValueFormat& f);
// A whole struct or union as crash's struct command shows one:
// "struct list_head {\n  next = 0x...,\n  prev = 0x...\n}". Reads it once.
std::string format_instance(const Value& v, const ValueFormat& f);

// A member of a struct/union value by path: "pid", "se.on_rq", and with
// subscripts "cpus_mask.bits[0]" (a pointer on the way is followed, as '->').
// Throws Error(Lookup) naming the type and the member when there is none.
Value member_at_path(const Value& instance, std::string_view path);
// The type of that member, checked without reading memory: commands check
// every member a user names before printing anything.
const Type& member_type_at_path(const Type& type, std::string_view path);

// Whether the member a path names is the last member of the struct or union
// that directly holds it (where gdb's print of that struct puts no comma).
bool is_last_member(const Type& type, std::string_view path);

// The selected members of one struct/union instance, one per line as crash's
// "struct task_struct.pid,comm ADDR" prints them: "  pid = 1," (no comma
// after a member that is the last of its struct: "  prev = 0x0"). A member path
// is printed as given. An unknown member throws Error(Lookup) before anything
// is printed. Returns the same members as a JSON object, {"pid": 1,
// "se.on_rq": 0}. When the instance cannot be read whole, each member is read
// on its own: one that cannot be read prints "<error: ...>" (null in the
// JSON) and is reported as lost data; when none can, the Fault is thrown.
Json print_struct_members(Output& out, const Value& instance, const std::vector<std::string>& members,
                          const ValueFormat& f);

// A value's JSON: structs and unions as objects member by member (the members
// of anonymous structs and unions as the enclosing one's, as C names them),
// arrays as arrays (the first kJsonArrayElementsMax elements), char arrays as
// text up to their first NUL, pointers and functions as "0x..." addresses,
// enums by name (a number when no enumerator matches), bools as true/false,
// integers as numbers (beyond 2^53, where a JSON number loses digits, as
// "0x..." strings of their bits). A member that cannot be read is null.
Json value_json(const Value& v);
constexpr uint64_t kJsonArrayElementsMax = 65536;
// An integer as value_json() writes one.
Json json_integer(uint64_t v);
Json json_integer(int64_t v);

// A C string literal body with gdb's escapes (\n, \", \\, other bytes as \ooo,
// and a digit right after an octal escape escaped too, so that it reads back).
std::string escape_c_string(std::string_view bytes);

}  // namespace kdive
