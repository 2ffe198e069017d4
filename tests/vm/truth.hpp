// Ground truth of a real-kernel fixture: what the guest printed about itself just
// before it crashed (truth.txt, written by tests/vm/fixtures.py; the format is in
// tests/vm/README.md). Tests compare kdive's output against it.
//
//   Truth t = Truth::load(fixture_dir / "truth.txt");
//   t.release;                 // "6.1.0-56-cloud-amd64"
//   t.role("threaded");        // pid of the multi-threaded workload process
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kdive::test {

struct TruthTask {
  int64_t pid;
  int64_t tgid;
  int64_t ppid;
  char state;
  std::string comm;
};

struct TruthFd {
  int64_t pid;
  int fd;
  std::string target;
};

struct TruthPattern {
  int64_t pid;
  uint64_t address;
  uint64_t bytes;
  std::string text;  // repeated from address, the last copy cut short
};

struct TruthModule {
  std::string name;
  uint64_t size;     // bytes, as /proc/modules shows
  uint64_t address;  // the core text base
};

// One /proc/buddyinfo line: free blocks per order of one zone.
struct TruthBuddyZone {
  int node;
  std::string zone;
  std::vector<uint64_t> blocks;  // index: order
};

// One /proc/vmallocinfo line. The addresses are hashed pointers (%p) in the
// guest's print, so only sizes and callers can be compared.
struct TruthVmalloc {
  uint64_t size;       // bytes, the guard page included
  std::string caller;  // "irq_init_percpu_irqstack+0xcf/0x100", or "" when none
  std::string kind;    // the line's last word: "vmalloc", "ioremap", "vmap", "vm_map_ram", ...
};

// One /proc/slabinfo line (SLUB: tunables and shared counts are always 0).
struct TruthSlabinfo {
  std::string name;
  uint64_t active_objs;  // SLUB counts objects on per-CPU slabs as active
  uint64_t num_objs;     // the nodes' total_objects
  uint64_t objsize;      // the slot: kmem_cache.size, not object_size
  uint64_t objperslab;
  uint64_t pagesperslab;
  uint64_t active_slabs;
  uint64_t num_slabs;  // the nodes' nr_slabs
};

// The memory workload's pages as /proc/self/pagemap showed them.
struct TruthPage {
  int64_t pid;
  uint64_t address;
  enum class Kind { Present, Swap, None } kind;
  uint64_t pfn = 0;          // Present
  uint32_t swap_type = 0;    // Swap: index in swap_info[]
  uint64_t swap_offset = 0;  // Swap: the page slot on that device
};

struct TruthHugePage {
  int64_t pid;
  uint64_t address;
  uint64_t kb;  // the huge page's size
};

// A /proc/swaps line (sizes in kB).
struct TruthSwap {
  std::string path;
  std::string type;  // "partition" or "file"
  uint64_t size_kb, used_kb;
  int64_t priority;
};

// ---- system state (dev, irq, net, mount, ipcs, bpf, sig) ----

// A /proc/mounts line.
struct TruthMount {
  std::string device, dir, type, options;
};

// A /proc/devices entry.
struct TruthDevice {
  bool block;  // false: character device
  int major;
  std::string name;
};

// A /proc/net/dev line: the counters net and dev -d compare.
struct TruthNetdev {
  std::string name;
  uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
};

// An IPv4 address of an interface (`ip -4 addr`).
struct TruthNetAddr {
  std::string dev;
  std::string addr;  // "10.77.0.1"
  int prefix;        // 24
};

// A /proc/net/arp line (the Mask column left out).
struct TruthArp {
  std::string ip;
  uint32_t hwtype;  // ARPHRD_*: 1 for Ethernet
  uint32_t flags;   // ATF_*: 0x2 complete, 0x4 permanent
  std::string hwaddr, device;
};

// The net workload's TCP listener on 127.0.0.1.
struct TruthTcpListen {
  int64_t pid;
  std::string addr;
  int port;
  uint64_t inode;  // the socket's inode (its /proc/PID/fd link: socket:[inode])
};

// One end of the net workload's loopback TCP connection.
struct TruthTcpConn {
  int64_t pid;
  int fd;
  uint64_t inode;
  int local_port, remote_port;
};

// The net workload's connected AF_UNIX socketpair.
struct TruthUnixPair {
  int64_t pid;
  std::array<int, 2> fd;
  std::array<uint64_t, 2> inode;
};

// A /proc/sysvipc/{shm,sem,msg} line.
struct TruthSysvipc {
  std::string kind;  // "shm", "sem" or "msg"
  uint32_t key;
  int64_t id;
  std::string rest;                          // the line after key and id, as /proc prints it (perms, sizes, pids, ...)
  std::vector<std::string> columns() const;  // rest split at blanks
};

// A BPF program or map, with the id BPF_OBJ_GET_INFO_BY_FD gave.
struct TruthBpf {
  bool map;  // false: a program
  uint32_t id;
  std::string type;  // the kernel's enum name without its prefix: "SOCKET_FILTER", "ARRAY"
  std::string name;  // "kdive_filter", "kdive_map"
  uint32_t key_size = 0, value_size = 0, max_entries = 0;  // maps only
};

// A file descriptor of the bpf workload holding a BPF object.
struct TruthBpfFd {
  int64_t pid;
  int fd;
  bool map;
  uint32_t id;
};

// vda's /proc/diskstats line.
struct TruthDiskstats {
  int major, minor;
  std::string name;
  std::vector<uint64_t> counters;  // reads, reads merged, sectors read, ms reading, writes, ...
};

// A file that a workload keeps open.
struct TruthHeldFile {
  int64_t pid;
  int fd;
  std::string path;
};

struct Truth {
  std::string suite;
  std::string kernel_package;  // "<package>_<version>": its unpacked dir under the fixtures' kernels/
  std::string uname;
  std::string release;
  std::string version;  // /proc/version: the kernel's linux_banner without its newline
  std::string cmdline;  // /proc/cmdline
  int cpus = 0;
  bool la57 = false;
  std::vector<TruthTask> tasks;
  std::map<int64_t, int> threads;        // tgid -> thread count
  std::map<std::string, int64_t> roles;  // "threaded" -> pid
  std::vector<TruthFd> fds;
  std::multimap<int64_t, std::string> maps;  // pid -> /proc/PID/maps line
  std::map<std::string, uint64_t> meminfo;   // "MemTotal" -> kB
  std::vector<TruthBuddyZone> buddyinfo;     // /proc/buddyinfo
  std::vector<TruthVmalloc> vmallocinfo;     // /proc/vmallocinfo
  std::map<std::string, int64_t> vmstat;     // /proc/vmstat: "nr_free_pages" -> value
  std::map<std::string, std::string> sysctl;
  std::map<std::string, uint64_t> ksym;  // /proc/kallsyms addresses (run time, KASLR applied)
  std::map<std::string, uint64_t> kvar;  // u64 kernel variables read through /proc/kcore
  std::vector<TruthPattern> patterns;
  std::map<int64_t, int> task_cpu;                            // pid -> CPU it last ran on
  std::map<int64_t, std::map<std::string, uint64_t>> status;  // pid -> VmRSS, RssAnon, ... (kB)
  // Moments before the crash (absent in fixtures built before these lines existed).
  std::optional<std::array<double, 3>> loadavg;  // /proc/loadavg's 1, 5, 15 minutes
  std::optional<double> uptime_seconds;          // /proc/uptime
  std::optional<int64_t> date_epoch;             // date +%s
  std::map<std::string, std::string> dmi;        // /sys/class/dmi/id: "sys_vendor" -> "QEMU"
  std::vector<std::string> warnings;
  std::vector<TruthModule> modules;     // /proc/modules
  std::vector<TruthSlabinfo> slabinfo;  // /proc/slabinfo, in its order
  // bookworm-irq: the keyboard interrupt panicked this CPU's idle task (pid 0,
  // so no process has the "panic" role).
  std::optional<int> panic_idle_cpu;
  // bookworm-modoops: the test module, its call chain from the /proc write
  // handler to the NULL dereference (innermost first), and its symbols.
  std::string test_module;
  std::vector<std::string> test_module_chain;
  std::map<std::string, uint64_t> test_module_symbols;  // name -> run-time address (/proc/kallsyms)

  // The memory workload's records (absent in fixtures built before them).
  std::vector<TruthPage> pagemap;
  std::vector<TruthHugePage> hugepages;
  std::vector<TruthSwap> swaps;
  // pid -> "start-end" -> Size, Rss, Anonymous, Swap, KernelPageSize (kB)
  std::map<int64_t, std::map<std::string, std::map<std::string, uint64_t>>> smaps;

  // System state (absent in fixtures built before these lines existed; the
  // records are described in tests/vm/README.md).
  std::vector<TruthMount> mounts;                     // /proc/mounts
  std::vector<std::string> interrupts;                // /proc/interrupts, raw lines, the CPU header first
  std::vector<TruthDevice> devices;                   // /proc/devices
  std::vector<TruthNetdev> netdevs;                   // /proc/net/dev
  std::vector<TruthNetAddr> netaddrs;                 // IPv4 addresses
  std::vector<TruthArp> arp;                          // /proc/net/arp
  std::vector<TruthTcpListen> tcp_listen;             // the net workload's listener
  std::vector<TruthTcpConn> tcp_conns;                // both ends of its connection
  std::vector<TruthUnixPair> unix_pairs;              // its socketpair
  std::vector<TruthSysvipc> sysvipc;                  // /proc/sysvipc/*
  std::vector<TruthBpf> bpf;                          // BPF programs and maps of the bpf workload
  std::vector<TruthBpfFd> bpf_fds;                    // the fds holding them
  std::optional<TruthHeldFile> bpf_socket;            // the socket the program is attached to (path: "socket:[inode]")
  std::optional<TruthDiskstats> diskstats;            // vda
  std::optional<TruthHeldFile> tmpfs_file;            // the ipc workload's open file on the test tmpfs
  std::optional<std::array<uint64_t, 2>> shm_attach;  // the ipc workload's shm mapping: address, bytes
  // pid -> "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt" -> mask (bit N-1: signal N)
  std::map<int64_t, std::map<std::string, uint64_t>> sig;

  // Throws std::runtime_error naming the file and line when the file is unusable.
  static Truth load(const std::filesystem::path& path);
  static Truth parse(const std::string& text);

  int64_t role(const std::string& name) const;  // throws if absent
  std::optional<TruthTask> task(int64_t pid) const;
  // System-state lookups; nullptr / std::nullopt when the truth lacks them.
  const TruthMount* mount(const std::string& dir) const;
  const TruthNetdev* netdev(const std::string& name) const;
  const TruthArp* arp_entry(const std::string& ip) const;
  const TruthSysvipc* sysvipc_object(const std::string& kind, uint32_t key) const;
  const TruthBpf* bpf_object(bool map, const std::string& name) const;
  const TruthDevice* device(bool block, int major) const;
  // A signal mask of PID ("SigBlk", ...); throws if the truth lacks it.
  uint64_t sig_mask(int64_t pid, const std::string& mask) const;
};

// The fixed parameters of the system-state workloads (data/guest/workload.c
// and data/guest/init), for tests that look for them by name.
namespace system_state {
constexpr int kTcpPort = 7070;
constexpr uint32_t kShmKey = 0x4b444901, kSemKey = 0x4b444902, kMsgKey = 0x4b444903;
constexpr uint64_t kShmBytes = 64 * 1024;
constexpr int kSemCount = 3;
inline const char* const kNetDevice = "kdive0";
inline const char* const kNetAddress = "10.77.0.1/24";
inline const char* const kNeighbourIp = "10.77.0.2";
inline const char* const kNeighbourMac = "02:00:00:00:77:02";
inline const char* const kTmpfsDir = "/mnt/kdive-tmpfs";
inline const char* const kBpfProg = "kdive_filter";
inline const char* const kBpfMap = "kdive_map";
}  // namespace system_state

// Where fixtures live: ${KDIVE_FIXTURES:-$HOME/.cache/kdive/fixtures}/<suite>,
// the same rule as tests/vm/fixtures.py.
std::filesystem::path fixture_dir(const std::string& suite);

// /proc's state letter (the truth's `task` records) as crash's, and so
// kdive's, two-letter ps state.
inline std::string ps_state_code(char proc_state) {
  switch (proc_state) {
    case 'R':
      return "RU";
    case 'S':
      return "IN";
    case 'D':
      return "UN";
    case 'I':
      return "ID";
    case 'T':
      return "ST";
    case 't':
      return "TR";
    case 'Z':
      return "ZO";
    default:
      return "??";
  }
}

}  // namespace kdive::test
