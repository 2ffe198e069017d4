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

namespace {

constexpr char kInline = kdive::long_only(1);

CommandSpec spec_with_long_options() {
  CommandSpec spec = spec_with_options();
  spec.options = {{'l', "", "lines"},
                  {'c', "cpu", "cpu", "cpu"},
                  {kInline, "", "inline frames", "inline"},
                  {kdive::long_only(2), "depth", "how deep", "depth"}};
  return spec;
}

}  // namespace

TEST_CASE("parse_args: long names map to the option's key", "[parse_args]") {
  auto args = parse_args(spec_with_long_options(), {"--inline", "-l", "--cpu=3", "--depth", "7", "1234"});
  CHECK(args.has(kInline));
  CHECK(args.value(kInline) == "");
  CHECK(args.has('l'));
  CHECK(args.value('c') == "3");
  CHECK(args.value(kdive::long_only(2)) == "7");
  CHECK(args.positional() == Words{"1234"});
  // The short and the long spelling are one option: values gather in order.
  auto both = parse_args(spec_with_long_options(), {"-c1", "--cpu", "2", "--cpu=", "-c", "4"});
  CHECK(both.all_values('c') == Words{"1", "2", "", "4"});
  // A value that itself begins with "--" is taken as the value.
  CHECK(parse_args(spec_with_long_options(), {"--cpu", "--inline"}).value('c') == "--inline");
  CHECK_FALSE(parse_args(spec_with_long_options(), {"--cpu", "--inline"}).has(kInline));
}

TEST_CASE("parse_args: long options end with '--' and with the first word where flags do", "[parse_args]") {
  auto args = parse_args(spec_with_long_options(), {"--", "--inline"});
  CHECK_FALSE(args.has(kInline));
  CHECK(args.positional() == Words{"--inline"});
  CommandSpec spec = spec_with_long_options();
  spec.flags_end_at_first_word = true;
  auto line = parse_args(spec, {"--inline", "bt", "--inline"});
  CHECK(line.has(kInline));
  CHECK(line.positional() == Words{"bt", "--inline"});
}

TEST_CASE("parse_args rejects unknown long names, missing values and values on switches", "[parse_args]") {
  CHECK_THROWS_WITH(parse_args(spec_with_long_options(), {"--inlined"}),
                    Catch::Equals("unknown option '--inlined' (see 'help demo')"));
  CHECK_THROWS_WITH(parse_args(spec_with_long_options(), {"--nope=3"}), Catch::Contains("'--nope'"));
  CHECK_THROWS_WITH(parse_args(spec_with_long_options(), {"--cpu"}), Catch::Contains("--cpu needs a value: cpu"));
  CHECK_THROWS_WITH(parse_args(spec_with_long_options(), {"--inline=yes"}), Catch::Contains("--inline takes no value"));
  // A long-only key cannot be typed as a short flag, and a short-only
  // option has no long name.
  CHECK_THROWS_WITH(parse_args(spec_with_long_options(), {std::string("-") + kInline}), Catch::Contains("invalid"));
  CHECK_THROWS_WITH(parse_args(spec_with_long_options(), {"--l"}), Catch::Contains("'--l'"));
}
