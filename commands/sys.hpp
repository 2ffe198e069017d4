// Pieces of the sys command that are worth testing on their own.
//
//   Json j = kernel_config_json("CONFIG_X86_64=y\n# CONFIG_KASAN is not set\n");
//   // {"CONFIG_X86_64": "y", "CONFIG_KASAN": "n"}
#pragma once

#include <string_view>

#include "commands/api/json_values.hpp"

namespace kdive {

// `sys config` in JSON: each option of a .config text and its value as text
// ("y", "m", "0x1000", a string without its quotes); an option the file says
// "is not set" is "n". Comments and blank lines are left out.
Json kernel_config_json(std::string_view config);

}  // namespace kdive
