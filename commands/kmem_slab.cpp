// kmem -s / -S / -I: the SLUB caches, one line each with crash's columns
// (CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME), or with -S every slab of
// each cache and each object in it, free or [allocated]. The values come from
// kernel-model/slab.hpp; a cache, list or freelist that cannot be followed is
// a "(damaged: ...)" line and lost data, and the other caches still print.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/slab.hpp"

namespace kdive {
namespace {

constexpr std::string_view kCacheHeader = "CACHE             OBJSIZE  ALLOCATED     TOTAL  SLABS  SSIZE  NAME\n";
constexpr std::string_view kSlabHeader = "  SLAB              MEMORY            NODE  TOTAL  ALLOCATED  FREE\n";

std::set<std::string, std::less<>> skipped_caches(const ParsedArgs& args) {
  std::set<std::string, std::less<>> out;
  for (const std::string& v : args.all_values('I')) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      if (comma > start) out.insert(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

std::string cache_line(const SlabCache& c) {
  return fmt::format("{:016x}{:>9}{:>11}{:>10}{:>7}{:>6}k  {}\n", c.address.value(), c.object_size, c.allocated(),
                     c.total_objects, c.slabs, c.slab_bytes / 1024, c.name);
}

std::string marker(const WalkBreak& b) { return fmt::format("(damaged: {})", b.describe()); }

// Every break of a cache, lists first, then each slab's freelist.
std::vector<std::string> cache_damage(const SlabCache& c) {
  std::vector<std::string> out;
  for (const std::string& p : c.problems) out.push_back(p);
  for (const WalkBreak& b : c.breaks) out.push_back(b.describe());
  for (const Slab& s : c.slab_list) {
    for (const WalkBreak& b : s.breaks) out.push_back(fmt::format("slab {:x}: {}", s.slab.value(), b.describe()));
  }
  return out;
}

Json slab_json(const SlabCache& c, const Slab& s) {
  Json j = {{"slab", json_hex(s.slab)},
            {"memory", json_hex(s.memory)},
            {"node", s.node},
            {"place", slab_place_name(s.place)},
            {"cpu", s.cpu >= 0 ? Json(s.cpu) : Json(nullptr)},
            {"total", s.objects},
            {"allocated", s.allocated()},
            {"free", s.free.size()},
            {"freelist", json_hex(s.freelist)}};
  std::vector<bool> is_free(s.objects, false);
  for (VirtAddr f : s.free) is_free[(f - s.memory) / c.size] = true;
  Json free = Json::array(), used = Json::array();
  for (uint32_t i = 0; i < s.objects; ++i)
    (is_free[i] ? free : used).push_back(json_hex(s.memory + uint64_t{i} * c.size));
  j["free_objects"] = std::move(free);
  j["allocated_objects"] = std::move(used);
  if (!s.breaks.empty()) {
    std::string why;
    for (const WalkBreak& b : s.breaks) why += (why.empty() ? "" : "; ") + b.describe();
    j["error"] = why;
  }
  return j;
}

Json cache_json(const SlabCache& c, bool with_slabs) {
  Json j = {
      {"cache", json_hex(c.address)},   {"name", c.name},           {"objsize", c.object_size}, {"size", c.size},
      {"allocated", c.allocated()},     {"total", c.total_objects}, {"slabs", c.slabs},         {"ssize", c.slab_bytes},
      {"per_slab", c.objects_per_slab}, {"order", c.order},         {"refcount", c.refcount}};
  if (with_slabs) {
    Json slabs = Json::array();
    for (const Slab& s : c.slab_list) slabs.push_back(slab_json(c, s));
    j["slab_list"] = std::move(slabs);
  }
  std::vector<std::string> damage = cache_damage(c);
  if (!damage.empty()) {
    std::string why;
    for (const std::string& d : damage) why += (why.empty() ? "" : "; ") + d;
    j["error"] = why;
  }
  return j;
}

void print_slab(Output& out, const SlabCache& c, const Slab& s) {
  out.write(kSlabHeader);
  out.print("  {:016x}  {:016x}{:>6}{:>7}{:>11}{:>6}\n", s.slab.value(), s.memory.value(), s.node, s.objects,
            s.allocated(), s.free.size());
  // 0: allocated, 1: on the slab's freelist, 2: on the CPU's freelist.
  std::vector<uint8_t> state(s.objects, 0);
  for (size_t i = 0; i < s.free.size(); ++i) state[(s.free[i] - s.memory) / c.size] = i < s.cpu_free ? 2 : 1;
  out.write("  FREE / [ALLOCATED]\n");
  for (uint32_t i = 0; i < s.objects; ++i) {
    const uint64_t a = (s.memory + uint64_t{i} * c.size).value();
    if (state[i] == 0) {
      out.print("  [{:016x}]\n", a);
    } else if (state[i] == 2) {
      out.print("   {:016x}  (cpu {} cache)\n", a, s.cpu);
    } else {
      out.print("   {:016x}\n", a);
    }
  }
  for (const WalkBreak& b : s.breaks) out.print("  {}\n", marker(b));
}

void print_slabs_at(Output& out, const SlabCache& c, std::string_view title, SlabPlace place, int cpu, int node) {
  out.print("{}:\n", title);
  bool any = false;
  for (const Slab& s : c.slab_list) {
    if (s.place != place) continue;
    if (place == SlabPlace::CpuSlab || place == SlabPlace::CpuPartial ? s.cpu != cpu : s.node != node) continue;
    print_slab(out, c, s);
    any = true;
  }
  if (!any) out.write("  (empty)\n");
}

void print_cache_slabs(Output& out, const SlabAllocator& slub, const SlabCache& c) {
  for (int cpu = 0; cpu < slub.cpus(); ++cpu) {
    if (static_cast<size_t>(cpu) < c.cpu_structs.size()) {
      out.print("CPU {} KMEM_CACHE_CPU:\n  {:016x}\n", cpu, c.cpu_structs[static_cast<size_t>(cpu)].value());
    }
    print_slabs_at(out, c, fmt::format("CPU {} SLAB", cpu), SlabPlace::CpuSlab, cpu, 0);
    print_slabs_at(out, c, fmt::format("CPU {} PARTIAL", cpu), SlabPlace::CpuPartial, cpu, 0);
  }
  out.write("KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n");
  for (const SlabNode& n : c.nodes) {
    const auto per_cpu = std::count_if(c.slab_list.begin(), c.slab_list.end(), [&](const Slab& s) {
      return s.place == SlabPlace::CpuSlab && s.node == n.node;
    });
    out.print("{:016x}{:>6}{:>7}{:>9}{:>9}\n", n.address.value(), n.node, n.slabs, n.partial, per_cpu);
  }
  for (const SlabNode& n : c.nodes) {
    print_slabs_at(out, c, fmt::format("NODE {} PARTIAL", n.node), SlabPlace::NodePartial, -1, n.node);
    print_slabs_at(out, c, fmt::format("NODE {} FULL", n.node), SlabPlace::Full, -1, n.node);
  }
}

}  // namespace

void kmem_slab_report(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  const bool detail = args.has('S');
  const auto skip = skipped_caches(args);
  std::set<std::string, std::less<>> wanted(args.positional().begin(), args.positional().end());

  SlabAllocator slub(k);
  Walked<VirtAddr> caches = slub.caches();
  Json result = Json::array();
  std::set<std::string, std::less<>> found;
  bool header_printed = false;
  for (size_t i = 0; i <= caches.entries.size(); ++i) {
    for (const WalkBreak* b : caches.breaks_at(i)) {
      out.print("{}\n", marker(*b));
      out.data_lost(fmt::format("slab_caches: {}", b->describe()));
      result.push_back({{"cache", json_hex(b->at)}, {"error", b->describe()}});
    }
    if (i == caches.entries.size() || out.closed()) break;
    const VirtAddr at = caches.entries[i];
    std::string name;
    try {
      name = slub.cache_name(at);
    } catch (const ModelError&) {
      // Named in the error below, when the cache itself is read.
    }
    if (!wanted.empty() && !wanted.contains(name)) continue;
    if (skip.contains(name)) continue;
    found.insert(name);
    if (!header_printed || detail) out.write(kCacheHeader);
    header_printed = true;
    SlabCache c;
    try {
      c = slub.read_cache(at);
      if (detail) {
        slub.add_full_slabs(c);
        // Every slab the nodes count should now be reached; fewer means some
        // slab sits where no list and no page struct leads (a slab being
        // freed or allocated at the crash), more a page struct left over.
        if (c.slab_list.size() != c.slabs && c.problems.empty()) {
          out.warning(fmt::format("kmem: {}: found {} slabs, its nodes count {}", c.name, c.slab_list.size(), c.slabs));
        }
      }
    } catch (const ModelError& e) {
      out.print("{:016x}  (damaged: {})\n", at.value(), e.what());
      out.data_lost(fmt::format("kmem_cache {:x}: {}", at.value(), e.what()));
      result.push_back({{"cache", json_hex(at)}, {"name", name}, {"error", e.what()}});
      continue;
    }
    out.write(cache_line(c));
    const std::vector<std::string> damage = cache_damage(c);
    for (const std::string& p : c.problems) out.print("  (damaged: {})\n", p);
    for (const WalkBreak& b : c.breaks) out.print("  {}\n", marker(b));
    if (!detail) {
      for (const Slab& s : c.slab_list) {
        for (const WalkBreak& b : s.breaks) out.print("  (damaged: slab {:x}: {})\n", s.slab.value(), b.describe());
      }
    } else {
      print_cache_slabs(out, slub, c);
      out.write("\n");
    }
    for (const std::string& d : damage) out.data_lost(fmt::format("{}: {}", c.name, d));
    if (out.json()) result.push_back(cache_json(c, detail));
  }
  for (const std::string& w : wanted) {
    if (!found.contains(w)) out.warning(fmt::format("kmem: invalid slab cache: {}", w));
  }
  if (!wanted.empty() && found.empty()) throw CommandError("kmem: no slab cache of that name");
  out.result(std::move(result));
}

}  // namespace kdive
