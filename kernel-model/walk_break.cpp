#include "kernel-model/walk_break.hpp"

#include <fmt/format.h>

namespace kdive {

std::string WalkBreak::describe() const { return fmt::format("{:x}: {}", at.value(), reason); }

}  // namespace kdive
