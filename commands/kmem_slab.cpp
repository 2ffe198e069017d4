// kmem -s / -S / -I: the SLUB caches, one line each with crash's columns
// (CACHE OBJSIZE ALLOCATED TOTAL SLABS SSIZE NAME), or with -S every slab of
// each cache and each object in it, free or [allocated]. The values come from
// kernel-model/slab.hpp; a cache, list or freelist that cannot be followed is
// a "(damaged: ...)" line and lost data, and the other caches still print.
// Objects of a cache with left red zones (slub_debug=Z) print by their slot
// start with `set redzone on` (crash's default), past the pad with off; JSON
// gives slot starts and the cache's red_left_pad either way.
#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "commands/address_arg.hpp"
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
  Json j = {{"cache", json_hex(c.address)},
            {"name", c.name},
            {"objsize", c.object_size},
            {"size", c.size},
            {"allocated", c.allocated()},
            {"total", c.total_objects},
            {"slabs", c.slabs},
            {"ssize", c.slab_bytes},
            {"per_slab", c.objects_per_slab},
            {"order", c.order},
            {"refcount", c.refcount},
            {"red_left_pad", c.red_left_pad}};
  if (with_slabs) {
    Json slabs = Json::array();
    for (const Slab& s : c.slab_list) slabs.push_back(slab_json(c, s));
    j["slab_list"] = std::move(slabs);
    Json cpus = Json::array();
    for (VirtAddr kcc : c.cpu_structs) cpus.push_back(json_hex(kcc));
    j["kmem_cache_cpu"] = std::move(cpus);
  }
  std::vector<std::string> damage = cache_damage(c);
  if (!damage.empty()) {
    std::string why;
    for (const std::string& d : damage) why += (why.empty() ? "" : "; ") + d;
    j["error"] = why;
  }
  return j;
}

// One object's line of a slab's FREE / [ALLOCATED] list.
std::string object_line(VirtAddr a, uint8_t state, int cpu) {
  if (state == 0) return fmt::format("  [{:016x}]\n", a.value());
  if (state == 2) return fmt::format("   {:016x}  (cpu {} cache)\n", a.value(), cpu);
  return fmt::format("   {:016x}\n", a.value());
}

// 0: allocated, 1: on the slab's freelist, 2: on the CPU's freelist; by object.
std::vector<uint8_t> object_states(const SlabCache& c, const Slab& s) {
  std::vector<uint8_t> state(s.objects, 0);
  for (size_t i = 0; i < s.free.size(); ++i) state[(s.free[i] - s.memory) / c.size] = i < s.cpu_free ? 2 : 1;
  return state;
}

// How kmem prints an object (a slot start): with set redzone off, as the
// kernel points at it, past the left red zone.
VirtAddr shown(const SlabCache& c, VirtAddr slot, bool redzone) { return redzone ? slot : slot + c.red_left_pad; }

// The slab's line; then every object, or with `only` just the one holding it.
void print_slab(Output& out, const SlabCache& c, const Slab& s, bool redzone,
                std::optional<VirtAddr> only = std::nullopt) {
  out.write(kSlabHeader);
  out.print("  {:016x}  {:016x}{:>6}{:>7}{:>11}{:>6}\n", s.slab.value(), s.memory.value(), s.node, s.objects,
            s.allocated(), s.free.size());
  const std::vector<uint8_t> state = object_states(c, s);
  out.write("  FREE / [ALLOCATED]\n");
  for (uint32_t i = 0; i < s.objects; ++i) {
    const VirtAddr a = s.memory + uint64_t{i} * c.size;
    if (only && (*only < a || *only >= a + c.size)) continue;
    out.write(object_line(shown(c, a, redzone), state[i], s.cpu));
  }
  for (const WalkBreak& b : s.breaks) out.print("  {}\n", marker(b));
}

void print_slabs_at(Output& out, const SlabCache& c, bool redzone, std::string_view title, SlabPlace place, int cpu,
                    int node) {
  out.print("{}:\n", title);
  bool any = false;
  for (const Slab& s : c.slab_list) {
    if (s.place != place) continue;
    if (place == SlabPlace::CpuSlab || place == SlabPlace::CpuPartial ? s.cpu != cpu : s.node != node) continue;
    print_slab(out, c, s, redzone);
    any = true;
  }
  if (!any) out.write("  (empty)\n");
}

