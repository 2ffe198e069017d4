// The JSON type commands build results with (Json, complete), and how kernel
// values look in kdive's JSON results (documented for users in
// `kdive --help` and ARCHITECTURE.md): numbers are JSON numbers, except
// addresses, flag words and anything that may exceed 2^53 (where a JSON reader
// would lose precision), which are "0x…" strings; text is text.
//
//   row["task"] = json_hex(task.address);     // "0xffff9d8d01e41f40"
//   row["flags"] = json_hex(task.flags);
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "commands/api/output.hpp"
#include "readers/address.hpp"

namespace kdive {

inline std::string json_hex(uint64_t value) { return fmt::format("{:#x}", value); }
// A virtual or physical address.
template <typename Tag>
std::string json_hex(Address<Tag> address) {
  return json_hex(address.value());
}

}  // namespace kdive
