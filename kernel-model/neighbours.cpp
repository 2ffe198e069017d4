#include "kernel-model/neighbours.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <span>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/net_devices.hpp"
#include "kernel-model/object_links.hpp"

namespace kdive {
namespace {

// The kernel grows the table to keep chains short (neigh_hash_grow); a shift
// past this is not a table but garbage, and would make us read gigabytes.
constexpr uint64_t kMaxHashShift = 20;
// Entries on one chain before we call it a loop the seen-set cannot see.
constexpr size_t kMaxChain = 1u << 16;

Neighbour read_entry(const Kernel& k, VirtAddr addr, uint64_t key_len) {
  Neighbour n;
  n.neighbour = addr;
  try {
    Object neigh = k.object(addr, "struct neighbour");
    // primary_key is a flexible array at the end; the table says how long
    // its keys are (4 for IPv4).
    if (key_len == 4) {
      n.ip = ipv4_text(k.memory().read<uint32_t>(neigh["primary_key"].address()));
    } else {
      std::vector<uint8_t> key(key_len);
      k.memory().read(neigh["primary_key"].address(), std::as_writable_bytes(std::span(key)));
      n.ip = hwaddr_text(key);
    }
    n.nud_state = static_cast<uint8_t>(neigh["nud_state"].as_u64());
    n.dev = neigh["dev"].pointer();
    std::vector<std::byte> ha = neigh["ha"].bytes();
    size_t len = ha.size();
    if (!n.dev.is_null()) {
      Object dev = neigh["dev"].deref();
      n.dev_name = dev["name"].string(16);
      n.dev_type = static_cast<uint16_t>(dev["type"].as_u64());
      // ha is sized for any link type; the device's addr_len says how much
      // of it is the address (6 for Ethernet).
      len = std::min<size_t>(len, dev["addr_len"].as_u64());
    }
    for (size_t i = 0; i < len; ++i) n.ha.push_back(static_cast<uint8_t>(ha[i]));
  } catch (const ModelError& e) {
    n.error = e.what();
  }
  return n;
}

// A chain linked through neighbour.next (before 6.13).
void walk_next_chain(const Kernel& k, VirtAddr first, uint64_t next_offset, uint64_t key_len, NeighbourTable& t) {
  std::set<uint64_t> seen;
  VirtAddr a = first;
  while (!a.is_null()) {
    if (!seen.insert(a.value()).second || seen.size() > kMaxChain) {
      t.breaks.push_back({t.entries.size(), a, "neighbour chain loops"});
      return;
    }
    t.entries.push_back(read_entry(k, a, key_len));
    try {
      a = k.memory().read_pointer(a + next_offset);
    } catch (const ModelError& e) {
      t.breaks.push_back({t.entries.size(), a, fmt::format("next unreadable: {}", e.what())});
      return;
    }
  }
}

}  // namespace

std::string nud_state_names(uint8_t state) {
  static constexpr const char* kNames[] = {"INCOMPLETE", "REACHABLE", "STALE", "DELAY",
                                           "PROBE",      "FAILED",    "NOARP", "PERMANENT"};
  std::string s;
  for (int bit = 0; bit < 8; ++bit) {
    if ((state & (1u << bit)) == 0) continue;
    if (!s.empty()) s += '|';
    s += kNames[bit];
  }
  return s;
}

NeighbourTable read_arp_table(const Kernel& k) {
  if (k.find_symbol("arp_tbl") == nullptr) {
    throw Error(Error::Kind::Lookup, "this kernel has no arp_tbl (built without IPv4?)");
  }
  NeighbourTable t;
  t.table = k.symbol_address("arp_tbl");
  Object tbl = k.object("arp_tbl");
  if (!tbl.has_member("nht")) {
    throw Error(Error::Kind::Unsupported, "arp_tbl has no nht (a kernel before 2.6.37 is not supported)");
  }
  const uint64_t key_len = tbl["key_len"].as_u64();
  if (key_len == 0 || key_len > 64) {
    throw Error(Error::Kind::BadData, fmt::format("arp_tbl.key_len is {}", key_len));
  }
  if (tbl["nht"].is_null()) return t;  // the table was never set up: no entries
  Object nht = tbl["nht"].deref();
  const uint64_t shift = nht["hash_shift"].as_u64();
  if (shift > kMaxHashShift) {
    throw Error(Error::Kind::BadData,
                fmt::format("neigh_hash_table {:x}: hash_shift {}", nht.address().value(), shift));
  }
  t.buckets = uint64_t{1} << shift;
  const Type& neighbour = k.types().require("struct neighbour");
  if (nht.has_member("hash_heads")) {
    // 6.13+: an array of struct hlist_head, entries linked through
    // neighbour.hash.
    const VirtAddr heads = nht["hash_heads"].pointer();
    const uint64_t offset = member_offset(neighbour, "hash");
    for (uint64_t i = 0; i < t.buckets; ++i) {
      Walked<VirtAddr> w = walk_hlist(k.memory(), heads + i * KernelMemory::kPointerSize, offset, kMaxChain);
      for (WalkBreak b : w.breaks) {
        b.position += t.entries.size();
        t.breaks.push_back(std::move(b));
      }
      for (VirtAddr a : w.entries) t.entries.push_back(read_entry(k, a, key_len));
    }
    return t;
  }
  const VirtAddr buckets = nht["hash_buckets"].pointer();
  const uint64_t next_offset = member_offset(neighbour, "next");
  std::vector<uint64_t> firsts(t.buckets);
  try {
    k.memory().read(buckets, std::as_writable_bytes(std::span(firsts)));
  } catch (const ModelError& e) {
    // Without the bucket array no chain can be reached: one break says so.
    t.breaks.push_back({0, buckets, fmt::format("hash_buckets ({} buckets) unreadable: {}", t.buckets, e.what())});
    return t;
  }
  for (uint64_t first : firsts) walk_next_chain(k, VirtAddr{first}, next_offset, key_len, t);
  return t;
}

}  // namespace kdive
