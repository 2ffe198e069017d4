// Following the links between kernel objects by type and member name, the way
// the kernel's own macros do: container_of(), and the entries of a list_head
// list or an rb_root tree as typed Objects. Offsets come from DWARF and a
// member that does not exist is Error(Lookup) naming the type and the member,
// so walkers never do offset arithmetic of their own.
//
//   const Type& mount = k.types().require("struct mount");
//   Object m = container_of(k, vfsmount, mount, "mnt");          // struct mount around it
//   for (const Object& m : list_objects(k, ns["list"], mount, "mnt_list")) ...
//   Walked<Object> w = walk_list_objects(k, ns["list"], mount, "mnt_list");  // w.breaks
//   for (const Object& m : rbtree_objects(k, ns["mounts"], mount, "mnt_node")) ...
#pragma once

#include <string_view>
#include <vector>

#include "kernel-model/object.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

// The offset of `member` (a dotted path) in `type`; Error(Lookup) if it has none.
uint64_t member_offset(const Type& type, std::string_view member);

// The `type` whose `member` sits at `member_address` (the kernel's container_of).
Object container_of(const Kernel& k, VirtAddr member_address, const Type& type, std::string_view member);

// The entries of the list whose head is the struct list_head `head`: each
// entry is a `type` linked through its list_head `member`. Bounded and
// cycle-checked like list_entries().
std::vector<Object> list_objects(const Kernel& k, const Object& head, const Type& type, std::string_view member);

// The same entries over possibly damaged memory: every entry reachable
// (backwards from the head behind a break) and a WalkBreak where the list is
// broken, instead of an error.
Walked<Object> walk_list_objects(const Kernel& k, const Object& head, const Type& type, std::string_view member);

// The entries of the tree whose root is the struct rb_root `root`, in order:
// each a `type` whose rb_node `member` is in the tree.
std::vector<Object> rbtree_objects(const Kernel& k, const Object& root, const Type& type, std::string_view member);

}  // namespace kdive
