// Shell: runs kdive command lines against a Session. It owns the plumbing every
// command shares — ';' lists, pipes, redirects, '!' escapes, error reporting —
// and the three ways commands arrive: -c strings, script streams (-i, stdin) and
// the interactive prompt (where long output is paged) — and start-up files.
//
//   Shell shell(session, stdout, stderr);
//   shell.run_rc_file("/home/me/.kdiverc");
//   shell.run_line("sys; ps | grep bash");
//   shell.run_interactive();
#pragma once

#include <cstdio>
#include <filesystem>
#include <istream>
#include <string>
#include <string_view>

#include "commands/api/session.hpp"

namespace kdive {

class Shell {
 public:
  Shell(Session& session, std::FILE* out, std::FILE* err) : session_(session), out_(out), err_(err) {}

  // Runs every command on the line; returns false if any of them failed.
  // A failure is reported on `err` as one line and the shell goes on.
  bool run_line(std::string_view line);

  // Reads lines until end of input or `quit`; returns the number of failed commands.
  int run_stream(std::istream& in);

  // The readline prompt, until `quit` or end of input.
  void run_interactive();

  // Runs a start-up file's commands (rc_files.hpp). An error is one line
  // naming file:line, and the rest of the file still runs; its failures do not
  // count in failures() (they are the file's, not the session's commands').
  void run_rc_file(const std::filesystem::path& path);

  int failures() const { return failures_; }
  // Commands that ran but showed at least one item with a "could not read" marker.
  int data_lost() const { return data_lost_; }

 private:
  static constexpr int kMaxAliasDepth = 8;  // "alias a b" + "alias b a" must end
  // `typed`: what the user typed when `line` is an alias's expansion into one
  // command, so JSON echoes "q" as "q"; empty otherwise.
  bool run_line(std::string_view line, int alias_depth, std::string_view typed);
  bool run_command(std::string_view text, std::string_view typed);
  void report(std::string_view who, std::string_view message);

  Session& session_;
  std::FILE* out_;
  std::FILE* err_;
  int failures_ = 0;
  int data_lost_ = 0;
  bool interactive_ = false;  // at the prompt: output to the terminal is paged
  std::string location_;      // "file:line: " while a start-up file runs
};

}  // namespace kdive
