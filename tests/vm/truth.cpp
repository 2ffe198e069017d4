#include "truth.hpp"

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kdive::test {
namespace {

// Splits off the first `n` space-separated fields; the rest of the line is the
// last field (comms, fd targets and maps lines may contain spaces).
std::vector<std::string> fields(const std::string& line, size_t n) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (out.size() < n && pos <= line.size()) {
    size_t sp = line.find(' ', pos);
    if (sp == std::string::npos) {
      out.push_back(line.substr(pos));
      pos = line.size() + 1;
      break;
    }
    out.push_back(line.substr(pos, sp - pos));
    pos = sp + 1;
  }
  if (pos <= line.size()) out.push_back(line.substr(pos));
  return out;
}

// "Node 0, zone      DMA      1      0 ..." (buddyinfo's own text).
TruthBuddyZone parse_buddyinfo(const std::string& rest) {
  std::istringstream in(rest);
  std::string node_word, node, zone_word, zone;
  in >> node_word >> node >> zone_word >> zone;
  if (node_word != "Node" || zone_word != "zone") throw std::invalid_argument("bad buddyinfo");
  TruthBuddyZone b{std::stoi(node), zone, {}};
  for (uint64_t n; in >> n;) b.blocks.push_back(n);
  return b;
}

// "0xSTART-0xEND SIZE [CALLER] [phys=..] [pages=..] ... KIND"; a caller is the
// third word when it is a symbol+off/size.
TruthVmalloc parse_vmallocinfo(const std::string& rest) {
  std::istringstream in(rest);
  std::string range, size;
  in >> range >> size;
  TruthVmalloc v{std::stoull(size), "", ""};
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (!words.empty() && words.front().find("+0x") != std::string::npos) v.caller = words.front();
  if (!words.empty()) v.kind = words.back();
  return v;
}

// "name active num objsize perslab pages : tunables 0 0 0 : slabdata active num 0"
TruthSlabinfo parse_slabinfo(const std::string& line) {
  std::istringstream in(line);
  TruthSlabinfo s;
  std::string colon, word;
  uint64_t ignored = 0;
  in >> s.name >> s.active_objs >> s.num_objs >> s.objsize >> s.objperslab >> s.pagesperslab;
  in >> colon >> word >> ignored >> ignored >> ignored >> colon >> word >> s.active_slabs >> s.num_slabs;
  if (!in || word != "slabdata") throw std::invalid_argument("not a slabinfo line: " + line);
  return s;
}

int64_t number(const std::string& s) {
  size_t used = 0;
  int64_t v = std::stoll(s, &used, 10);
  if (used != s.size()) throw std::invalid_argument("not a number: " + s);
  return v;
}

uint64_t hex_number(const std::string& s) {
  size_t used = 0;
  uint64_t v = std::stoull(s, &used, 16);
  if (used != s.size()) throw std::invalid_argument("not a hex number: " + s);
  return v;
}

// pagemap, hugepage, swaps and smaps: true when `key` is one of them.
bool parse_memory_record(Truth& t, const std::string& key, const std::string& rest) {
  if (key == "pagemap") {
    auto f = fields(rest, 3);  // pid 0xaddr present 0xpfn | swap type 0xoffset | none
    TruthPage p{number(f.at(0)), hex_number(f.at(1)), TruthPage::Kind::None};
    if (f.at(2) == "present") {
      p.kind = TruthPage::Kind::Present;
      p.pfn = hex_number(f.at(3));
    } else if (f.at(2) == "swap") {
      auto sw = fields(f.at(3), 1);
      p.kind = TruthPage::Kind::Swap;
      p.swap_type = static_cast<uint32_t>(number(sw.at(0)));
      p.swap_offset = hex_number(sw.at(1));
    } else if (f.at(2) != "none") {
      throw std::invalid_argument("bad pagemap");
    }
    t.pagemap.push_back(p);
  } else if (key == "hugepage") {
    auto f = fields(rest, 2);
    t.hugepages.push_back({number(f.at(0)), hex_number(f.at(1)), static_cast<uint64_t>(number(f.at(2)))});
  } else if (key == "swaps") {
    std::istringstream in(rest);  // columns are separated by spaces and tabs
    TruthSwap s;
    if (!(in >> s.path >> s.type >> s.size_kb >> s.used_kb >> s.priority)) throw std::invalid_argument("bad swaps");
    t.swaps.push_back(s);
  } else if (key == "smaps") {
    auto f = fields(rest, 3);
    t.smaps[number(f.at(0))][f.at(1)][f.at(2)] = static_cast<uint64_t>(number(f.at(3)));
  } else {
    return false;
  }
  return true;
}

uint32_t u32(const std::string& s, int base = 10) {
  size_t used = 0;
  unsigned long long v = std::stoull(s, &used, base);
  if (used != s.size() || v > UINT32_MAX) throw std::invalid_argument("not a 32-bit number: " + s);
  return static_cast<uint32_t>(v);
}

// The system-state records (dev, irq, net, mount, ipcs, bpf, sig): true when
// `key` is one of them.
bool parse_system_record(Truth& t, const std::string& key, const std::string& rest) {
  if (key == "mount") {
    std::istringstream in(rest);
    TruthMount m;
    if (!(in >> m.device >> m.dir >> m.type >> m.options)) throw std::invalid_argument("bad mount");
    t.mounts.push_back(m);
  } else if (key == "interrupts") {
    t.interrupts.push_back(rest);
  } else if (key == "devices") {
    auto f = fields(rest, 2);  // char|block major name
    if (f.at(0) != "char" && f.at(0) != "block") throw std::invalid_argument("bad devices");
    t.devices.push_back({f[0] == "block", static_cast<int>(number(f.at(1))), f.at(2)});
  } else if (key == "netdev") {
    auto f = fields(rest, 4);
    t.netdevs.push_back({f.at(0), static_cast<uint64_t>(number(f.at(1))), static_cast<uint64_t>(number(f.at(2))),
                         static_cast<uint64_t>(number(f.at(3))), static_cast<uint64_t>(number(f.at(4)))});
  } else if (key == "netaddr") {
    auto f = fields(rest, 1);
    const std::string& cidr = f.at(1);
    size_t slash = cidr.find('/');
    if (slash == std::string::npos) throw std::invalid_argument("bad netaddr");
    t.netaddrs.push_back({f[0], cidr.substr(0, slash), static_cast<int>(number(cidr.substr(slash + 1)))});
  } else if (key == "arp") {
    auto f = fields(rest, 4);  // ip hwtype flags hwaddr device
    t.arp.push_back({f.at(0), u32(f.at(1), 16), u32(f.at(2), 16), f.at(3), f.at(4)});
  } else if (key == "tcp_listen") {
    auto f = fields(rest, 3);  // pid addr port inode
    t.tcp_listen.push_back(
        {number(f.at(0)), f.at(1), static_cast<int>(number(f.at(2))), static_cast<uint64_t>(number(f.at(3)))});
  } else if (key == "tcp_conn") {
    auto f = fields(rest, 4);  // pid fd inode local_port remote_port
    t.tcp_conns.push_back({number(f.at(0)), static_cast<int>(number(f.at(1))), static_cast<uint64_t>(number(f.at(2))),
                           static_cast<int>(number(f.at(3))), static_cast<int>(number(f.at(4)))});
  } else if (key == "unix_pair") {
    auto f = fields(rest, 4);  // pid fd inode fd inode
    t.unix_pairs.push_back({number(f.at(0)),
                            {static_cast<int>(number(f.at(1))), static_cast<int>(number(f.at(3)))},
                            {static_cast<uint64_t>(number(f.at(2))), static_cast<uint64_t>(number(f.at(4)))}});
  } else if (key == "sysvipc") {
    auto f = fields(rest, 3);  // kind 0xkey id rest
    if (f.at(1).rfind("0x", 0) != 0) throw std::invalid_argument("bad sysvipc key");
    t.sysvipc.push_back({f.at(0), u32(f[1].substr(2), 16), number(f.at(2)), f.size() > 3 ? f[3] : ""});
  } else if (key == "bpf") {
    auto f = fields(rest, 7);  // prog id type name | map id type name key value max
    TruthBpf b{f.at(0) == "map", u32(f.at(1)), f.at(2), f.at(3)};
    if (b.map) {
      b.key_size = u32(f.at(4));
      b.value_size = u32(f.at(5));
      b.max_entries = u32(f.at(6));
    } else if (f[0] != "prog") {
      throw std::invalid_argument("bad bpf");
    }
    t.bpf.push_back(b);
  } else if (key == "bpf_fd") {
    auto f = fields(rest, 3);  // pid fd prog|map id
    t.bpf_fds.push_back({number(f.at(0)), static_cast<int>(number(f.at(1))), f.at(2) == "map", u32(f.at(3))});
  } else if (key == "bpf_socket") {
    auto f = fields(rest, 2);  // pid fd inode
    t.bpf_socket = TruthHeldFile{number(f.at(0)), static_cast<int>(number(f.at(1))), "socket:[" + f.at(2) + "]"};
  } else if (key == "diskstats") {
    std::istringstream in(rest);
    TruthDiskstats d;
    if (!(in >> d.major >> d.minor >> d.name)) throw std::invalid_argument("bad diskstats");
    for (uint64_t n; in >> n;) d.counters.push_back(n);
    t.diskstats = d;
  } else if (key == "tmpfs_file") {
    auto f = fields(rest, 2);  // pid fd path
    t.tmpfs_file = TruthHeldFile{number(f.at(0)), static_cast<int>(number(f.at(1))), f.at(2)};
  } else if (key == "shm_attach") {
    auto f = fields(rest, 2);  // pid 0xaddress bytes
    t.shm_attach = std::array<uint64_t, 2>{std::stoull(f.at(1), nullptr, 16), static_cast<uint64_t>(number(f.at(2)))};
  } else if (key == "sig") {
    auto f = fields(rest, 2);  // pid SigBlk hex
    t.sig[number(f.at(0))][f.at(1)] = hex_number(f.at(2));
  } else if (key == "ipc_id") {
    // The ids the ipc workload got from shmget/semget/msgget: validated
    // against the sysvipc lines by fixtures.py, nothing more to keep.
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> TruthSysvipc::columns() const {
  std::istringstream in(rest);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Truth Truth::parse(const std::string& text) {
  Truth t;
  std::istringstream in(text);
  std::string line;
  int lineno = 0;
  bool ended = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    auto key_rest = fields(line, 1);
    const std::string& key = key_rest[0];
    const std::string rest = key_rest.size() > 1 ? key_rest[1] : "";
    try {
      if (key == "suite") {
        t.suite = rest;
      } else if (key == "uname") {
        t.uname = rest;
      } else if (key == "release") {
        t.release = rest;
      } else if (key == "version") {
        t.version = rest;
      } else if (key == "cmdline") {
        t.cmdline = rest;
      } else if (key == "cpus") {
        t.cpus = static_cast<int>(number(rest));
      } else if (key == "cpu_la57") {
        t.la57 = rest == "yes";
      } else if (key == "task") {
        auto f = fields(rest, 4);
        if (f.size() != 5 || f[3].size() != 1) throw std::invalid_argument("bad task");
        t.tasks.push_back({number(f[0]), number(f[1]), number(f[2]), f[3][0], f[4]});
      } else if (key == "threads") {
        auto f = fields(rest, 1);
        t.threads[number(f.at(0))] = static_cast<int>(number(f.at(1)));
      } else if (key == "role") {
        auto f = fields(rest, 1);
        t.roles[f.at(0)] = number(f.at(1));
      } else if (key == "fd") {
        auto f = fields(rest, 2);
        t.fds.push_back({number(f.at(0)), static_cast<int>(number(f.at(1))), f.at(2)});
      } else if (key == "map") {
        auto f = fields(rest, 1);
        t.maps.emplace(number(f.at(0)), f.at(1));
      } else if (key == "meminfo") {
        auto f = fields(rest, 1);
        t.meminfo[f.at(0)] = static_cast<uint64_t>(number(f.at(1)));
      } else if (key == "buddyinfo") {
        t.buddyinfo.push_back(parse_buddyinfo(rest));
      } else if (key == "vmallocinfo") {
        t.vmallocinfo.push_back(parse_vmallocinfo(rest));
      } else if (key == "vmstat") {
        auto f = fields(rest, 1);
        t.vmstat[f.at(0)] = number(f.at(1));
      } else if (key == "sysctl") {
        auto f = fields(rest, 1);
        t.sysctl[f.at(0)] = f.at(1);
      } else if (key == "ksym" || key == "kvar") {
        auto f = fields(rest, 1);
        uint64_t v = std::stoull(f.at(1), nullptr, 16);
        (key == "ksym" ? t.ksym : t.kvar)[f.at(0)] = v;
      } else if (key == "pattern") {
        auto f = fields(rest, 3);
        t.patterns.push_back(
            {number(f.at(0)), std::stoull(f.at(1), nullptr, 16), static_cast<uint64_t>(number(f.at(2))), f.at(3)});
      } else if (key == "status") {
        auto f = fields(rest, 2);
        t.status[number(f.at(0))][f.at(1)] = static_cast<uint64_t>(number(f.at(2)));
      } else if (key == "task_cpu") {
        auto f = fields(rest, 1);
        t.task_cpu[number(f.at(0))] = static_cast<int>(number(f.at(1)));
      } else if (key == "module") {
        // name size refcount deps state 0xaddress
        auto f = fields(rest, 5);
        t.modules.push_back({f.at(0), static_cast<uint64_t>(number(f.at(1))), std::stoull(f.at(5), nullptr, 16)});
      } else if (key == "slabinfo") {
        t.slabinfo.push_back(parse_slabinfo(rest));
      } else if (key == "kernel_package") {
        auto f = fields(rest, 1);
        t.kernel_package = f.at(0) + "_" + f.at(1);
      } else if (key == "loadavg") {
        auto f = fields(rest, 3);  // "0.20 0.07 0.02 2/61 140"
        t.loadavg = {std::stod(f.at(0)), std::stod(f.at(1)), std::stod(f.at(2))};
      } else if (key == "uptime") {
        t.uptime_seconds = std::stod(fields(rest, 1).at(0));
      } else if (key == "date") {
        t.date_epoch = number(rest);
      } else if (key == "dmi") {
        auto f = fields(rest, 1);
        t.dmi[f.at(0)] = f.size() > 1 ? f[1] : "";
      } else if (key == "panic_cpu_idle") {
        t.panic_idle_cpu = static_cast<int>(number(rest));
      } else if (key == "test_module") {
        auto f = fields(rest, 64);  // module, then the chain's function names
        t.test_module = f.at(0);
        t.test_module_chain.assign(f.begin() + 1, f.end());
      } else if (key == "modsym") {
        auto f = fields(rest, 3);  // module name type 0xaddress
        t.test_module_symbols[f.at(1)] = std::stoull(f.at(3), nullptr, 16);
      } else if (parse_memory_record(t, key, rest) || parse_system_record(t, key, rest)) {
      } else if (key == "warning") {
        t.warnings.push_back(rest);
      } else if (key == "end") {
        ended = true;
      }
      // Other keys (kernel_package, ...) are informational.
    } catch (const std::exception& e) {
      throw std::runtime_error("line " + std::to_string(lineno) + ": cannot parse '" + line + "'");
    }
  }
  if (!ended) throw std::runtime_error("no 'end' line: the guest did not finish printing its truth");
  return t;
}

Truth Truth::load(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse(ss.str());
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": " + e.what());
  }
}

int64_t Truth::role(const std::string& name) const {
  auto it = roles.find(name);
  if (it == roles.end()) throw std::runtime_error("truth has no role '" + name + "'");
  return it->second;
}

std::optional<TruthTask> Truth::task(int64_t pid) const {
  for (const auto& t : tasks) {
    if (t.pid == pid) return t;
  }
  return std::nullopt;
}

namespace {
template <typename T, typename Pred>
const T* find_in(const std::vector<T>& items, Pred pred) {
  for (const T& item : items) {
    if (pred(item)) return &item;
  }
  return nullptr;
}
}  // namespace

const TruthMount* Truth::mount(const std::string& dir) const {
  return find_in(mounts, [&](const TruthMount& m) { return m.dir == dir; });
}

const TruthNetdev* Truth::netdev(const std::string& name) const {
  return find_in(netdevs, [&](const TruthNetdev& n) { return n.name == name; });
}

const TruthArp* Truth::arp_entry(const std::string& ip) const {
  return find_in(arp, [&](const TruthArp& a) { return a.ip == ip; });
}

const TruthSysvipc* Truth::sysvipc_object(const std::string& kind, uint32_t key) const {
  return find_in(sysvipc, [&](const TruthSysvipc& s) { return s.kind == kind && s.key == key; });
}

const TruthBpf* Truth::bpf_object(bool map, const std::string& name) const {
  return find_in(bpf, [&](const TruthBpf& b) { return b.map == map && b.name == name; });
}

const TruthDevice* Truth::device(bool block, int major) const {
  return find_in(devices, [&](const TruthDevice& d) { return d.block == block && d.major == major; });
}

uint64_t Truth::sig_mask(int64_t pid, const std::string& mask) const {
  auto p = sig.find(pid);
  if (p == sig.end() || !p->second.contains(mask)) {
    throw std::runtime_error("truth has no sig " + std::to_string(pid) + " " + mask);
  }
  return p->second.at(mask);
}

std::filesystem::path fixture_dir(const std::string& suite) {
  const char* root = std::getenv("KDIVE_FIXTURES");
  if (root != nullptr && *root != '\0') return std::filesystem::path(root) / suite;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : "/") / ".cache/kdive/fixtures" / suite;
}

}  // namespace kdive::test
