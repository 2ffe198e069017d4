#include "commands/context_space.hpp"

#include <fmt/format.h>

#include "commands/api/command.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

AddressSpace context_space(const Kernel& k, const Task& context, VirtAddr address,
                           std::optional<AddressSpace::Kind> wanted) {
  const int levels = k.layout().levels;
  AddressSpace::Kind kind;
  switch (address_half(address, levels)) {
    case AddressHalf::User:
      kind = AddressSpace::Kind::User;
      break;
    case AddressHalf::Kernel:
      kind = AddressSpace::Kind::Kernel;
      break;
    default:
      throw CommandError(fmt::format("{:x} is not a canonical address ({}-level paging)", address, levels));
  }
  if (wanted && *wanted != kind) {
    throw CommandError(
        fmt::format("{:x} is not a {} address", address, *wanted == AddressSpace::Kind::User ? "user" : "kernel"));
  }
  if (kind == AddressSpace::Kind::Kernel) return AddressSpace::kernel(k);
  if (context.mm.is_null()) {
    throw CommandError(fmt::format("PID {} ({}) is a kernel thread: it has no user address space (see 'set')",
                                   context.pid, context.comm));
  }
  return AddressSpace::of_task(k, context);
}

}  // namespace kdive
