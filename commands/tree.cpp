// tree: the entries of a red-black tree, radix tree/XArray or maple tree, with
// crash's flags and output — each entry's address, optionally its position in
// the tree and some of its members.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/container_args.hpp"
#include "commands/value_format.hpp"
#include "kernel-model/containers.hpp"
#include "kernel-model/maple_tree.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

enum class TreeKind { Rbtree, Radix, Xarray, Maple };

TreeKind tree_kind(std::string_view t) {
  // crash accepts the short forms ra, rb and x too.
  if (t == "rbtree" || t == "rb") return TreeKind::Rbtree;
  if (t == "radix" || t == "ra") return TreeKind::Radix;
  if (t == "xarray" || t == "x") return TreeKind::Xarray;
  if (t == "maple" || t == "m") return TreeKind::Maple;
  throw CommandError(fmt::format("invalid tree type: '{}' (rbtree, radix, xarray or maple)", t));
}

std::string slot_path(std::string_view top, const std::vector<uint8_t>& path) {
  std::string s(top);
  for (uint8_t p : path) s += fmt::format("/{}", p);
  return s;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  const TreeKind kind = tree_kind(args.value('t').value_or("rbtree"));
  if (args.positional().size() != 1) {
    throw CommandError(args.positional().empty() ? "no start address given" : "too many arguments");
  }
  if (args.has('x') && args.has('d')) throw CommandError("-x and -d exclude each other");
  if (kind != TreeKind::Rbtree && args.has('o')) throw CommandError("-o is for red-black trees only");
  if (kind != TreeKind::Rbtree && args.has('l')) throw CommandError("-l is for red-black trees only");
  if (args.has('N') && args.has('r')) throw CommandError("-N and -r exclude each other");

  // Before 6.1 (commit 54a611b60590) there are none; say so before a -r of
  // a maple_tree member fails as an unknown member.
  if (kind == TreeKind::Maple && !has_maple_tree(k.types())) throw CommandError("this kernel has no maple trees");

  uint64_t start = parse_start(k, args.positional()[0]);
  if (auto r = args.value('r')) start += parse_member_offset(k, *r);
  std::vector<std::string> specs = args.all_values('s');
  for (const auto& s : args.all_values('S')) specs.push_back(s);
  EntryStructs shown(k, specs, args.has('x') ? 16 : args.has('d') ? 10 : session.settings().radix);
  shown.use_settings(session.settings());
  const bool position = args.has('p');
  // With -N the start is the top node (or the head value, as stored) itself.
  const bool is_node = args.has('N');
  const KernelMemory& mem = k.memory();

  Json entries = Json::array();
  // `where` is the -p line; `j` already holds the entry's position in JSON.
  auto show = [&](uint64_t entry, const std::string& where, Json j) {
    out.print("{:x}\n", entry);
    if (position) out.print("{}\n", where);
    Json row = {{"address", json_hex(entry)}};
    for (auto& [key, value] : j.items()) row[key] = value;
    if (!shown.empty()) shown.show(out, VirtAddr{entry}, row);
    entries.push_back(std::move(row));
    return !out.closed();
  };
  // The entries reached are the result, also when a command error ends the walk.
  struct ResultOnExit {
    Output& out;
    Json& entries;
    ~ResultOnExit() {
      try {
        out.result(std::move(entries));
      } catch (...) {  // out of memory while unwinding: the error line still reaches the user
      }
    }
  } result_on_exit{out, entries};

  size_t breaks = 0;
  auto mark = [&](const WalkBreak& b) {
    mark_break(out, "tree", b, entries);
    ++breaks;
  };
  switch (kind) {
    case TreeKind::Rbtree: {
      const uint64_t node_offset = args.value('o') ? parse_member_offset(k, *args.value('o')) : 0;
      RbWalk walk{.top = is_node ? start : mem.read<uint64_t>(VirtAddr{start}),  // rb_root.rb_node
                  .top_is_root = !is_node,
                  .order = args.has('l') ? RbOrder::InOrder : RbOrder::Preorder};
      walk_rbtree(
          mem, walk,
          [&](const RbVisit& v) {
            return show(v.node.value() - node_offset, fmt::format("  position: {}", v.position),
                        {{"position", v.position}});
          },
          mark);
      break;
    }
    case TreeKind::Radix:
    case TreeKind::Xarray: {
      // One walker serves both: the kernel's DWARF says which encoding it uses
      // (radix_tree_root is struct xarray since 4.20).
      XarrayLayout layout = xarray_layout(k.types());
      XarrayWalk walk;
      if (is_node) {
        walk.head = start;
      } else {
        walk.head = mem.read<uint64_t>(VirtAddr{start + layout.head});
        walk.root = VirtAddr{start};
      }
      walk_xarray(
          mem, layout, walk,
          [&](const XarrayEntry& e) {
            std::string path = slot_path("root", e.path);
            return show(e.value, fmt::format("  index: {}  position: {}", e.index, path),
                        {{"index", json_integer(e.index)}, {"position", path}});
          },
          mark);
      break;
    }
    case TreeKind::Maple: {
      MapleLayout layout = maple_layout(k.types());
      MapleWalk walk;
      if (is_node) {
        walk.root = start | 2;
      } else {
        walk.root = mem.read<uint64_t>(VirtAddr{start + layout.root});
        walk.tree = VirtAddr{start};
      }
      size_t count = 0;
      walk_maple_tree(
          mem, layout, walk,
          [&](const MapleEntry& e) {
            // crash numbers maple entries in walk order; the range is what they index.
            std::string path = slot_path(is_node ? "direct" : "root", e.path);
            ++count;
            return show(
                e.value, fmt::format("  index: {}  position: {}  range: {:#x}-{:#x}", count, path, e.first, e.last),
                {{"index", count}, {"position", path}, {"first", json_hex(e.first)}, {"last", json_hex(e.last)}});
          },
          mark);
      break;
    }
  }
  if (breaks > 0) {
    out.warning(fmt::format("tree: damaged: {} break{}, each skipping what lies under it; {} entries read", breaks,
                            breaks == 1 ? "" : "s", entries.size() - breaks));
  }
}

