// The IPv4 neighbour (ARP) cache, as crash's `net -a` and /proc/net/arp show
// it: every struct neighbour of arp_tbl's hash table, with its IPv4 address
// (primary_key), hardware address (ha), device and NUD state.
//
// The table's layout depends on the kernel (probed by member):
//  * since 2.6.37 arp_tbl.nht points to a struct neigh_hash_table whose
//    hash_buckets is an array of 1 << hash_shift chains, linked through
//    neighbour.next;
//  * since 6.13 the buckets are hlists: neigh_hash_table.hash_heads and
//    neighbour.hash (the neighbour table's conversion to hlist in 6.13).
//
// Chains are bounded and cycle-safe: a chain that loops or cannot be followed
// is a WalkBreak (its entries before the break kept), an entry that cannot be
// read carries `error`.
//
//   NeighbourTable t = read_arp_table(k);
//   for (const Neighbour& n : t.entries) n.ip, hwaddr_text(n.ha), n.dev_name, nud_state_names(n.nud_state);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct Neighbour {
  VirtAddr neighbour;  // struct neighbour
  std::string ip;      // primary_key as a dotted quad
  VirtAddr dev;        // struct net_device
  std::string dev_name;
  uint16_t dev_type = 0;    // the device's ARPHRD_*
  std::vector<uint8_t> ha;  // the hardware address, the device's addr_len bytes
  uint8_t nud_state = 0;    // NUD_* bits
  std::string error;        // what could not be read of this entry
};

struct NeighbourTable {
  VirtAddr table;                  // arp_tbl
  uint64_t buckets = 0;            // hash buckets walked
  std::vector<Neighbour> entries;  // bucket by bucket, each chain in order
  std::vector<WalkBreak> breaks;   // positions index `entries`
};

// Throws Error(Lookup) when the kernel has no arp_tbl, and ModelError when
// arp_tbl or its hash table cannot be read.
NeighbourTable read_arp_table(const Kernel& k);

// "REACHABLE", "NOARP|PERMANENT", ... crash's names of the set NUD_* bits in
// the kernel's bit order; "" for NUD_NONE.
std::string nud_state_names(uint8_t state);

}  // namespace kdive
