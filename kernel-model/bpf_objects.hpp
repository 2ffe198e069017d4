// The loaded eBPF programs and maps of a kernel, as crash's `bpf` and
// `bpftool prog|map show` list them: each program's struct bpf_prog and
// bpf_prog_aux (type, tag, the maps it uses, sizes, load time, name, owner),
// each map's struct bpf_map (type, flags, key/value sizes, entries, name).
//
// Both live in IDRs keyed by their ids: prog_idr and map_idr
// (kernel/bpf/syscall.c). Walks are bounded and cycle-safe; a damaged IDR
// node is a WalkBreak (the ids under it lost), an object that cannot be read
// keeps its id and address and carries `error`.
//
// Members that came and went are probed, not assumed:
//  * bpf_prog_aux.user and bpf_map.user, then the bpf_map.memory { pages,
//    user } pair (5.3), went away in 5.11 with the memcg-based accounting of
//    BPF memory (the series ending in commit 80ee81e0403c). Without them the
//    memlock of a map is not in the dump (the command estimates it from the
//    sizes, as crash does) and the owner is unknown.
//  * bpf_prog.pages (the program's pages) is read where it exists.
//
//   BpfObjects b = read_bpf_objects(k);
//   for (const BpfProg& p : b.progs) p.id, p.type_name, p.used_maps;
//   for (const BpfMap& m : b.maps) m.id, m.type_name, m.key_size;
//   std::vector<std::byte> code = read_bpf_xlated(k, b.progs[0]);   // bpf_insn.hpp decodes it
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct BpfProg {
  uint32_t id = 0;
  VirtAddr prog;  // struct bpf_prog
  VirtAddr aux;   // struct bpf_prog_aux
  int64_t type = 0;
  std::string type_name;  // the enum bpf_prog_type name without BPF_PROG_TYPE_ ("SOCKET_FILTER")
  std::array<uint8_t, 8> tag{};
  std::vector<VirtAddr> used_maps;       // aux->used_maps[0 .. used_map_cnt)
  uint32_t insns = 0;                    // bpf_prog.len: instructions after the verifier
  uint32_t insn_size = 8;                // sizeof(struct bpf_insn)
  uint32_t jited_len = 0;                // bytes of JITed code
  VirtAddr bpf_func;                     // the JITed code (or the interpreter)
  VirtAddr insnsi;                       // &bpf_prog.insnsi: the xlated instructions
  std::optional<uint32_t> pages;         // bpf_prog.pages, where the kernel has it
  std::optional<uint64_t> load_time_ns;  // aux->load_time: boot-time nanoseconds
  std::optional<bool> gpl_compatible;
  std::string name;             // aux->name ("" when the loader gave none)
  std::optional<uint32_t> uid;  // aux->user->uid, before 5.11
  std::string error;
};

struct BpfMap {
  uint32_t id = 0;
  VirtAddr map;  // struct bpf_map
  int64_t type = 0;
  std::string type_name;  // without BPF_MAP_TYPE_ ("ARRAY")
  uint32_t flags = 0;
  uint32_t key_size = 0, value_size = 0, max_entries = 0;
  // Bytes charged to memlock: bpf_map.memory.pages or bpf_map.pages times the
  // page size where the kernel kept them; unset otherwise.
  std::optional<uint64_t> memlock;
  std::string name;
  std::optional<uint32_t> uid;  // map->memory.user / map->user ->uid, before 5.11
  std::string error;
};

struct BpfObjects {
  std::vector<BpfProg> progs;  // in id order
  std::vector<BpfMap> maps;    // in id order
  std::vector<WalkBreak> prog_breaks, map_breaks;
  // Every enumerator name of enum bpf_prog_type / bpf_map_type (crash sizes
  // its type columns by the longest).
  std::vector<std::string> prog_type_names, map_type_names;
};

// Throws Error(Lookup) when the kernel has no prog_idr/map_idr (no CONFIG_BPF_SYSCALL).
BpfObjects read_bpf_objects(const Kernel& k);

// The program's xlated instructions (insns * insn_size bytes at insnsi), and
// its JITed code (jited_len bytes at bpf_func; none when it is not JITed):
// the bytes as the dump holds them. Throw Fault when they cannot be read and
// Error(BadData) when the lengths are more than any kernel loads.
std::vector<std::byte> read_bpf_xlated(const Kernel& k, const BpfProg& prog);
std::vector<std::byte> read_bpf_jited(const Kernel& k, const BpfProg& prog);

// The ids of `maps` among the maps a program uses, in its order; a used map
// that is not in the map IDR (being freed) is left out.
std::vector<uint32_t> used_map_ids(const BpfProg& prog, const std::vector<BpfMap>& maps);

// A map's memory when the kernel does not say: its entries of key plus value
// (8-byte aligned; per-CPU values once per possible CPU; fd maps hold a u32)
// rounded up to pages, as the pre-5.11 kernels charged array and hash maps.
uint64_t estimated_map_memory(const BpfMap& map, int possible_cpus, uint64_t page_size);

}  // namespace kdive
