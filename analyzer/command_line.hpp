// Command-line syntax of the kdive shell: how one input line becomes commands.
//
//   sys; bt -a | grep -v idle > /tmp/bt.txt
//
// splits at unquoted ';' into commands; each command's words are split like a
// POSIX shell would (single quotes literal, double quotes with \" and \\), the
// first unquoted '|' hands the rest of the text to /bin/sh as a pipeline fed by
// the command's output, and a trailing '> file' / '>> file' redirects it.
// A line starting with '!' is a shell escape; '#' starts a comment line.
//
//   auto inv = parse_invocation("ps -k | wc -l");
//   // inv.words == {"ps", "-k"}, inv.pipeline == "wc -l"
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kdive {

// A malformed line (unterminated quote, redirect without a file name, ...).
class SyntaxError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Invocation {
  std::vector<std::string> words;  // words[0] is the command name
  // The same words with their quotes and backslashes as typed, for commands
  // whose arguments are C or GDB text ("..." a string, 'c' a character).
  std::vector<std::string> quoted_words;
  std::string pipeline;       // shell text after the first unquoted '|'
  std::string redirect_path;  // target of '>' or '>>' (without a pipeline)
  bool append = false;        // '>>' rather than '>'
  std::string shell_escape;   // text after a leading '!' (may be empty)
  bool is_shell_escape = false;
};

// Splits a line at unquoted ';'. Empty pieces and '#' comment lines are dropped.
std::vector<std::string> split_commands(std::string_view line);

// Parses one command (no ';'). Throws SyntaxError.
Invocation parse_invocation(std::string_view text);

// Splits text into words with the quoting rules above; with Quotes::Keep the
// quotes group words but stay in them. Throws SyntaxError.
enum class Quotes { Strip, Keep };
std::vector<std::string> split_words(std::string_view text, Quotes quotes = Quotes::Strip);

}  // namespace kdive
