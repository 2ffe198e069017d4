// Completer: what Tab offers at a point of a command line — command names,
// a command's flags (from its CommandSpec), symbols, struct/union/enum type
// names and member paths (`p init_task.co` -> comm, one level per Tab) —
// chosen by where the cursor is: after `struct`/`union`/`ptype`/`whatis` type
// names, after `p`/`rd`/`sym`/`dis` symbols, after `help` commands. Pure logic
// over a CompletionSource (the indexes), so it is tested without readline or
// a dump; line_editor.cpp feeds readline from it.
//
//   SessionCompletionSource source(session);
//   Completion c = complete_line(source, "struct task_str", 15);
//   // c.start == 7, c.candidates == {"task_struct", ...}
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/dwarf_name_scan.hpp"

namespace kdive {

struct CommandSpec;
class Type;

struct Completion {
  size_t start = 0;                     // where the word being completed begins
  std::vector<std::string> candidates;  // each replaces the line from start to the cursor
  // Characters at the front of every candidate that a listing leaves out (the
  // "init_task." before the member names).
  size_t display_skip = 0;
  // After a lone candidate: a space, or nothing where a path may go on (a
  // struct member, a symbol of struct type).
  bool append_space = true;
  // Not a word kdive knows (a file after `>`, a shell command after `|` or
  // `!`, an argument no index describes): let file-name completion answer.
  bool files = false;
};

// The names completion draws from. Prefix searches append to `out`.
class CompletionSource {
 public:
  virtual ~CompletionSource() = default;
  // Command names and aliases.
  virtual void commands(std::string_view prefix, std::vector<std::string>& out) = 0;
  // The command a name (or alias) runs; nullptr when none.
  virtual const CommandSpec* command(std::string_view name) = 0;
  virtual void symbols(std::string_view prefix, std::vector<std::string>& out) = 0;
  // Type names of one kind (Struct, Union, Enum, Typedef, Base).
  virtual void types(NameKind kind, std::string_view prefix, std::vector<std::string>& out) = 0;
  // The type of a global variable; nullptr when unknown.
  virtual const Type* symbol_type(std::string_view name) = 0;
  // A type by kind and name; nullptr when unknown.
  virtual const Type* type_named(NameKind kind, std::string_view name) = 0;
};

// The candidates for the word that ends at `cursor` (a byte offset into
// `line`), sorted and without repeats.
Completion complete_line(CompletionSource& source, std::string_view line, size_t cursor);

}  // namespace kdive