const CommandRegistrar registrar{
    {.name = "tree",
     .summary = "walk a red-black tree, radix tree, XArray or maple tree",
     .usage = "tree [-t rbtree|radix|xarray|maple] [-r offset] [-o offset] [-s|-S struct[.member[,member]]]\n"
              "       [-x|-d] [-l] [-p] [-N] start",
     .description = "Prints the entries of a tree, one address per line, optionally followed by\n"
                    "each entry's position in the tree (-p) and some of its members (-s).\n"
                    "\n"
                    "The start is the address of the tree's root structure (struct rb_root,\n"
                    "struct xarray / radix_tree_root, struct maple_tree), or of a structure\n"
                    "holding one at -r's offset; with -N it is the top node itself (an rb_node,\n"
                    "or the head value as stored in the root for the other kinds). Addresses\n"
                    "may be symbols or a global variable's member (init_pid_ns.idr).\n"
                    "\n"
                    "Red-black trees (the default) print in pre-order (a node, then its left\n"
                    "and right subtrees), or in key order with -l; -o gives the rb_node's\n"
                    "offset in its entry so that the entries' addresses are shown. -p shows\n"
                    "each node's path from the root as root/l/r.\n"
                    "\n"
                    "Radix trees and XArrays (one and the same since 4.20; kdive reads either\n"
                    "encoding whatever -t says) print their present entries in index order;\n"
                    "value entries are shown as stored. -p shows the index and the slot path.\n"
                    "Maple trees (6.1+, the VMAs of an mm) print their entries in index order;\n"
                    "-p shows the entry's number, slot path and the index range it covers.\n"
                    "\n"
                    "Each node is checked before its entries are taken: it must be readable,\n"
                    "not seen before, and name the node above it as its parent (and, in radix\n"
                    "trees and XArrays, the slot it hangs from, one level's shift less, a count\n"
                    "of used slots and the root; in maple trees, the slot and pivots within its\n"
                    "parent's range). A node that fails is shown as a marker line where its\n"
                    "entries would be, \"<node>  (damaged: <what is wrong>; <indexes> not\n"
                    "read)\", and the walk goes on with the rest of the tree. A last line\n"
                    "counts the breaks, and in batch mode kdive exits with status 3 (data\n"
                    "lost). With -N the top node's own parent is not checked.",
     .examples = "The vmap_areas of the vmalloc space, with each node's place in the tree:\n"
                 "\n"
                 "  kdive> tree -t rbtree -o vmap_area.rb_node vmap_area_root -p\n"
                 "  ffff9d8d0105a8c0\n"
                 "    position: root\n"
                 "  ffff9d8d0105a080\n"
                 "    position: root/l\n"
                 "  ...\n"
                 "\n"
                 "The struct pids of the initial pid namespace (the index is the pid):\n"
                 "\n"
                 "  kdive> tree -t xarray -r pid_namespace.idr init_pid_ns -p -s pid.level\n"
                 "  ffff9d8d011aa900\n"
                 "    index: 1  position: root/0/1\n"
                 "    level = 0\n"
                 "  ...\n"
                 "\n"
                 "A process's VMAs, given its mm_struct:\n"
                 "\n"
                 "  kdive> tree -t maple -r mm_struct.mm_mt ffff8f4c02d2e000 -s vm_area_struct.vm_start,vm_end -x\n"
                 "  ffff8f4c02f4a000\n"
                 "    vm_start = 0x400000\n"
                 "    vm_end = 0x401000\n"
                 "  ...",
     .options = {{'t', "type", "rbtree (default), radix, xarray or maple"},
                 {'r', "offset", "the root's offset in the structure at start: struct.member or bytes"},
                 {'o', "offset", "red-black trees: the rb_node's offset in its entry"},
                 {'s', "struct", "struct[.member,...]: print these members (or the whole struct) of each entry"},
                 {'S', "struct", "the same as -s"},
                 {'x', "", "print member values in hex"},
                 {'d', "", "print member values in decimal"},
                 {'l', "", "red-black trees: in key order, leftmost first"},
                 {'p', "", "print each entry's position in the tree"},
                 {'N', "", "start is the top node, not a root structure"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"address", "position"},
              .notes = "One object per entry, in the order printed, whether or not -p is given:\n"
                       "its address and position (\"root/l/r\" in a red-black tree, the slot path in\n"
                       "the others); radix trees and XArrays add the entry's index, maple trees the\n"
                       "entry's number (index) and the range it covers (first, last as \"0x...\").\n"
                       "With -s, each structure shown under its name, as list gives them.\n"
                       "Where a node is damaged, an element {\"error\": \"what is wrong; what was\n"
                       "not read\", \"at\": \"0x...\"} (the node) stands at the place of its entries,\n"
                       "and the envelope's \"lost\" names each break.",
              .example = "tree -t xarray -r pid_namespace.idr init_pid_ns -s pid.level"}},
    run};

}  // namespace
}  // namespace kdive
