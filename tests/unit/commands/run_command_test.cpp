#include "commands/api/run_command.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "commands/api/json_values.hpp"
#include "commands/api/session.hpp"

namespace {

using kdive::Json;

// Commands that exist only in this test binary, one per outcome the runner
// must tell apart.
void answer(kdive::Session&, const kdive::ParsedArgs& args, kdive::Output& out) {
  out.print("forty-two\n");
  out.result({{"value", 42}, {"address", kdive::json_hex(0xffffffff81000000)}, {"flag", args.has('x')}});
}
void refuse(kdive::Session&, const kdive::ParsedArgs&, kdive::Output&) { throw kdive::CommandError("no such thing"); }
void lacks(kdive::Session&, const kdive::ParsedArgs&, kdive::Output&) {
  throw kdive::NotInKernel("kernel built without CONFIG_FOO");
}
void loses(kdive::Session&, const kdive::ParsedArgs&, kdive::Output& out) {
  out.print("item 1\n<damaged item 2>\nitem 3\n");
  out.warning("test-loses: 1 item could not be read");
  out.data_lost("item 2: page not in the dump");
  out.result(Json::array({1, nullptr, 3}));
}

// Registered commands are held to the manual rules of help_test: a full spec.
kdive::CommandSpec spec(std::string_view name, std::string_view usage) {
  return {.name = name,
          .summary = "a command of the run_command unit tests",
          .usage = usage,
          .description = "Exists only in the unit-test binary.",
          .examples = usage,
          .options = {{'x', "", "a flag"}},
          .aliases = {},
          .json = {.kind = kdive::JsonShape::Kind::Object, .keys = {"value"}, .notes = "", .example = usage}};
}

const kdive::CommandRegistrar r1{spec("test-answer", "test-answer [-x]"), answer};
const kdive::CommandRegistrar r2{spec("test-refuse", "test-refuse"), refuse};
const kdive::CommandRegistrar r3{spec("test-lacks", "test-lacks"), lacks};
const kdive::CommandRegistrar r4{spec("test-loses", "test-loses"), loses};

// Prints its arguments one per line, to show which form of the words it got.
void echo_words(kdive::Session&, const kdive::ParsedArgs& args, kdive::Output& out) {
  for (const auto& w : args.positional()) out.print("{}\n", w);
}
kdive::CommandSpec quoting_spec(std::string_view name, bool keeps_quotes) {
  kdive::CommandSpec s = spec(name, name);
  s.keeps_quotes = keeps_quotes;
  return s;
}
const kdive::CommandRegistrar r5{quoting_spec("test-c-text", true), echo_words};
const kdive::CommandRegistrar r6{quoting_spec("test-words", false), echo_words};

struct Runner {
  kdive::Session session{{}};
  kdive::StringOutput out;
  std::vector<std::string> errors;

  kdive::CommandStatus run(std::vector<std::string> words, kdive::OutputMode mode = kdive::OutputMode::Text) {
    out.set_mode(mode);
    std::string typed;
    for (const auto& w : words) typed += (typed.empty() ? "" : " ") + w;
    auto report = [this](std::string_view who, std::string_view what) {
      errors.push_back(std::string(who) + ": " + std::string(what));
    };
    return kdive::run_command(session, typed, words, out, report).status;
  }
  Json line() const { return Json::parse(out.str()); }
};

}  // namespace

TEST_CASE("run_command prints text, or one JSON Lines object with the result", "[run_command]") {
  Runner text;
  CHECK(text.run({"test-answer"}) == kdive::CommandStatus::Ok);
  CHECK(text.out.str() == "forty-two\n");

  Runner json;
  CHECK(json.run({"test-answer", "-x"}, kdive::OutputMode::Json) == kdive::CommandStatus::Ok);
  REQUIRE(json.out.str().back() == '\n');
  REQUIRE(std::count(json.out.str().begin(), json.out.str().end(), '\n') == 1);
  Json line = json.line();
  CHECK(line["command"] == "test-answer -x");
  CHECK(line["result"]["value"] == 42);
  CHECK(line["result"]["address"] == "0xffffffff81000000");
  CHECK(line["result"]["flag"] == true);
  CHECK_FALSE(line.contains("error"));
}

