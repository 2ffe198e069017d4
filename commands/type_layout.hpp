// Type layouts as crash's struct/union/whatis and gdb's ptype print them:
// members one per line as C declarations, anonymous structs/unions opened
// inline, optionally with crash's offset column ("  [2232] pid_t pid;",
// right-aligned to the width of the struct's size) and a "SIZE: N" line.
//
//   TypeLayoutOptions o{.offsets = true, .radix = 16};
//   out.write(format_layout(types.require("struct list_head"), o));
//   // struct list_head {
//   //    [0x0] struct list_head *next;
//   //    [0x8] struct list_head *prev;
//   // }
//   // SIZE: 0x10
//   Json j = layout_json(types.require("struct list_head"));
//   // [{"member": "next", "offset": 0, "size": 8, "type": "struct list_head *"}, ...]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "commands/api/json_values.hpp"
#include "kernel-model/type.hpp"

namespace kdive {

struct TypeLayoutOptions {
  bool offsets = false;    // crash's -o: each member's offset in brackets
  int radix = 10;          // offsets and SIZE in decimal or 0x hex
  bool size_line = true;   // "SIZE: N" after the closing brace
  bool gdb_style = false;  // ptype: "type = " before, member indent of 4, no SIZE
};

// The layout of a struct, union or enum (typedefs are followed to it).
std::string format_layout(const Type& type, const TypeLayoutOptions& options);

// Only the members named by `paths` ("pid", "se.on_rq"), each with its offset
// from the start of `type`, inside "struct NAME {" ... "}" — crash's
// "struct -o task_struct.pid,comm" and "whatis task_struct.pid".
// Throws Error(Lookup) naming an unknown member.
std::string format_member_layout(const Type& type, const std::vector<std::string>& paths,
                                 const TypeLayoutOptions& options);

// "struct task_struct", "union {...}": how a layout names the type in its
// first line.
std::string layout_heading(const Type& type);

// A struct's or union's layout as JSON: a list of {member, offset, size, type}
// (bitfields add bit_offset, counted from the byte at offset, and bit_size),
// the members of anonymous structs and unions listed as the enclosing one's,
// with their offsets from its start. With `base` (the address of an
// instance), each member also has its "address".
Json layout_json(const Type& type, std::optional<uint64_t> base = std::nullopt);
// The same for the members named by `paths` ("pid", "se.on_rq"), named as given.
Json member_layout_json(const Type& type, const std::vector<std::string>& paths,
                        std::optional<uint64_t> base = std::nullopt);
// What whatis and ptype say of a type in JSON: {kind, type, size} and, for a
// struct or union, its "members" (layout_json), for an enum its "enumerators"
// [{name, value}]. `kind` is the C kind after typedefs and qualifiers:
// "struct", "union", "enum", "pointer", "array", "function", "base" or "void".
Json type_json(const Type& type);

}  // namespace kdive
