// The kernel's resource trees (struct resource: start, end, name, and the
// child/sibling links kernel/resource.c keeps sorted by start): the I/O port
// space ioport_resource and the physical memory map iomem_resource, as
// crash's `dev -i` and /proc/ioports, /proc/iomem show them.
//
// The walk is depth first from the root (the root itself first), bounded and
// cycle-safe: a resource that cannot be read or that was reached before ends
// its sibling chain with a WalkBreak, and its parent's siblings are still
// walked.
//
//   ResourceTree t = read_resources(k, "ioport_resource");
//   for (const Resource& r : t.resources) r.depth, r.start, r.end, r.name;
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct Resource {
  VirtAddr address;  // struct resource
  uint64_t start = 0, end = 0;
  std::string name;  // "" with name_readable false when the name pointer is NULL or unreadable
  bool name_readable = true;
  uint64_t flags = 0;
  int depth = 0;  // 0 for the root
};

struct ResourceTree {
  std::vector<Resource> resources;  // depth first, each child after its parent
  std::vector<WalkBreak> breaks;    // positions index `resources`
};

// The tree rooted at the struct resource variable `root_symbol`. Throws
// Error(Lookup) when the kernel has no such symbol.
ResourceTree read_resources(const Kernel& k, std::string_view root_symbol);

}  // namespace kdive
