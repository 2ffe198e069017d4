// What a kdive command is: a declarative spec (name, synopsis, help, options) and a
// run function, registered once in a process-wide table. One file per command.
//
//   // commands/echo.cpp
//   namespace {
//   void run(Session&, const ParsedArgs& args, Output& out) { ... }
//   const CommandRegistrar registrar{{
//       .name = "echo", .summary = "print text", .usage = "echo [text ...]",
//       .description = "...", .examples = "...", .options = {}}, run};
//   }
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kdive {

class Session;
class Output;

// A wrong flag, a missing argument, a value that does not parse: the command
// stops and the shell prints "<command>: <message>" on one line.
class CommandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The command answered correctly that the kernel lacks what was asked for
// (`sys config` on a kernel built without IKCONFIG): reported on one line like
// an error, but the command has not failed (batch exit status 0).
class NotInKernel : public CommandError {
 public:
  using CommandError::CommandError;
};

// The documented shape of a command's JSON result, shown by `help` and checked
// by the tests: an object with these keys, or a list of objects that each have
// them. `notes` says what the flags change and what the values mean;
// `example` is a command line that shows this shape on any kernel's dump (no
// literal addresses), which the real-kernel tests run on every fixture.
struct JsonShape {
  enum class Kind { Object, List };
  Kind kind = Kind::Object;
  std::vector<std::string_view> keys;
  std::string_view notes;
  std::string_view example;
};

// One option of a command. `flag` is the key the command asks ParsedArgs
// about, whichever way the user spelled the option:
//   {'l', "", "show source lines"}                    -l
//   {'c', "cpu", "that CPU's task", "cpu"}            -c 1, -c1, --cpu 1, --cpu=1
//   {long_only(1), "", "inline frames", "inline"}     --inline only
// A long-only option (one crash does not have) takes a key that no one can
// type as a short flag: long_only(n), a control character; keys must be
// unique within a command.
struct OptionSpec {
  char flag;                  // single letter, as in crash: ps -k -u (or long_only(n))
  std::string_view argument;  // name of the flag's value ("" for a plain switch)
  std::string_view help;
  std::string_view long_name = {};  // "inline" for --inline ("" when there is none)
};

// The key of the n-th long-only option of a command (n from 1 to 31).
constexpr char long_only(int n) { return static_cast<char>(n); }
// Whether a key can be typed as a short flag ("-x"): printable, not '-'.
constexpr bool has_short_form(char flag) { return flag > ' ' && flag < 127 && flag != '-'; }

struct CommandSpec {
  std::string_view name;
  std::string_view summary;      // one line, shown by `help`
  std::string_view usage;        // synopsis: "ps [-k|-u] [pid | task | command] ..."
  std::string_view description;  // paragraphs of prose
  std::string_view examples;     // "kdive> ps -k\n  ...output..."
  std::vector<OptionSpec> options;
  std::vector<std::string_view> aliases;
  JsonShape json;
  // Flags end at the first positional word: what follows is another command's
  // line (alias NAME ps -p, foreach RU ps -l) and is kept word for word.
  bool flags_end_at_first_word = false;
  // Its arguments are C or GDB text: the words keep the quotes they were typed
  // with ("..." is a C string, 'c' a character), rather than the shell's
  // quoting taking them off.
  bool keeps_quotes = false;
};

// Arguments after option parsing: flags seen (in order, repeatable), their values,
// and the remaining positional words.
class ParsedArgs {
 public:
  bool has(char flag) const { return values_.count(flag) != 0; }
  // The last value given for a flag that takes an argument.
  std::optional<std::string> value(char flag) const;
  const std::vector<std::string>& all_values(char flag) const;
  const std::vector<std::string>& positional() const { return positional_; }

  void add_flag(char flag, std::string value) { values_[flag].push_back(std::move(value)); }
  void add_positional(std::string word) { positional_.push_back(std::move(word)); }

 private:
  std::map<char, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

// Parses words (without the command name) against the spec's option table.
// Flags combine ("-kl"), values follow the flag or stand next ("-c1", "-c 1"),
// long names take their value after '=' or as the next word ("--cpu=1",
// "--cpu 1"), "--" ends flags, and a lone "-" or a negative number is
// positional. An unknown flag or long name, a missing value, or a value given
// to a switch ("--inline=1") is a CommandError naming it.
ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& words);

using CommandFn = std::function<void(Session&, const ParsedArgs&, Output&)>;

struct Command {
  CommandSpec spec;
  CommandFn run;
};

class CommandRegistry {
 public:
  static CommandRegistry& instance();

  void add(Command command);
  // Takes a command and its aliases out of the table (extend -u); false when
  // there is no command of that name.
  bool remove(std::string_view name);
  // By name or alias; nullptr when unknown.
  const Command* find(std::string_view name) const;
  // All commands, sorted by name.
  std::vector<const Command*> all() const;

 private:
  std::map<std::string, Command, std::less<>> commands_;
  std::map<std::string, std::string, std::less<>> aliases_;
};

struct CommandRegistrar {
  CommandRegistrar(CommandSpec spec, CommandFn run);
};

}  // namespace kdive
