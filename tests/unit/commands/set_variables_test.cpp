// crash's `set` variables: reading names and values, and what print_max,
// print_array and null-stop change in the value printer.
#include "commands/set_variables.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "commands/api/command.hpp"
#include "commands/gdb_fallback.hpp"
#include "commands/value_format.hpp"
#include "tests/unit/support/elf_eval_context.hpp"

namespace kdive {
namespace {

std::string program() { return std::string(KDIVE_TYPEPROG_DIR) + "/types-dwarf5"; }

SessionFiles files() {
  SessionFiles f;
  f.vmlinux = "vmlinux";
  f.dumps = {"vmcore"};
  return f;
}

}  // namespace

TEST_CASE("set: a name, a value, several pairs", "[set]") {
  SessionSettings s;
  CHECK(apply_variables(s, {"print_max", "10"}) == std::vector<std::string>{"print_max"});
  CHECK(s.print_max == 10);
  CHECK(apply_variables(s, {"print_max", "0x20"}) == std::vector<std::string>{"print_max"});
  CHECK(s.print_max == 32);
  // A name followed by another name is shown, not set.
  CHECK(apply_variables(s, {"radix", "16", "hash", "print_array", "on", "null-stop", "on"}) ==
        std::vector<std::string>{"radix", "hash", "print_array", "null-stop"});
  CHECK(s.radix == 16);
  CHECK(s.hash);
  CHECK(s.print_array);
  CHECK(s.null_stop);
  apply_variables(s, {"zero_excluded", "on", "edit", "vi", "error", "redirect", "hash", "off"});
  CHECK(s.zero_excluded);
  CHECK(s.edit == "vi");
  CHECK(s.error == ErrorDestination::Redirect);
  CHECK_FALSE(s.hash);
  // silent on turns scrolling off, as in crash.
  CHECK(s.scroll);
  apply_variables(s, {"silent", "on"});
  CHECK(s.silent);
  CHECK_FALSE(s.scroll);
  apply_variables(s, {"console", "/dev/pts/3", "debug", "2", "core", "off", "gdb", "off", "scope", "0"});
  CHECK(s.console == "/dev/pts/3");
  CHECK(s.debug == 2);
  CHECK(is_variable("null-stop"));
  CHECK_FALSE(is_variable("1"));
  CHECK_FALSE(is_variable("ffff8880"));
}

TEST_CASE("set: a bad value names the variable and the value and changes nothing", "[set]") {
  SessionSettings s;
  auto message = [&](std::vector<std::string> words) {
    try {
      apply_variables(s, words);
    } catch (const CommandError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  CHECK(message({"print_max", "abc"}) == "print_max must be a number (decimal, or hex with 0x), not 'abc'");
  CHECK(message({"print_max", "-1"}) == "print_max must be a number (decimal, or hex with 0x), not '-1'");
  CHECK(message({"hash", "maybe"}) == "hash must be on or off, not 'maybe'");
  CHECK(message({"radix", "8"}) == "radix must be 10 or 16, not '8'");
  CHECK(message({"edit", "nano"}) == "edit must be vi or emacs, not 'nano'");
  if (kdive::gdb_built_in()) {
    CHECK(message({"gdb", "on"}) == "(no error)");
    CHECK(s.gdb_mode);
    CHECK(message({"gdb", "off"}) == "(no error)");
    CHECK_FALSE(s.gdb_mode);
  } else {
    CHECK(message({"gdb", "on"}) == "gdb on: kdive was built without GDB (-DKDIVE_GDB=OFF)");
  }
  CHECK(message({"core", "on"}).starts_with("core on: kdive never drops core"));
  CHECK(message({"namelist", "vmlinux2"}).starts_with("namelist vmlinux2: "));
  CHECK(message({"offline", "maybe"}) == "offline must be show or hide, not 'maybe'");
  CHECK(message({"unwind", "on"}).starts_with("unwind on: "));
  CHECK(message({"redzone", "maybe"}) == "redzone must be on or off, not 'maybe'");
  CHECK(s.redzone);
  // All or nothing: the good pair before the bad one is not applied.
  CHECK(message({"print_max", "5", "null-stop", "yes"}) == "null-stop must be on or off, not 'yes'");
  CHECK(s.print_max == kDefaultPrintMax);
  CHECK_FALSE(s.null_stop);
  CHECK(message({"print_max", "5", "bogus", "1"}) == "unknown variable: bogus");
  CHECK(s.print_max == kDefaultPrintMax);
}

TEST_CASE("set -v: crash's names, order and line format", "[set]") {
  SessionSettings s;
  s.scroll = false;
  std::string listing;
  for (const auto& name : variable_names()) listing += variable_list_line(s, files(), name) + "\n";
  // The lines crash 8.0.2 prints for these (its own values where kdive's
  // defaults are crash's).
  CHECK(
      listing.starts_with("        scroll: off\n"
                          "         radix: 10 (decimal)\n"
                          "       refresh: on\n"
                          "     print_max: 256\n"
                          "   print_array: off\n"
                          "       console: (not assigned)\n"
                          "         debug: 0\n"
                          "          core: off\n"
                          "          hash: on\n"
                          "        silent: off\n"));
  CHECK(listing.find("\n      namelist: vmlinux\n      dumpfile: vmcore\n        unwind: off\n"
                     " zero_excluded: off\n     null-stop: off\n           gdb: off\n"
                     "         scope: 0 (not set)\n       offline: show\n       redzone: on\n"
                     "         error: default\n") != std::string::npos);
  CHECK(variable_line(s, files(), "radix") == "output radix: 10 (decimal)");
  s.radix = 16;
  CHECK(variable_line(s, files(), "radix") == "output radix: 16 (hex)");
  CHECK(variable_line(s, files(), "print_max") == "print_max: 256");
  CHECK(variable_json(s, files(), "print_max") == 256);
  CHECK(variable_json(s, files(), "null-stop") == "off");
  CHECK(variable_json(s, files(), "console").is_null());
  // What kdive keeps but cannot act on says so.
  apply_variables(s, {"hash", "off", "console", "/dev/ttyS0"});
  CHECK(variable_line(s, files(), "hash") == "hash: off (kdive's walks still check for loops)");
  CHECK(variable_json(s, files(), "hash") == "off");
  CHECK(variable_line(s, files(), "console") == "console: /dev/ttyS0 (kdive writes nothing to it)");
  CHECK(variable_json(s, files(), "dumpfile") == Json::array({"vmcore"}));
}

TEST_CASE("set redzone: on, off, or a number as crash takes it", "[set]") {
  SessionSettings s;
  CHECK(s.redzone);  // crash's default: kmem shows slot starts, red zone included
  CHECK(apply_variables(s, {"redzone", "off"}) == std::vector<std::string>{"redzone"});
  CHECK_FALSE(s.redzone);
  CHECK(variable_line(s, files(), "redzone") == "redzone: off");
  CHECK(variable_list_line(s, files(), "redzone") == "       redzone: off");
  CHECK(variable_json(s, files(), "redzone") == "off");
  apply_variables(s, {"redzone", "1"});
  CHECK(s.redzone);
  CHECK(variable_json(s, files(), "redzone") == "on");
  apply_variables(s, {"redzone", "0"});
  CHECK_FALSE(s.redzone);
  apply_variables(s, {"redzone", "on"});
  CHECK(s.redzone);
  CHECK(variable_line(s, files(), "redzone") == "redzone: on");
  // Shown, not changed, when no value follows.
  CHECK(apply_variables(s, {"redzone"}) == std::vector<std::string>{"redzone"});
  CHECK(s.redzone);
}

TEST_CASE("set scope: the words are kept for the kernel to resolve; 0 unsets", "[set]") {
  SessionSettings s;
  apply_variables(s, {"scope", "iterate_dir"});
  CHECK(s.scope_text == "iterate_dir");
  CHECK_FALSE(s.scope);  // resolved by the set command, through the kernel
  CHECK(variable_line(s, files(), "scope") == "scope: 0 (not set)");
  CHECK(variable_json(s, files(), "scope").is_null());
  // What set shows once the kernel resolved it (crash: "scope: ADDR (SYM)").
  s.scope = 0xffffffff8134a0c4;
  s.scope_symbol = "iterate_dir+4";
  s.scope_unit = "fs/readdir.c";
  CHECK(variable_line(s, files(), "scope") == "scope: ffffffff8134a0c4 (iterate_dir+4)");
  CHECK(variable_list_line(s, files(), "scope") == "         scope: ffffffff8134a0c4 (iterate_dir+4)");
  CHECK(variable_json(s, files(), "scope") ==
        Json{{"address", "0xffffffff8134a0c4"}, {"symbol", "iterate_dir+4"}, {"unit", "fs/readdir.c"}});
  // A radix change leaves the scope as it is; 0 (in any spelling) unsets it.
  apply_variables(s, {"radix", "16"});
  CHECK(s.scope == 0xffffffff8134a0c4);
  for (const char* zero : {"0", "00", "0x0"}) {
    SessionSettings t = s;
    apply_variables(t, {"scope", zero});
    CHECK(t.scope_text.empty());
    CHECK_FALSE(t.scope);
    CHECK(variable_line(t, files(), "scope") == "scope: 0 (not set)");
  }
}

TEST_CASE("set print_max, print_array, null-stop: what p and struct print", "[set]") {
  test::ElfEvalContext ctx(program());
  auto show = [&](std::string_view e, const ValueFormat& f) { return format_top_level(evaluate(ctx, e), f); };
  ValueFormat f;
  f.print_max = 2;
  CHECK(show("the_task.grid[1]", f) == "{10, 11...}");
  CHECK(show("the_task.grid", f) == "{{0, 1...}, {10, 11...}...}");
  // Characters go in runs of one byte, each run whole (a run of 2 would show
  // past the limit; "kd-worker" has none).
  f.print_max = 4;
  CHECK(show("the_task.comm", f) == "\"kd-w\"...");
  f.print_max = 3;
  CHECK(show("the_task.comm", f) == "\"kd-\"...");
  f.print_max = 0;  // no limit
  std::string big = show("big_array", f);
  CHECK(std::count(big.begin(), big.end(), ',') == 299);
  CHECK(big.ends_with(", 0}"));

  ValueFormat lines;
  lines.print_array = true;
  CHECK(show("the_task.grid[1]", lines) == "{\n  10,\n  11,\n  12,\n  13\n}");
  lines.print_max = 1;
  CHECK(show("the_task.grid", lines) == "{\n  {\n    0...\n  }...\n}");
  // Inside a struct the elements go two columns deeper than the member.
  lines.print_max = 256;
  std::string task = show("the_task", lines);
  CHECK(task.find("\n  grid = {\n    {\n      0,\n      1,\n") != std::string::npos);
  // Char arrays stay strings.
  CHECK(show("the_task.comm", lines) == "\"kd-worker\\000\\000\\000\\000\\000\\000\"");

  ValueFormat nul;
  nul.null_stop = true;
  CHECK(show("the_task.comm", nul) == "\"kd-worker\"");
  // At the limit exactly, no runs: "kd-w"... at 4.
  nul.print_max = 4;
  CHECK(show("the_task.comm", nul) == "\"kd-w\"...");
  nul.print_max = 9;  // the whole string fits
  CHECK(show("the_task.comm", nul) == "\"kd-worker\"");

  // A char pointer's string follows string_max.
  ValueFormat str;
  str.string_max = 3;
  CHECK(show("the_task.name", str).ends_with(" \"hel\"..."));
}

}  // namespace kdive
