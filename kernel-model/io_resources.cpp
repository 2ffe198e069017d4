#include "kernel-model/io_resources.hpp"

#include <fmt/format.h>

#include <set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// /proc/iomem of a large machine has a few thousand entries; nesting is a
// handful of levels. Past these the links loop in a way the seen-set would
// catch anyway; they bound memory and recursion.
constexpr size_t kMaxResources = 1u << 20;
constexpr int kMaxDepth = 64;

struct Walk {
  const Kernel& k;
  ResourceTree& tree;
  std::set<uint64_t> seen;
};

void walk(Walk& w, VirtAddr first, int depth) {
  for (VirtAddr at = first; !at.is_null();) {
    if (!w.seen.insert(at.value()).second || w.seen.size() > kMaxResources) {
      w.tree.breaks.push_back({w.tree.resources.size(), at, "resource reached twice: the sibling/child links loop"});
      return;
    }
    if (depth > kMaxDepth) {
      w.tree.breaks.push_back({w.tree.resources.size(), at, fmt::format("resources nest deeper than {}", kMaxDepth)});
      return;
    }
    VirtAddr child, sibling;
    try {
      Object r = w.k.object(at, "struct resource");
      Resource res;
      res.address = at;
      res.start = r["start"].as_u64();
      res.end = r["end"].as_u64();
      res.flags = r["flags"].as_u64();
      res.depth = depth;
      try {
        res.name = r["name"].string(256);
      } catch (const ModelError&) {
        res.name_readable = false;
      }
      if (r["name"].is_null()) res.name_readable = false;
      child = r["child"].pointer();
      sibling = r["sibling"].pointer();
      w.tree.resources.push_back(std::move(res));
    } catch (const ModelError& e) {
      w.tree.breaks.push_back({w.tree.resources.size(), at, fmt::format("resource unreadable: {}", e.what())});
      return;
    }
    // A resource that names itself as its child is a damaged link, not a level.
    if (!child.is_null() && child != at) walk(w, child, depth + 1);
    at = sibling;
  }
}

}  // namespace

ResourceTree read_resources(const Kernel& k, std::string_view root_symbol) {
  if (k.find_symbol(root_symbol) == nullptr) {
    throw Error(Error::Kind::Lookup, fmt::format("no {} in this kernel", root_symbol));
  }
  ResourceTree tree;
  Walk w{k, tree, {}};
  walk(w, k.symbol_address(root_symbol), 0);
  return tree;
}

}  // namespace kdive
