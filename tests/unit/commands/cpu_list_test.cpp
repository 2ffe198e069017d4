#include "commands/cpu_list.hpp"

#include <catch2/catch.hpp>

#include "commands/api/command.hpp"
#include "kernel-model/cpu_mask.hpp"

using kdive::CommandError;
using kdive::cpu_ranges;
using kdive::parse_cpu_list;

TEST_CASE("CPU lists as runq -c, timer -C and irq -c take them", "[unit][cpu_list]") {
  CHECK(parse_cpu_list("1", 4) == std::vector<int>{1});
  CHECK(parse_cpu_list("0,2-3", 4) == std::vector<int>{0, 2, 3});
  CHECK(parse_cpu_list("3,1,1-2", 4) == std::vector<int>{1, 2, 3});  // sorted, no repeats
  CHECK(parse_cpu_list("all", 3) == std::vector<int>{0, 1, 2});
  CHECK(parse_cpu_list("a", 2) == std::vector<int>{0, 1});
  CHECK_THROWS_AS(parse_cpu_list("4", 4), CommandError);  // no such CPU
  CHECK_THROWS_AS(parse_cpu_list("2-1", 4), CommandError);
  CHECK_THROWS_AS(parse_cpu_list("x", 4), CommandError);
  CHECK_THROWS_AS(parse_cpu_list("", 4), CommandError);
  CHECK_THROWS_AS(parse_cpu_list("1,", 4), CommandError);
  CHECK_THROWS_AS(parse_cpu_list("-1", 4), CommandError);
}

TEST_CASE("CPU masks print as crash's and /proc's ranges", "[unit][cpu_list]") {
  CHECK(cpu_ranges({}) == "");
  CHECK(cpu_ranges({0}) == "0");
  CHECK(cpu_ranges({0, 1}) == "0-1");
  CHECK(cpu_ranges({0, 2, 3, 4, 7}) == "0,2-4,7");
  CHECK(cpu_ranges({1, 3, 5}) == "1,3,5");
}
