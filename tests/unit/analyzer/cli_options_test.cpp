#include "analyzer/cli_options.hpp"

#include <catch2/catch.hpp>

using kdive::parse_cli;
using Words = std::vector<std::string>;

TEST_CASE("parse_cli takes files and batch flags", "[cli]") {
  auto p = parse_cli({"-b", "-c", "sys; bt", "--command=ps", "-i", "a.cmds", "vmlinux", "vmcore"});
  REQUIRE_FALSE(p.error);
  CHECK(p.options.batch);
  CHECK(p.options.commands == Words{"sys; bt", "ps"});
  CHECK(p.options.input_files == Words{"a.cmds"});
  CHECK(p.options.positional == Words{"vmlinux", "vmcore"});
}

TEST_CASE("parse_cli combines short flags and attached values", "[cli]") {
  auto p = parse_cli({"-bscsys", "vmlinux", "vmcore", "--ignore-mismatch"});
  REQUIRE_FALSE(p.error);
  CHECK(p.options.batch);
  CHECK(p.options.silent);
  CHECK(p.options.ignore_mismatch);
  CHECK(p.options.commands == Words{"sys"});
  CHECK(p.options.positional == Words{"vmlinux", "vmcore"});
}

TEST_CASE("parse_cli: help and version", "[cli]") {
  CHECK(parse_cli({"--help"}).options.help);
  CHECK(parse_cli({"-h"}).options.help);
  CHECK(parse_cli({"--version"}).options.version);
  CHECK(parse_cli({"-V"}).options.version);
}

TEST_CASE("parse_cli: '--' ends options", "[cli]") {
  auto p = parse_cli({"--", "-odd-name", "vmcore"});
  REQUIRE_FALSE(p.error);
  CHECK(p.options.positional == Words{"-odd-name", "vmcore"});
}

TEST_CASE("parse_cli reports bad arguments in one line", "[cli]") {
  auto unknown = parse_cli({"--frobnicate", "vmlinux"});
  REQUIRE(unknown.error);
  CHECK(unknown.error->find("--frobnicate") != std::string::npos);

  auto short_unknown = parse_cli({"-x"});
  REQUIRE(short_unknown.error);
  CHECK(short_unknown.error->find("-x") != std::string::npos);

  auto missing = parse_cli({"vmlinux", "-c"});
  REQUIRE(missing.error);
  CHECK(missing.error->find("-c") != std::string::npos);

  CHECK(parse_cli({"-M", "a", "b"}).error);
  CHECK_FALSE(parse_cli({"vmlinux", "part1", "part2"}).error);
  CHECK_FALSE(parse_cli({"vmlinux"}).error);  // live: the running kernel
  CHECK_FALSE(parse_cli({}).error);

  CHECK(parse_cli({"--batch=yes"}).error);
  for (auto* e : {&unknown, &short_unknown, &missing}) {
    CHECK(e->error->find('\n') == std::string::npos);
  }
}

TEST_CASE("parse_cli: --srcdir names the source tree, long form only", "[cli]") {
  auto p = parse_cli({"--srcdir", "/src/linux", "vmlinux", "vmcore"});
  REQUIRE_FALSE(p.error);
  CHECK(p.options.source_dir == "/src/linux");
  CHECK(p.options.positional == Words{"vmlinux", "vmcore"});
  auto inline_value = parse_cli({"--srcdir=/src/linux", "vmlinux"});
  REQUIRE_FALSE(inline_value.error);
  CHECK(inline_value.options.source_dir == "/src/linux");
  CHECK_FALSE(parse_cli({"vmlinux"}).options.source_dir);

  auto missing = parse_cli({"vmlinux", "--srcdir"});
  REQUIRE(missing.error);
  CHECK(missing.error->find("--srcdir") != std::string::npos);
  CHECK(parse_cli({"-S", "/src/linux", "vmlinux"}).error);  // no short form
}

TEST_CASE("parse_cli: start-up file options are long-only", "[cli]") {
  auto p = parse_cli({"--no-rc", "--crashrc", "vmlinux"});
  REQUIRE_FALSE(p.error);
  CHECK(p.options.no_rc);
  CHECK(p.options.crashrc);
  CHECK_FALSE(parse_cli({"vmlinux"}).options.no_rc);
  CHECK_FALSE(parse_cli({"vmlinux"}).options.crashrc);
  CHECK(parse_cli({"-N"}).error);
  CHECK(parse_cli({"-C"}).error);
  CHECK(parse_cli({"--no-rc=1"}).error);
}
