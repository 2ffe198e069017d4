// Tab completion's logic: a line and a cursor give the candidates, from
// indexes built here — command specs written out below, a few symbol names,
// and the types of a compiled C program through the kernel's TypeSystem and
// NameLists (no readline, no dump).
#include "analyzer/completer.hpp"

#include <catch2/catch.hpp>

#include "commands/api/command.hpp"
#include "kernel-model/name_lists.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

using Catch::Matchers::Equals;
using Catch::Matchers::VectorContains;

CommandSpec spec(std::string_view name, std::vector<OptionSpec> options = {},
                 std::vector<std::string_view> aliases = {}) {
  CommandSpec s;
  s.name = name;
  s.options = std::move(options);
  s.aliases = std::move(aliases);
  return s;
}

class TestSource : public CompletionSource {
 public:
  TestSource() : types_(KDIVE_TYPEPROG_DIR "/types-dwarf5", ""), lists_(nullptr, &types_) {
    specs_.push_back(spec("ps", {{'k', "", "kernel threads"},
                                 {'u', "", "user tasks"},
                                 {'c', "cpu", "of a CPU", "cpu"},
                                 {long_only(1), "", "long only", "lonely"}}));
    specs_.push_back(spec("p", {}, {"print"}));
    for (const char* name : {"pte", "union", "ptype", "help", "sym"}) specs_.push_back(spec(name));
    specs_.push_back(spec("struct", {{'o', "", "offsets"}}));
    specs_.push_back(spec("mod", {{'s', "module", "load"}}));
  }

  void commands(std::string_view prefix, std::vector<std::string>& out) override {
    for (const auto& s : specs_) {
      if (s.name.starts_with(prefix)) out.emplace_back(s.name);
      for (auto a : s.aliases) {
        if (a.starts_with(prefix)) out.emplace_back(a);
      }
    }
  }
  const CommandSpec* command(std::string_view name) override {
    for (const auto& s : specs_) {
      if (s.name == name) return &s;
      for (auto a : s.aliases) {
        if (a == name) return &s;
      }
    }
    return nullptr;
  }
  void symbols(std::string_view prefix, std::vector<std::string>& out) override {
    for (auto s : symbols_.with_prefix(prefix)) out.emplace_back(s);
  }
  void types(NameKind kind, std::string_view prefix, std::vector<std::string>& out) override {
    for (auto s : lists_.types(kind).with_prefix(prefix)) out.emplace_back(s);
  }
  const Type* symbol_type(std::string_view name) override { return types_.variable_type(name); }
  const Type* type_named(NameKind kind, std::string_view name) override { return types_.find(kind, name); }

 private:
  std::vector<CommandSpec> specs_;
  // The program's variables, and one with no DWARF type (a text symbol).
  SortedNames symbols_{{"the_task", "task_ptr", "tasks_array", "the_counts", "counter", "do_handle", "do_callback"}};
  TypeSystem types_;
  NameLists lists_;
};

Completion at_end(TestSource& s, std::string_view line) { return complete_line(s, line, line.size()); }

}  // namespace

TEST_CASE("the first word completes to command names and aliases", "[completer]") {
  TestSource s;
  auto c = at_end(s, "p");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"p", "print", "ps", "pte", "ptype"}));
  CHECK(c.start == 0);
  c = at_end(s, "  pr");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"print"}));
  CHECK(c.start == 2);
  // After ';' a new command starts.
  c = at_end(s, "ps -k; he");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"help"}));
  CHECK(c.start == 7);
}

TEST_CASE("a word starting with '-' completes to the command's flags", "[completer]") {
  TestSource s;
  auto c = at_end(s, "ps -");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"--cpu", "--lonely", "-c", "-k", "-u"}));
  c = at_end(s, "ps -k --l");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"--lonely"}));
  CHECK(c.start == 6);
  // An unknown command has no flags: file names answer.
  CHECK(at_end(s, "nosuch -").files);
}

TEST_CASE("help completes command names", "[completer]") {
  TestSource s;
  auto c = at_end(s, "help pt");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"pte", "ptype"}));
  CHECK(c.start == 5);
}

TEST_CASE("struct and union complete type names of their kind", "[completer]") {
  TestSource s;
  auto c = at_end(s, "struct ta");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task"}));
  CHECK(c.append_space);
  c = at_end(s, "struct -o li");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"list_head"}));
  // ptype after the keyword: that kind only; without one, types and symbols.
  c = at_end(s, "ptype enum co");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"colour"}));
  c = at_end(s, "ptype pid_");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"pid_chain_t", "pid_like_t"}));
  c = at_end(s, "ptype co");
  CHECK_THAT(c.candidates, VectorContains(std::string("counter")));
  CHECK_THAT(c.candidates, VectorContains(std::string("counts")));
}

