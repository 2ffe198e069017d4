#include <catch2/catch.hpp>

#include "commands/api/command.hpp"

using kdive::CommandError;
using kdive::CommandSpec;
using kdive::parse_args;
using Words = std::vector<std::string>;

namespace {

CommandSpec spec_with_options() {
  return CommandSpec{.name = "demo",
                     .summary = "",
                     .usage = "",
                     .description = "",
                     .examples = "",
                     .options = {{'k', "", "kernel"}, {'u', "", "user"}, {'c', "cpu", "cpu"}},
                     .aliases = {},
                     .json = {}};
}

}  // namespace

TEST_CASE("parse_args: combined flags, values, positionals", "[parse_args]") {
  auto args = parse_args(spec_with_options(), {"-ku", "-c", "1", "-c2", "1234", "bash"});
  CHECK(args.has('k'));
  CHECK(args.has('u'));
  CHECK(args.all_values('c') == Words{"1", "2"});
  CHECK(args.value('c') == "2");
  CHECK(args.positional() == Words{"1234", "bash"});
  CHECK(args.value('k') == "");
}

TEST_CASE("parse_args: '--', '-' and negative numbers are positional", "[parse_args]") {
  auto args = parse_args(spec_with_options(), {"-1", "-", "--", "-k"});
  CHECK_FALSE(args.has('k'));
  CHECK(args.positional() == Words{"-1", "-", "-k"});
  auto value = parse_args(spec_with_options(), {"-c", "-1"});
  CHECK(value.value('c') == "-1");
}

TEST_CASE("parse_args rejects unknown flags and missing values", "[parse_args]") {
  CHECK_THROWS_WITH(parse_args(spec_with_options(), {"-z"}), Catch::Contains("-- 'z'"));
  CHECK_THROWS_WITH(parse_args(spec_with_options(), {"-kc"}), Catch::Contains("-c needs a value"));
  CHECK_THROWS_AS(parse_args(spec_with_options(), {"-c"}), CommandError);
}
