#include "kernel-model/walk_break.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"

namespace kdive {

void throw_walk_break(const WalkBreak& b, std::string_view what, VirtAddr where) {
  throw Error(Error::Kind::BadData, fmt::format("{} at {:x}: {}", what, where.value(), b.describe()));
}

std::string WalkBreak::describe() const { return fmt::format("{:x}: {}", at.value(), reason); }

}  // namespace kdive
