#include <catch2/catch.hpp>
#include <set>
#include <string_view>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace {

std::string run(const std::vector<std::string>& words) {
  kdive::Session session({});
  kdive::StringOutput out;
  const kdive::Command* help = kdive::CommandRegistry::instance().find("help");
  REQUIRE(help != nullptr);
  help->run(session, kdive::parse_args(help->spec, words), out);
  return out.str();
}

}  // namespace

TEST_CASE("help lists every registered command", "[help]") {
  std::string index = run({});
  for (const kdive::Command* c : kdive::CommandRegistry::instance().all()) {
    CHECK(index.find(std::string(c->spec.name)) != std::string::npos);
  }
}

TEST_CASE("every command has a complete manual", "[help]") {
  for (const kdive::Command* c : kdive::CommandRegistry::instance().all()) {
    INFO(c->spec.name);
    CHECK_FALSE(c->spec.summary.empty());
    CHECK(c->spec.usage.substr(0, c->spec.name.size()) == c->spec.name);
    CHECK_FALSE(c->spec.description.empty());
    CHECK_FALSE(c->spec.examples.empty());
    // A command is not done without its JSON result's documented shape and an
    // example that shows it (the real-kernel tests run that example).
    CHECK_FALSE(c->spec.json.keys.empty());
    CHECK_FALSE(c->spec.json.example.empty());
    std::string manual = run({std::string(c->spec.name)});
    CHECK(manual.find("JSON RESULT") != std::string::npos);
    CHECK(manual.find("SYNOPSIS\n  " + std::string(c->spec.usage)) != std::string::npos);
    CHECK(manual.find("EXAMPLES") != std::string::npos);
    std::set<char> keys;
    std::set<std::string_view> long_names;
    for (const auto& o : c->spec.options) {
      CHECK(keys.insert(o.flag).second);  // one key, one option: ParsedArgs could not tell them apart
      CHECK((o.long_name.empty() || long_names.insert(o.long_name).second));
      CHECK((o.long_name.empty() || manual.find("--" + std::string(o.long_name)) != std::string::npos));
      CHECK((!kdive::has_short_form(o.flag) || manual.find(std::string("-") + o.flag) != std::string::npos));
      CHECK((kdive::has_short_form(o.flag) || !o.long_name.empty()));  // every option can be typed
    }
  }
}

TEST_CASE("help finds commands by alias and rejects unknown names", "[help]") {
  CHECK(run({"q"}).find("NAME\n  quit") != std::string::npos);
  CHECK_THROWS_WITH(run({"nosuchcommand"}), Catch::Contains("no such command or help topic: nosuchcommand"));
}

TEST_CASE("help input, output, commands and all", "[help]") {
  const std::string input = run({"input"});
  CHECK(input.starts_with("INPUT\n"));
  CHECK(input.find(".kdiverc") != std::string::npos);
  CHECK(run({"output"}).starts_with("OUTPUT\n"));
  CHECK(run({"commands"}) == run({}));
  // all: both pages, then every command's manual once, in the registry's order.
  const std::string all = run({"all"});
  CHECK(all.starts_with(input));
  size_t at = all.find("OUTPUT\n");
  REQUIRE(at != std::string::npos);
  for (const kdive::Command* c : kdive::CommandRegistry::instance().all()) {
    INFO(c->spec.name);
    const size_t next = all.find("NAME\n  " + std::string(c->spec.name) + " - ", at);
    REQUIRE(next != std::string::npos);
    CHECK(all.find("NAME\n  " + std::string(c->spec.name) + " - ", next + 1) == std::string::npos);
    at = next;
  }
}

TEST_CASE("help shows long options in the manual and in JSON", "[help]") {
  // A command of this test's own, so the check does not depend on bt's table.
  const kdive::CommandSpec spec{.name = "longopts-demo",
                                .summary = "demo",
                                .usage = "longopts-demo",
                                .description = "demo",
                                .examples = "demo",
                                .options = {{'c', "cpu", "a cpu", "cpu"},
                                            {kdive::long_only(1), "", "expand the frames", "inline"},
                                            {'l', "", "lines"}},
                                .aliases = {},
                                .json = {.keys = {"x"}, .notes = "", .example = "longopts-demo"}};
  kdive::CommandRegistry::instance().add({spec, [](kdive::Session&, const kdive::ParsedArgs&, kdive::Output&) {}});
  std::string manual = run({"longopts-demo"});
  kdive::Session session({});
  kdive::StringOutput json_out(kdive::OutputMode::Json);
  const kdive::Command* help = kdive::CommandRegistry::instance().find("help");
  help->run(session, kdive::parse_args(help->spec, {"longopts-demo"}), json_out);
  kdive::CommandRegistry::instance().remove("longopts-demo");
  const kdive::Json options = json_out.take_result()[0]["options"];
  REQUIRE(options.size() == 3);
  CHECK(options[0]["flag"] == "c");
  CHECK(options[0]["long"] == "cpu");
  CHECK(options[1]["flag"].is_null());  // long-only: no letter to type
  CHECK(options[1]["long"] == "inline");
  CHECK(options[2]["long"].is_null());
  CHECK(manual.find("\n  -c, --cpu cpu  a cpu\n") != std::string::npos);
  CHECK(manual.find("\n  --inline       expand the frames\n") != std::string::npos);
  CHECK(manual.find("\n  -l             lines\n") != std::string::npos);
}
