// Arguments shared by `list` and `tree`, crash-style: member offsets given as
// "struct.member" or a number of bytes, start addresses that may name a global
// variable's member ("init_task.tasks"), and the -s/-S member printer.
//
//   uint64_t off = parse_member_offset(k, "task_struct.tasks");   // 0x7b8 (say)
//   uint64_t head = parse_start(k, "init_task.tasks");            // &init_task.tasks
//   EntryMembers members(k, args.all_values('s'), radix);
//   members.print(out, VirtAddr{entry});
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;
class Output;
class Type;

// "struct.member[.member...]" (the offset of the member in the struct) or a
// number: decimal, or hex with 0x. Throws CommandError naming what is wrong.
uint64_t parse_member_offset(const Kernel& k, std::string_view text);
// Whether `text` spells "type.member" for a type the kernel has.
bool is_type_member(const Kernel& k, std::string_view text);
// An address: hex, symbol[+-offset], or "variable.member[.member]" (the
// address of that member of a global variable).
uint64_t parse_start(const Kernel& k, std::string_view text);

// Prints the members -s asks for, one per line under each entry. Interim:
// a minimal printer (member = value, nested structs in braces) until a shared
// struct-member printer exists; list and tree only use print().
class EntryMembers {
 public:
  enum class Radix { Default, Hex, Decimal };
  // Each spec is "struct" (every member) or "struct.member[,member...]".
  EntryMembers(const Kernel& k, const std::vector<std::string>& specs, Radix radix);

  bool empty() const { return requests_.empty(); }
  // Members of the structure at `entry`; a member that cannot be read prints
  // its fault and the rest go on.
  void print(Output& out, VirtAddr entry) const;

 private:
  struct Request {
    const Type* type;
    std::vector<std::string> members;  // empty: the whole structure
  };
  const Kernel& k_;
  std::vector<Request> requests_;
  Radix radix_;
};

}  // namespace kdive
