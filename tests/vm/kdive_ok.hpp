// Running kdive on the current suite's ELF dump in a test that needs the
// command to succeed, and reading the "0x..." addresses of its JSON.
//
//   std::string text = kdive_ok("runq -t");
//   uint64_t task = json_hex(result[0]["task"]);
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "run_kdive.hpp"
#include "vm_test.hpp"

namespace kdive::test {

// Runs COMMAND (one command or several, one per line) and requires exit 0;
// stderr is shown when it fails.
inline std::string kdive_ok(const std::string& command) {
  KdiveRun r = run_kdive(suite(), "elf", command);
  INFO(command << "\n" << r.err);
  REQUIRE(r.status == 0);
  return r.out;
}

// An address or mask JSON results carry as a hex string.
inline uint64_t json_hex(const nlohmann::json& j) {
  REQUIRE(j.is_string());
  return std::stoull(j.get<std::string>(), nullptr, 16);
}

}  // namespace kdive::test