TEST_CASE("run_command reports a failure on one line, and as an error object in JSON", "[run_command]") {
  Runner text;
  CHECK(text.run({"test-refuse"}) == kdive::CommandStatus::Failed);
  CHECK(text.out.str().empty());
  CHECK(text.errors == std::vector<std::string>{"test-refuse: no such thing"});

  Runner json;
  CHECK(json.run({"test-refuse"}, kdive::OutputMode::Json) == kdive::CommandStatus::Failed);
  CHECK(json.line() == Json{{"command", "test-refuse"}, {"error", "no such thing"}});

  Runner unknown;
  CHECK(unknown.run({"no-such-command"}, kdive::OutputMode::Json) == kdive::CommandStatus::Failed);
  CHECK(unknown.line()["error"] == "command not found: no-such-command (try 'help')");

  Runner bad_flag;
  CHECK(bad_flag.run({"test-answer", "-q"}, kdive::OutputMode::Json) == kdive::CommandStatus::Failed);
  CHECK(bad_flag.line()["error"].get<std::string>().find("invalid option -- 'q'") == 0);
}

TEST_CASE("A kernel that lacks the thing asked for is an answer, not a failure", "[run_command]") {
  Runner text;
  CHECK(text.run({"test-lacks"}) == kdive::CommandStatus::Ok);
  CHECK(text.errors == std::vector<std::string>{"test-lacks: kernel built without CONFIG_FOO"});

  Runner json;
  CHECK(json.run({"test-lacks"}, kdive::OutputMode::Json) == kdive::CommandStatus::Ok);
  CHECK(json.line() == Json{{"command", "test-lacks"}, {"unavailable", "kernel built without CONFIG_FOO"}});
}

TEST_CASE("An item shown with a marker makes the run 'data lost', in text and JSON", "[run_command]") {
  Runner text;
  CHECK(text.run({"test-loses"}) == kdive::CommandStatus::DataLost);
  CHECK(text.out.str() == "item 1\n<damaged item 2>\nitem 3\ntest-loses: 1 item could not be read\n");

  Runner json;
  CHECK(json.run({"test-loses"}, kdive::OutputMode::Json) == kdive::CommandStatus::DataLost);
  Json line = json.line();
  CHECK(line["result"] == Json::array({1, nullptr, 3}));
  CHECK(line["warnings"] == Json::array({"test-loses: 1 item could not be read"}));
  CHECK(line["lost"] == Json::array({"item 2: page not in the dump"}));
}

TEST_CASE("Text in JSON mode is dropped; a result in text mode is ignored", "[output]") {
  kdive::StringOutput json(kdive::OutputMode::Json);
  json.print("{}\n", "text");
  json.result({{"a", 1}});
  CHECK(json.str().empty());
  CHECK(json.take_result() == Json{{"a", 1}});
  CHECK(json.take_result().is_null());

  kdive::StringOutput text;
  text.result({{"a", 1}});
  CHECK_FALSE(text.has_result());
}

TEST_CASE("A command of C text gets its words with their quotes, the others without", "[run_command]") {
  const std::vector<std::string> words{"x", "a b", "c"};
  const std::vector<std::string> quoted{"x", "\"a b\"", "'c'"};
  auto run = [&](const std::string& name) {
    kdive::Session session{{}};
    kdive::StringOutput out;
    std::vector<std::string> w = words, q = quoted;
    w.front() = q.front() = name;
    kdive::run_command(
        session, name, w, out, [](std::string_view, std::string_view) {}, &q);
    return out.str();
  };
  CHECK(run("test-c-text") == "\"a b\"\n'c'\n");
  CHECK(run("test-words") == "a b\nc\n");
}
