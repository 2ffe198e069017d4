#include "kernel-model/bpf_objects.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

// BPF ids are ints handed out cyclically; a kernel with more live objects
// than this is not one a dump comes from, so more is a damaged tree.
constexpr size_t kMaxBpfObjects = 1 << 20;
// A program may use at most MAX_USED_MAPS (64) maps.
constexpr uint64_t kMaxUsedMaps = 64;
// The verifier accepts at most BPF_COMPLEXITY_LIMIT_INSNS (1M) instructions,
// and patching them for the JIT grows them by a bounded factor: lengths past
// these are a damaged bpf_prog, not a program.
constexpr uint64_t kMaxXlatedBytes = 64ull << 20;
constexpr uint64_t kMaxJitedBytes = 256ull << 20;

// include/uapi/linux/bpf.h: per-CPU maps store one value per possible CPU,
// fd maps store a u32 per entry whatever value_size says.
bool per_cpu_map(int64_t type) { return type == 5 || type == 6 || type == 10 || type == 21; }
bool fd_map(int64_t type) { return type == 3 || type == 4 || type == 8 || type == 12 || type == 13; }

std::vector<std::string> enumerator_names(const Kernel& k, std::string_view spelling) {
  std::vector<std::string> out;
  const Type* t = k.types().lookup(spelling);
  if (t == nullptr) return out;
  for (const Enumerator& e : t->strip().enumerators()) out.emplace_back(e.name);
  return out;
}

// The name of `value` in the enum, without its prefix; "" when not one of them.
std::string enum_name(const Kernel& k, std::string_view spelling, std::string_view prefix, int64_t value) {
  const Type* t = k.types().lookup(spelling);
  if (t == nullptr) return "";
  for (const Enumerator& e : t->strip().enumerators()) {
    if (e.value != value) continue;
    std::string_view n = e.name;
    if (n.substr(0, prefix.size()) == prefix) n.remove_prefix(prefix.size());
    return std::string(n);
  }
  return "";
}

std::optional<uint32_t> user_uid(const Kernel& k, VirtAddr user) {
  if (user.is_null()) return std::nullopt;
  Object u = k.object(user, "struct user_struct");
  Object uid = u["uid"];
  return static_cast<uint32_t>(uid.type().strip().is_struct_like() ? uid["val"].as_u64() : uid.as_u64());
}

BpfProg read_prog(const Kernel& k, uint64_t id, VirtAddr addr) {
  BpfProg p;
  p.id = static_cast<uint32_t>(id);
  p.prog = addr;
  try {
    Object prog = k.object(addr, "struct bpf_prog");
    p.type = prog["type"].as_i64();
    p.type_name = enum_name(k, "enum bpf_prog_type", "BPF_PROG_TYPE_", p.type);
    std::vector<std::byte> tag = prog["tag"].bytes();
    for (size_t i = 0; i < p.tag.size() && i < tag.size(); ++i) p.tag[i] = static_cast<uint8_t>(tag[i]);
    p.insns = static_cast<uint32_t>(prog["len"].as_u64());
    if (const Type* insn = k.types().lookup("struct bpf_insn")) p.insn_size = static_cast<uint32_t>(insn->size());
    p.jited_len = static_cast<uint32_t>(prog["jited_len"].as_u64());
    p.bpf_func = prog["bpf_func"].pointer();
    p.insnsi = prog["insnsi"].address();
    if (prog.has_member("pages")) p.pages = static_cast<uint32_t>(prog["pages"].as_u64());
    if (prog.has_member("gpl_compatible")) p.gpl_compatible = prog["gpl_compatible"].as_u64() != 0;
    p.aux = prog["aux"].pointer();
    Object aux = prog["aux"].deref();
    const uint64_t cnt = aux["used_map_cnt"].as_u64();
    if (cnt > kMaxUsedMaps) {
      p.error = fmt::format("used_map_cnt {} is more than a program can use ({})", cnt, kMaxUsedMaps);
    } else if (cnt != 0) {
      Object used = aux["used_maps"];
      for (uint64_t i = 0; i < cnt; ++i) p.used_maps.push_back(used.at(i).pointer());
    }
    if (aux.has_member("load_time")) p.load_time_ns = aux["load_time"].as_u64();
    if (aux.has_member("name")) p.name = aux["name"].string(16);
    if (aux.has_member("user")) p.uid = user_uid(k, aux["user"].pointer());
  } catch (const ModelError& e) {
    if (!p.error.empty()) p.error += "; ";
    p.error += e.what();
  }
  return p;
}