void print_cache_slabs(Output& out, const SlabAllocator& slub, const SlabCache& c, bool redzone) {
  for (int cpu = 0; cpu < slub.cpus(); ++cpu) {
    if (static_cast<size_t>(cpu) < c.cpu_structs.size()) {
      out.print("CPU {} KMEM_CACHE_CPU:\n  {:016x}\n", cpu, c.cpu_structs[static_cast<size_t>(cpu)].value());
    }
    print_slabs_at(out, c, redzone, fmt::format("CPU {} SLAB", cpu), SlabPlace::CpuSlab, cpu, 0);
    print_slabs_at(out, c, redzone, fmt::format("CPU {} PARTIAL", cpu), SlabPlace::CpuPartial, cpu, 0);
  }
  out.write("KMEM_CACHE_NODE   NODE  SLABS  PARTIAL  PER-CPU\n");
  for (const SlabNode& n : c.nodes) {
    const auto per_cpu = std::count_if(c.slab_list.begin(), c.slab_list.end(), [&](const Slab& s) {
      return s.place == SlabPlace::CpuSlab && s.node == n.node;
    });
    out.print("{:016x}{:>6}{:>7}{:>9}{:>9}\n", n.address.value(), n.node, n.slabs, n.partial, per_cpu);
  }
  for (const SlabNode& n : c.nodes) {
    print_slabs_at(out, c, redzone, fmt::format("NODE {} PARTIAL", n.node), SlabPlace::NodePartial, -1, n.node);
    print_slabs_at(out, c, redzone, fmt::format("NODE {} FULL", n.node), SlabPlace::Full, -1, n.node);
  }
}

// A word that is a kernel address, as crash reads kmem -s's arguments: hex
// (with or without 0x) at or above the kernel half. Cache names are never
// that ("kmalloc-64", "dentry").
std::optional<VirtAddr> address_word(std::string_view word) {
  const std::optional<uint64_t> v = parse_number(word, 16);
  if (!v || *v < kKernelHalf) return std::nullopt;
  return VirtAddr{*v};
}

// kmem -s ADDRESS / -S ADDRESS: the cache line, then the slab holding the
// address and its object (-S: every object of that slab).
void print_slab_object(Output& out, const SlabAllocator& slub, VirtAddr a, bool detail, bool redzone, Json& result) {
  const std::optional<SlabObject> o = slub.find_object(a);
  if (!o) {
    out.print("kmem: address is not allocated in slab subsystem: {:x}\n", a.value());
    result.push_back({{"address", json_hex(a)}, {"cache", nullptr}});
    return;
  }
  out.write(kCacheHeader);
  out.write(cache_line(o->cache));
  print_slab(out, o->cache, o->slab, redzone, detail ? std::nullopt : std::optional<VirtAddr>(a));
  for (const WalkBreak& b : o->slab.breaks)
    out.data_lost(fmt::format("slab {:x}: {}", o->slab.slab.value(), b.describe()));
  Json j = {{"address", json_hex(a)},
            {"cache", json_hex(o->cache.address)},
            {"name", o->cache.name},
            {"objsize", o->cache.object_size},
            {"size", o->cache.size},
            {"slab", json_hex(o->slab.slab)},
            {"memory", json_hex(o->slab.memory)},
            {"object", json_hex(o->object)},
            {"red_left_pad", o->cache.red_left_pad},
            {"allocated", !o->free},
            {"cpu_cache", o->cpu_free}};
  if (detail) j["slab_list"] = Json::array({slab_json(o->cache, o->slab)});
  result.push_back(std::move(j));
}

}  // namespace

void kmem_slab_report(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  const bool detail = args.has('S');
  const bool redzone = session.settings().redzone;
  const auto skip = skipped_caches(args);
  SlabAllocator slub(k);
  Walked<VirtAddr> caches = slub.caches();

  // Addresses: a kmem_cache's own address names that cache; any other is
  // looked up as a slab object.
  std::set<std::string, std::less<>> wanted;
  std::vector<VirtAddr> objects;
  for (const std::string& word : args.positional()) {
    const std::optional<VirtAddr> a = address_word(word);
    if (!a) {
      wanted.insert(word);
    } else if (std::find(caches.entries.begin(), caches.entries.end(), *a) != caches.entries.end()) {
      wanted.insert(slub.cache_name(*a));
    } else {
      objects.push_back(*a);
    }
  }
  if (!objects.empty()) {
    if (!wanted.empty()) throw CommandError("give either cache names or addresses, not both");
    Json result = Json::array();
    for (size_t i = 0; i < objects.size(); ++i) {
      if (i > 0) out.write("\n");
      print_slab_object(out, slub, objects[i], detail, redzone, result);
    }
    out.result(std::move(result));
    return;
  }
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
      print_cache_slabs(out, slub, c, redzone);
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
