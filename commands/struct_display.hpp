// How struct and union show what is stored at an address: the instance as gdb
// prints it, selected members, member addresses (-o), the raw bytes (-r), and
// the instance with its pointer members followed (-p). The memory comes from
// an EvalContext, so the same code shows kernel memory, a task's user memory
// (-u) or the dump file's own bytes (-f).
//
//   StructTarget t = parse_struct_target(kernel.types(), "task_struct.pid,comm", "struct");
//   Json j = print_struct_instance(KernelEvalContext(kernel), t, address, format, out);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands/api/json_values.hpp"

namespace kdive {

class EvalContext;
class Kernel;
class Output;
class Type;
class TypeSystem;
struct ValueFormat;

// "task_struct", "task_struct.pid,comm", "task_struct.se.on_rq".
struct StructTarget {
  const Type* type;
  std::vector<std::string> members;  // empty: the whole struct
};

// Checks the type (a struct or union, per `keyword`, or a typedef of one) and
// every member before anything is read. Throws CommandError.
StructTarget parse_struct_target(TypeSystem& types, std::string_view spec, std::string_view keyword);

// The instance at `address`: the whole struct, or the selected members.
Json print_struct_instance(const EvalContext& ctx, const StructTarget& target, uint64_t address, const ValueFormat& f,
                           Output& out);

// crash's -o with an address: each member's address instead of its offset.
Json print_member_addresses(const StructTarget& target, uint64_t address, Output& out);

// crash's -r: the instance's bytes (or its one selected member's) as rd shows
// them — 64-bit words two to a line with their ASCII, or one value of the
// member's size when that is 1, 2 or 4 bytes.
Json print_raw_instance(const EvalContext& ctx, const StructTarget& target, uint64_t address, Output& out);

// crash's -p: the instance with every pointer member followed: the pointer's
// type and value, then "->" and what it points at — a string, a symbol, the
// struct, or NULL / (not accessible). Kernel pointers only.
Json print_dereferenced_instance(const Kernel& k, const StructTarget& target, uint64_t address, const ValueFormat& f,
                                 Output& out);

}  // namespace kdive