TEST_CASE("struct NAME. completes members, one level per Tab", "[completer]") {
  TestSource s;
  auto c = at_end(s, "struct task.co");
  // `colour`, and `comm`; and the members of the anonymous union inline.
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task.colour", "task.comm"}));
  CHECK(c.display_skip == 5);
  c = at_end(s, "struct task.");
  CHECK_THAT(c.candidates, VectorContains(std::string("task.word")));
  CHECK_THAT(c.candidates, VectorContains(std::string("task.high")));
  // Nested through an embedded struct and a pointer; ',' starts another path.
  c = at_end(s, "struct task.point.");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task.point.x", "task.point.y"}));
  c = at_end(s, "struct task.pid,parent.na");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task.pid,parent.name"}));
  // A member that is a struct wants a '.' next, not a space.
  c = at_end(s, "struct task.poi");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task.point"}));
  CHECK_FALSE(c.append_space);
  // Not a member, or a scalar on the way: nothing.
  CHECK(at_end(s, "struct task.nosuch.").candidates.empty());
  CHECK(at_end(s, "struct task.pid.").candidates.empty());
  CHECK(at_end(s, "struct nosuch.").candidates.empty());
}

TEST_CASE("p completes symbols and member paths through pointers and arrays", "[completer]") {
  TestSource s;
  auto c = at_end(s, "p the_");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"the_counts", "the_task"}));
  c = at_end(s, "p the_ta");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"the_task"}));
  CHECK_FALSE(c.append_space);  // a struct: a '.' may follow
  c = at_end(s, "p count");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"counter"}));
  CHECK(c.append_space);
  c = at_end(s, "p the_task.co");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"the_task.colour", "the_task.comm"}));
  CHECK(c.start == 2);
  c = at_end(s, "p the_task.com");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"the_task.comm"}));
  CHECK(c.append_space);
  c = at_end(s, "p task_ptr->pa");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task_ptr->parent"}));
  c = at_end(s, "p task_ptr->parent->tasks.ne");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"task_ptr->parent->tasks.next"}));
  c = at_end(s, "p tasks_array[1].pi");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"tasks_array[1].pid"}));
  // What stands before the operand stays as typed; listings leave out the stem.
  c = at_end(s, "p *the_task.par");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"*the_task.parent"}));
  CHECK(c.display_skip == std::string("*the_task.").size());
  c = at_end(s, "p/x &the_ta");
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"&the_task"}));
  // print is p; sym completes symbols too.
  CHECK_THAT(at_end(s, "print the_task.pi").candidates, Equals(std::vector<std::string>{"the_task.pid"}));
  CHECK_THAT(at_end(s, "sym do_").candidates, Equals(std::vector<std::string>{"do_callback", "do_handle"}));
  // A symbol with no variable type (a function) has no members.
  CHECK(at_end(s, "p do_handle.").candidates.empty());
}

TEST_CASE("completion stops where the cursor is", "[completer]") {
  TestSource s;
  std::string line = "p the_task.co and more";
  auto c = complete_line(s, line, std::string("p the_task.co").size());
  CHECK_THAT(c.candidates, Equals(std::vector<std::string>{"the_task.colour", "the_task.comm"}));
}

TEST_CASE("pipes, redirects, escapes and other commands' arguments are file names", "[completer]") {
  TestSource s;
  CHECK(at_end(s, "ps | gr").files);
  CHECK(at_end(s, "ps > /tm").files);
  CHECK(at_end(s, "!ls /tm").files);
  CHECK(at_end(s, "mod -s x /lib/mo").files);
  CHECK(at_end(s, "p \"the_").files);
  // "->" and ">=" are operators, not redirects.
  CHECK_FALSE(at_end(s, "p task_ptr->pi").files);
  // After ';' the plumbing of the previous command is over.
  CHECK_FALSE(at_end(s, "ps > f; p the_").files);
}

TEST_CASE("SortedNames finds every name with a prefix", "[completer]") {
  SortedNames names({"b", "abc", "ab", "abd", "a", "ab", "c"});
  auto v = names.with_prefix("ab");
  CHECK_THAT(std::vector<std::string_view>(v.begin(), v.end()),
             Equals(std::vector<std::string_view>{"ab", "abc", "abd"}));
  CHECK(names.with_prefix("").size() == 6);  // the repeated "ab" once
  CHECK(names.with_prefix("d").empty());
  CHECK(names.with_prefix("abcd").empty());
}

}  // namespace kdive
