// The JSON type commands build results with (Json, complete), and how kernel
// values look in kdive's JSON results (documented for users in
// `kdive --help` and ARCHITECTURE.md): numbers are JSON numbers, except
// addresses, flag words and anything that may exceed 2^53 (where a JSON reader
// would lose precision), which are "0x…" strings; text is text.
//
//   row["task"] = json_hex(task.address.value());     // "0xffff9d8d01e41f40"
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "commands/api/output.hpp"

namespace kdive {

inline std::string json_hex(uint64_t value) { return fmt::format("{:#x}", value); }

}  // namespace kdive
