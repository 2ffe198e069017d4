// A well-formed test extension whose commands need no dump: one that greets
// (text, JSON, an alias), one that tries to unload its own extension while it
// runs, and one that throws something that is not an exception.
#include <fmt/format.h>

#include <string>

#include "extensions/kdive_extension.hpp"

namespace {

void hello(kdive::Session&, const kdive::ParsedArgs& args, kdive::Output& out) {
  std::string who = args.positional().empty() ? "world" : args.positional().front();
  out.print("hello {}\n", who);
  out.result({{"greeting", "hello " + who}});
}

void unload_self(kdive::Session& session, const kdive::ParsedArgs&, kdive::Output& out) {
  std::string refusal;
  kdive::run_command(
      session, "extend -u hello", {"extend", "-u", "hello"}, out,
      [&](std::string_view who, std::string_view message) { refusal = fmt::format("{}: {}", who, message); });
  out.print("{}\n", refusal);
  out.result({{"refusal", refusal}});
}

void throw_int(kdive::Session&, const kdive::ParsedArgs&, kdive::Output&) { throw 42; }

}  // namespace

KDIVE_EXTENSION("hello", "test commands") {
  host.add_command({.name = "ext-hello",
                    .summary = "greet",
                    .usage = "ext-hello [name]",
                    .description = "Greets.",
                    .examples = "  kdive> ext-hello\n  hello world",
                    .options = {},
                    .aliases = {"ext-hi"},
                    .json = {.keys = {"greeting"}, .notes = "", .example = "ext-hello"}},
                   hello);
  host.add_command({.name = "ext-unload-self",
                    .summary = "try to unload this extension",
                    .usage = "ext-unload-self",
                    .description = "Runs extend -u hello from inside one of hello's commands.",
                    .examples = "  kdive> ext-unload-self",
                    .options = {},
                    .aliases = {},
                    .json = {.keys = {"refusal"}, .notes = "", .example = "ext-unload-self"}},
                   unload_self);
  host.add_command({.name = "ext-throw-int",
                    .summary = "throw an int",
                    .usage = "ext-throw-int",
                    .description = "Throws 42.",
                    .examples = "  kdive> ext-throw-int",
                    .options = {},
                    .aliases = {},
                    .json = {.keys = {}, .notes = "", .example = "ext-throw-int"}},
                   throw_int);
}