BpfMap read_map(const Kernel& k, uint64_t id, VirtAddr addr) {
  BpfMap m;
  m.id = static_cast<uint32_t>(id);
  m.map = addr;
  try {
    Object map = k.object(addr, "struct bpf_map");
    m.type = map["map_type"].as_i64();
    m.type_name = enum_name(k, "enum bpf_map_type", "BPF_MAP_TYPE_", m.type);
    m.flags = static_cast<uint32_t>(map["map_flags"].as_u64());
    m.key_size = static_cast<uint32_t>(map["key_size"].as_u64());
    m.value_size = static_cast<uint32_t>(map["value_size"].as_u64());
    m.max_entries = static_cast<uint32_t>(map["max_entries"].as_u64());
    if (map.has_member("name")) m.name = map["name"].string(16);
    // 5.3 to 5.10: struct bpf_map_memory memory { pages, user }; before it
    // bpf_map.pages and bpf_map.user; from 5.11 neither (memcg accounting).
    constexpr uint64_t kPageSize = 4096;
    if (map.has_member("memory.pages")) {
      m.memlock = map["memory"]["pages"].as_u64() * kPageSize;
      m.uid = user_uid(k, map["memory"]["user"].pointer());
    } else {
      if (map.has_member("pages")) m.memlock = map["pages"].as_u64() * kPageSize;
      if (map.has_member("user")) m.uid = user_uid(k, map["user"].pointer());
    }
  } catch (const ModelError& e) {
    m.error = e.what();
  }
  return m;
}

}  // namespace

BpfObjects read_bpf_objects(const Kernel& k) {
  if (k.find_symbol("prog_idr") == nullptr || k.find_symbol("map_idr") == nullptr) {
    throw Error(Error::Kind::Lookup,
                "this kernel has no eBPF object IDRs (prog_idr, map_idr: CONFIG_BPF_SYSCALL is off)");
  }
  BpfObjects b;
  b.prog_type_names = enumerator_names(k, "enum bpf_prog_type");
  b.map_type_names = enumerator_names(k, "enum bpf_map_type");
  Walked<XarrayEntry> progs = walk_idr(k, k.symbol_address("prog_idr"), kMaxBpfObjects);
  for (const XarrayEntry& e : progs.entries) {
    if (e.value != 0) b.progs.push_back(read_prog(k, e.index, VirtAddr{e.value}));
  }
  b.prog_breaks = std::move(progs.breaks);
  Walked<XarrayEntry> maps = walk_idr(k, k.symbol_address("map_idr"), kMaxBpfObjects);
  for (const XarrayEntry& e : maps.entries) {
    if (e.value != 0) b.maps.push_back(read_map(k, e.index, VirtAddr{e.value}));
  }
  b.map_breaks = std::move(maps.breaks);
  return b;
}

std::vector<std::byte> read_bpf_xlated(const Kernel& k, const BpfProg& prog) {
  const uint64_t size = static_cast<uint64_t>(prog.insns) * prog.insn_size;
  if (size > kMaxXlatedBytes) {
    throw Error(Error::Kind::BadData,
                fmt::format("bpf program {}: {} instructions are more than a kernel loads", prog.id, prog.insns));
  }
  std::vector<std::byte> bytes(size);
  k.memory().read(prog.insnsi, bytes);
  return bytes;
}

std::vector<std::byte> read_bpf_jited(const Kernel& k, const BpfProg& prog) {
  if (prog.jited_len > kMaxJitedBytes) {
    throw Error(Error::Kind::BadData, fmt::format("bpf program {}: {} bytes of JITed code are more than a kernel makes",
                                                  prog.id, prog.jited_len));
  }
  std::vector<std::byte> bytes(prog.jited_len);
  if (!bytes.empty()) k.memory().read(prog.bpf_func, bytes);
  return bytes;
}

std::vector<uint32_t> used_map_ids(const BpfProg& prog, const std::vector<BpfMap>& maps) {
  std::vector<uint32_t> ids;
  for (VirtAddr used : prog.used_maps) {
    for (const BpfMap& m : maps) {
      if (m.map == used) {
        ids.push_back(m.id);
        break;
      }
    }
  }
  return ids;
}

uint64_t estimated_map_memory(const BpfMap& map, int possible_cpus, uint64_t page_size) {
  auto round_up = [](uint64_t v, uint64_t to) { return (v + to - 1) / to * to; };
  uint64_t value = map.value_size;
  if (per_cpu_map(map.type)) {
    value = round_up(map.value_size, 8) * static_cast<uint64_t>(possible_cpus);
  } else if (fd_map(map.type)) {
    value = sizeof(uint32_t);
  }
  return round_up(static_cast<uint64_t>(map.max_entries) * round_up(map.key_size + value, 8), page_size);
}

}  // namespace kdive
