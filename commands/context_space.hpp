// Which virtual address space a command reads an address in, crash-style: a
// user address is the current context's (see `set`; `foreach` sets each task
// in turn), a kernel address the kernel's. x86_64 addresses say which half
// they are in, so -u / -k are needed only to insist.
//
//   AddressSpace s = context_space(kernel, session.context(), addr);        // throws CommandError
//   AddressSpace u = context_space(kernel, session.context(), addr, AddressSpace::Kind::User);
#pragma once

#include <optional>

#include "kernel-model/address_space.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
struct Task;

// `wanted` (from -u or -k) must agree with the address's half. Throws
// CommandError for an address in neither half (not canonical), a user address
// when the context is a kernel thread, or an address of the other half.
AddressSpace context_space(const Kernel& k, const Task& context, VirtAddr address,
                           std::optional<AddressSpace::Kind> wanted = std::nullopt);

}  // namespace kdive
