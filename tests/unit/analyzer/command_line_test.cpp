#include "analyzer/command_line.hpp"

#include <catch2/catch.hpp>

using kdive::parse_invocation;
using kdive::split_commands;
using kdive::split_words;
using kdive::SyntaxError;
using Words = std::vector<std::string>;

TEST_CASE("split_commands splits at unquoted semicolons", "[command_line]") {
  CHECK(split_commands("sys; bt -a ;ps") == Words{"sys", "bt -a", "ps"});
  CHECK(split_commands("echo 'a;b'; echo \"c;d\"") == Words{"echo 'a;b'", "echo \"c;d\""});
  CHECK(split_commands("echo a\\;b") == Words{"echo a\\;b"});
  CHECK(split_commands("  ;; ") == Words{});
  CHECK(split_commands("# a comment; sys") == Words{});
  CHECK(split_commands("sys; # rest is a comment; ps") == Words{"sys"});
  CHECK(split_commands("echo a#b") == Words{"echo a#b"});
  CHECK(split_commands("!ls; echo x") == Words{"!ls; echo x"});
}

TEST_CASE("split_words follows shell quoting", "[command_line]") {
  CHECK(split_words("  ps   -k  ") == Words{"ps", "-k"});
  CHECK(split_words("echo 'a  b' \"c \\\" d\" e\\ f") == Words{"echo", "a  b", "c \" d", "e f"});
  CHECK(split_words("echo ''") == Words{"echo", ""});
  CHECK(split_words("a'b'\"c\"") == Words{"abc"});
  CHECK_THROWS_AS(split_words("echo 'open"), SyntaxError);
  CHECK_THROWS_AS(split_words("echo \"open"), SyntaxError);
}

TEST_CASE("split_words can keep the quotes for C and GDB text", "[command_line]") {
  using kdive::Quotes;
  CHECK(split_words("p \"a  b\" 'c' x\\ y", Quotes::Keep) == Words{"p", "\"a  b\"", "'c'", "x\\ y"});
  CHECK(split_words("p \"say \\\"hi\\\"\"", Quotes::Keep) == Words{"p", "\"say \\\"hi\\\"\""});
  CHECK(split_words("p $_streq(\"a\", 'b')", Quotes::Keep) == Words{"p", "$_streq(\"a\",", "'b')"});
  CHECK_THROWS_AS(split_words("p \"open", Quotes::Keep), SyntaxError);
  auto inv = kdive::parse_invocation("gdb p \"a|b\" | cat");
  CHECK(inv.words == Words{"gdb", "p", "a|b"});
  CHECK(inv.quoted_words == Words{"gdb", "p", "\"a|b\""});
  CHECK(inv.pipeline == "cat");
}

TEST_CASE("parse_invocation finds pipelines", "[command_line]") {
  auto inv = parse_invocation("ps -k | grep kworker | wc -l");
  CHECK(inv.words == Words{"ps", "-k"});
  CHECK(inv.pipeline == "grep kworker | wc -l");
  CHECK(inv.redirect_path.empty());

  auto quoted = parse_invocation("echo 'a|b' | cat");
  CHECK(quoted.words == Words{"echo", "a|b"});
  CHECK(quoted.pipeline == "cat");

  // A redirect after the pipe belongs to the shell pipeline.
  auto both = parse_invocation("log | tail -5 > out.txt");
  CHECK(both.words == Words{"log"});
  CHECK(both.pipeline == "tail -5 > out.txt");
  CHECK(both.redirect_path.empty());
}

TEST_CASE("parse_invocation finds redirects", "[command_line]") {
  auto inv = parse_invocation("bt -a > /tmp/bt.txt");
  CHECK(inv.words == Words{"bt", "-a"});
  CHECK(inv.redirect_path == "/tmp/bt.txt");
  CHECK_FALSE(inv.append);

  auto app = parse_invocation("sys >>'my file'");
  CHECK(app.words == Words{"sys"});
  CHECK(app.redirect_path == "my file");
  CHECK(app.append);

  CHECK(parse_invocation("echo '>' x").words == Words{"echo", ">", "x"});
}

TEST_CASE("parse_invocation rejects malformed lines", "[command_line]") {
  CHECK_THROWS_AS(parse_invocation("ps |"), SyntaxError);
  CHECK_THROWS_AS(parse_invocation("ps >"), SyntaxError);
  CHECK_THROWS_AS(parse_invocation("ps > a b"), SyntaxError);
  CHECK_THROWS_AS(parse_invocation("| grep x"), SyntaxError);
  CHECK_THROWS_AS(parse_invocation("ps > f | grep x"), SyntaxError);
}

TEST_CASE("parse_invocation recognizes shell escapes", "[command_line]") {
  auto inv = parse_invocation("!ls -l | wc");
  CHECK(inv.is_shell_escape);
  CHECK(inv.shell_escape == "ls -l | wc");
  CHECK(parse_invocation("!").is_shell_escape);
  CHECK(parse_invocation("!").shell_escape.empty());
}

TEST_CASE("C operators in expressions are not plumbing", "[command_line]") {
  auto arrow = parse_invocation("p ((struct task_struct *)0)->pid");
  CHECK(arrow.redirect_path.empty());
  CHECK(arrow.words == Words{"p", "((struct", "task_struct", "*)0)->pid"});
  auto both = parse_invocation("p init_task.tasks.next->prev > out.txt");
  CHECK(both.redirect_path == "out.txt");
  CHECK(both.words == Words{"p", "init_task.tasks.next->prev"});
  auto logical = parse_invocation("eval 1 || 0 | cat");
  CHECK(logical.words == Words{"eval", "1", "||", "0"});
  CHECK(logical.pipeline == "cat");
  CHECK(parse_invocation("p jiffies >= 5").redirect_path.empty());
}
