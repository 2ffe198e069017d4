// Handing work to the embedded GDB from kdive's commands: `gdb CMD` sends one
// command, `p` sends an expression its native evaluator cannot parse, and a
// command kdive does not know goes to GDB (as crash does), each with a note
// the first time. The native engine stays first for everything it answers:
// GDB costs ~2.5 s and ~370 MB on first use (a type question such as
// `ptype struct list_head` would cost GDB 20 s and 1.8 GB: never sent).
//
//   if (gdb_takes_over(session, error, expr)) return print_through_gdb(...);
//   std::string text = run_in_gdb(session, "info symbol 0xffffffff81000000");
#pragma once

#include <exception>
#include <string>
#include <string_view>

#include "commands/api/output.hpp"

namespace kdive {

class Session;

// Whether kdive has GDB built in.
bool gdb_built_in();

// Runs one GDB command over the session's dump with its current context as
// GDB's thread (GDB loads on first use); throws CommandError with GDB's
// one-line error, or Interrupted.
std::string run_in_gdb(Session& session, std::string_view line);

// Whether `error`, thrown by kdive's evaluator for `expression`, means GDB
// should evaluate it instead: syntax kdive's evaluator does not parse, or
// GDB's value history ($, $1, $$2) — and kdive has GDB.
bool gdb_takes_over(const std::exception& error, std::string_view expression);

// The first time a kind of work (`what`: "p", "unknown commands") goes to
// GDB in this process, a warning saying so (text: a line; JSON: "warnings").
void note_gdb_once(Output& out, std::string_view what, std::string_view note);

// ptype or whatis (`command`) of an expression kdive's evaluator does not
// parse, by GDB: prints GDB's text and gives the JSON result {name, kind:
// null, type: GDB's spelling, size: null, gdb: true}.
void type_through_gdb(Session& session, std::string_view command, const std::string& expression, Output& out);

// The text GDB printed for a value ("$3 = 42\n"), without the history
// number: "42". The text as it is when it is not of that form.
std::string gdb_value_text(std::string_view printed);

}  // namespace kdive
