#include "kernel-model/errors.hpp"

#include <fmt/format.h>

namespace kdive {

namespace {

std::string fault_message(uint64_t address, Fault::Space space, const std::string& reason) {
  const char* kind = space == Fault::Space::Physical ? "physical" : space == Fault::Space::User ? "user" : "kernel";
  return fmt::format("cannot read {} address {:x}: {}", kind, address, reason);
}

}  // namespace

Fault::Fault(uint64_t address, Space space, const std::string& reason)
    : ModelError(fault_message(address, space, reason)), address_(address), space_(space) {}

std::optional<VirtAddr> Fault::virtual_address() const {
  if (space_ == Space::Physical) return std::nullopt;
  return VirtAddr{address_};
}

std::optional<PhysAddr> Fault::physical_address() const {
  if (space_ != Space::Physical) return std::nullopt;
  return PhysAddr{address_};
}

}  // namespace kdive
