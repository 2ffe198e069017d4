// Arguments shared by `list` and `tree` (and start addresses by struct and
// union), crash-style: member offsets given as "struct.member" or a number of
// bytes, start addresses that may name a global variable's member
// ("init_task.tasks"), and what -s/-S shows of each entry, printed by the one
// value printer (value_format.hpp), and the marker shown where a walk broke.
//
//   uint64_t off = parse_member_offset(k, "task_struct.tasks");   // 0x7b8 (say)
//   uint64_t head = parse_start(k, "init_task.tasks");            // &init_task.tasks
//   EntryStructs shown(k, args.all_values('s'), radix);
//   Json entry = {{"address", json_hex(a)}};
//   shown.show(out, VirtAddr{a}, entry);     // "  pid = 1," ... and entry["task_struct"]
//   mark_break(out, "tree", b, entries);     // "ffff...  (damaged: ...)" and {"error", "at"}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands/api/json_values.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
class Output;
struct SessionSettings;
class Type;

// "struct.member[.member...]" (the offset of the member in the struct) or a
// number: decimal, or hex with 0x. Throws CommandError naming what is wrong.
uint64_t parse_member_offset(const Kernel& k, std::string_view text);
// Whether `text` spells "type.member" for a type the kernel has.
bool is_type_member(const Kernel& k, std::string_view text);
// An address: hex, symbol[+-offset], or "variable.member[.member]" (the
// address of that member of a global variable).
uint64_t parse_start(const Kernel& k, std::string_view text);

// What -s/-S shows of each entry: whole structures ("task_struct") or some of
// their members ("task_struct.pid,comm", "task_struct.se.on_rq"), as crash's
// list -s prints them: "struct task_struct {...}", or "  pid = 1," lines.
class EntryStructs {
 public:
  // Each spec is "struct" or "struct.member[,member...]"; several specs show
  // one after the other. Unknown structures and members throw CommandError
  // before anything is printed. `radix` is 10 or 16.
  EntryStructs(const Kernel& k, const std::vector<std::string>& specs, int radix);

  bool empty() const { return shown_.empty(); }
  // Arrays printed as the session's print_max, print_array and null-stop say.
  void use_settings(const SessionSettings& settings) { settings_ = &settings; }
  // Prints what is shown of the structure(s) at `entry` and adds their JSON
  // to `into` under each structure's name ({"task_struct": {"pid": 1, ...}}).
  // A structure that cannot be read prints a marker line, is reported as lost
  // data and is null in the JSON; the caller goes on with the next entry.
  void show(Output& out, VirtAddr entry, Json& into) const;

 private:
  struct Shown {
    const Type* type;
    std::string name;                  // "task_struct": the JSON key
    std::vector<std::string> members;  // empty: the whole structure
  };
  const Kernel& k_;
  std::vector<Shown> shown_;
  int radix_;
  const SessionSettings* settings_ = nullptr;
};

// Shows the place a walk broke, where it lies among the entries: the marker
// line "<at>  (damaged: <reason>)" in the text, the element {"error": reason,
// "at": "0x..."} appended to the JSON list `entries`, and one item of lost
// data ("<command>: <at>: <reason>") so that batch mode exits with data lost.
void mark_break(Output& out, std::string_view command, const WalkBreak& b, Json& entries);

}  // namespace kdive
