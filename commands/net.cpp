// net: the network devices of a namespace with their IPv4 addresses, (-a) the
// ARP cache, (-s/-S) the open sockets of tasks, (-N) an IPv4 number as a
// dotted quad, in crash's layout.
#include <fmt/format.h>

#include <charconv>

#include "commands/api/command.hpp"
#include "commands/api/interrupt.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/centered.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/neighbours.hpp"
#include "kernel-model/net_devices.hpp"
#include "kernel-model/sockets.hpp"

namespace kdive {
namespace {

constexpr uint16_t kAfUnix = 1;
constexpr uint16_t kAfInet = 2;
constexpr uint16_t kAfInet6 = 10;

std::optional<uint64_t> parse_number(std::string_view word, int base) {
  if (base == 16 && (word.starts_with("0x") || word.starts_with("0X"))) word.remove_prefix(2);
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), v, base);
  if (ec != std::errc() || end != word.data() + word.size() || word.empty()) return std::nullopt;
  return v;
}

// ---- net, net -n -------------------------------------------------------

Json devices(const Kernel& k, VirtAddr net, Output& out) {
  NetDeviceList l = read_net_devices(k, net);
  out.print("{}  NAME   IP ADDRESS(ES)\n", centered("NET_DEVICE", 16));
  Json rows = Json::array();
  for (size_t i = 0; i <= l.devices.size(); ++i) {
    for (const WalkBreak& b : l.breaks) {
      if (b.position != i) continue;
      out.print("(damaged: {})\n", b.describe());
      out.data_lost(fmt::format("net devices: {}", b.describe()));
    }
    if (i == l.devices.size()) break;
    const NetDevice& d = l.devices[i];
    std::string addrs;
    Json jaddrs = Json::array();
    for (const Ipv4Address& a : d.ipv4) {
      addrs += (addrs.empty() ? "" : ", ") + a.text;
      jaddrs.push_back({{"address", a.text}, {"prefix", a.prefix}, {"label", a.label}});
    }
    out.print("{:16x}  {:<6} {}{}\n", d.dev.value(), d.name, addrs,
              d.error.empty() ? "" : fmt::format("{}(damaged: {})", addrs.empty() ? "" : " ", d.error));
    if (!d.error.empty()) out.data_lost(fmt::format("net_device {:x}", d.dev.value()));
    // IPv6 addresses are in the JSON only: crash 8.0.2's text shows IPv4.
    Json jaddrs6 = Json::array();
    for (const Ipv6Address& a : d.ipv6) jaddrs6.push_back({{"address", a.text}, {"prefix", a.prefix}});
    Json row = {{"net_device", json_hex(d.dev)},
                {"name", d.name},
                {"type", d.type},
                {"hwaddr", hwaddr_text(d.hwaddr)},
                {"addresses", std::move(jaddrs)},
                {"ipv6", std::move(jaddrs6)}};
    if (!d.error.empty()) row["error"] = d.error;
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- net -a ------------------------------------------------------------

// crash's names of the ARPHRD_* link types it knows; the rest are UNKNOWN.
std::string hw_type_name(uint16_t type) {
  switch (type) {
    case 0:
      return "NETROM";
    case 1:
      return "ETHER";
    case 2:
      return "EETHER";
    case 3:
      return "AX25";
    case 4:
      return "PRONET";
    case 5:
      return "CHAOS";
    case 6:
      return "IEEE802";
    case 7:
      return "ARCNET";
    case 8:
      return "APPLETLK";
    case 15:
      return "DLCI";
    case 23:
      return "METRICOM";
    default:
      return "UNKNOWN";
  }
}

Json arp(const Kernel& k, Output& out) {
  NeighbourTable t;
  try {
    t = read_arp_table(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("-a: {}", e.what()));
  }
  Json rows = Json::array();
  // crash prints the heading only when there is an entry.
  if (!t.entries.empty()) out.print("NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n");
  for (size_t i = 0; i <= t.entries.size(); ++i) {
    for (const WalkBreak& b : t.breaks) {
      if (b.position != i) continue;
      out.print("(damaged: {})\n", b.describe());
      out.data_lost(fmt::format("arp_tbl: {}", b.describe()));
    }
    if (i == t.entries.size()) break;
    const Neighbour& n = t.entries[i];
    // Ethernet addresses colon-separated, others as spaced bytes, each with a
    // trailing separator as crash prints them.
    std::string ha;
    for (size_t j = 0; j < n.ha.size(); ++j) {
      const bool last = j + 1 == n.ha.size();
      ha += fmt::format("{:02x}{}", n.ha[j], n.dev_type == 1 && !last ? ':' : ' ');
    }
    if (!n.error.empty()) {
      out.print("{:<16x} (damaged: {})\n", n.neighbour.value(), n.error);
      out.data_lost(fmt::format("neighbour {:x}", n.neighbour.value()));
    } else {
      out.print("{:<16x} {:<16}{:<10} {} {:<6}  {}\n", n.neighbour.value(), n.ip, hw_type_name(n.dev_type), ha,
                n.dev_name, nud_state_names(n.nud_state));
    }
    Json row = {{"neighbour", json_hex(n.neighbour)},
                {"ip", n.ip},
                {"hw_type", hw_type_name(n.dev_type)},
                {"arphrd", n.dev_type},
                {"hwaddr", hwaddr_text(n.ha)},
                {"device", n.dev_name},
                {"net_device", json_hex(n.dev)},
                {"state", nud_state_names(n.nud_state)},
                {"nud_state", n.nud_state}};
    if (!n.error.empty()) row["error"] = n.error;
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- net -s, net -S ----------------------------------------------------

// What -R names: a decimal number may be an fd or an inode number, a hex one
// a struct socket, struct sock or inode address (crash: socket, sock or fd).
struct Reference {
  std::string text;
  std::optional<uint64_t> decimal, hex;
  bool matches(const SocketInfo& s) const {
    if (decimal && (static_cast<uint64_t>(s.fd) == *decimal || s.ino == *decimal)) return true;
    if (hex && (s.socket.value() == *hex || s.sock.value() == *hex || s.inode.value() == *hex)) return true;
    return false;
  }
};

std::string endpoints(const SocketInfo& s) {
  if (s.family == kAfInet || s.family == kAfInet6) {
    return fmt::format(" {}-{} {}-{}", s.src, s.src_port, s.dst, s.dst_port);
  }
  if (s.family == kAfUnix) {
    // crash prints nothing here; the inode numbers are what /proc/PID/fd and
    // `ss -x` name a UNIX socket and its peer by.
    return fmt::format(" {}-{} *-{}", s.unix_path.empty() ? "*" : s.unix_path, s.ino, s.peer_ino.value_or(0));
  }
  return "";
}

Json socket_json(const SocketInfo& s) {
  Json j = {{"fd", s.fd},
            {"socket", json_hex(s.socket)},
            {"sock", json_hex(s.sock)},
            {"inode", json_hex(s.inode)},
            {"ino", s.ino},
            {"family", family_name(s.family)},
            {"type", socket_type_name(s.type)},
            {"state", s.state}};
  if (s.family == kAfInet || s.family == kAfInet6) {
    j["source"] = s.src;
    j["source_port"] = s.src_port;
    j["destination"] = s.dst;
    j["destination_port"] = s.dst_port;
  } else if (s.family == kAfUnix) {
    j["path"] = s.unix_path;
    j["peer"] = json_hex(s.peer);
    j["peer_ino"] = s.peer_ino ? Json(*s.peer_ino) : Json(nullptr);
  }
  if (!s.error.empty()) j["error"] = s.error;
  return j;
}

// The struct command's rendering of one structure (text into `out`, or its
// JSON result returned): -S shows the kernel's own layout, not a summary.
Json dump_struct(Session& session, std::string_view type, VirtAddr address, std::optional<char> radix, Output& out) {
  const Command* st = CommandRegistry::instance().find("struct");
  if (st == nullptr) throw CommandError("-S needs the struct command");
  std::vector<std::string> words = {std::string(type), fmt::format("{:x}", address.value())};
  if (radix) words.push_back(fmt::format("-{}", *radix));
  ParsedArgs a = parse_args(st->spec, words);
  try {
    if (!out.json()) {
      st->run(session, a, out);
      return nullptr;
    }
    StringOutput capture(OutputMode::Json);
    st->run(session, a, capture);
    return capture.take_result();
  } catch (const Interrupted&) {
    throw;
  } catch (const std::exception& e) {
    // One structure that cannot be shown costs only itself.
    out.print("(damaged: struct {} at {:x}: {})\n", type, address.value(), e.what());
    out.data_lost(fmt::format("struct {} {:x}", type, address.value()));
    return {{"error", e.what()}};
  }
}

// The structure -S shows for a sock: the family's own (inet_sock, unix_sock)
// so its members are named. crash shows inet_sock for every family.
std::string_view sock_struct(uint16_t family) {
  if (family == kAfInet || family == kAfInet6) return "inet_sock";
  if (family == kAfUnix) return "unix_sock";
  return "sock";
}

Json task_sockets(Session& session, const Task& t, bool full, const std::optional<Reference>& ref,
                  std::optional<char> radix, Output& out) {
  const Kernel& k = session.kernel();
  Json entry = task_header_json(t);
  TaskSockets ts = read_task_sockets(k, t);
  std::vector<const SocketInfo*> shown;
  for (const SocketInfo& s : ts.sockets) {
    if (!ref || ref->matches(s)) shown.push_back(&s);
  }
  // With -R a task without the reference prints nothing at all (crash).
  if (ref && shown.empty()) return nullptr;
  out.print("{}\n", task_header(t));
  Json rows = Json::array();
  bool first = true;
  for (const SocketInfo* s : shown) {
    Json row = socket_json(*s);
    if (full) {
      out.print("{}FD  {}  {}\n", first ? "" : "\n", centered("SOCKET", 16), centered("SOCK", 16));
      out.print("{:2}  {:16x}  {:16x}\n\n", s->fd, s->socket.value(), s->sock.value());
      if (!s->socket.is_null()) row["socket_struct"] = dump_struct(session, "socket", s->socket, radix, out);
      if (!s->sock.is_null() && s->family != 0) {
        row["sock_struct"] = dump_struct(session, sock_struct(s->family), s->sock, radix, out);
      }
      if (!s->error.empty()) out.print("(damaged: {})\n", s->error);
    } else {
      if (first) out.print("FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT\n");
      // crash pads DGRAM to the width of STREAM, then one space.
      const std::string type = socket_type_name(s->type);
      const std::string prefix = fmt::format("{:2} {:16x} {:16x} ", s->fd, s->socket.value(), s->sock.value());
      if (!s->error.empty() && s->family == 0) {
        // The sock could not be read: no family to show, only why.
        out.print("{}(damaged: {})\n", prefix, s->error);
      } else {
        out.print("{}{}:{} {}\n", prefix, family_name(s->family), type == "DGRAM" ? "DGRAM " : type, endpoints(*s));
        if (!s->error.empty()) out.print("   (damaged: {})\n", s->error);
      }
    }
    if (!s->error.empty()) out.data_lost(fmt::format("PID {} fd {}: {}", t.pid, s->fd, s->error));
    first = false;
    rows.push_back(std::move(row));
  }
  if (shown.empty()) out.print("No open sockets.\n");
  for (const std::string& f : ts.unreadable_files) {
    out.print("(damaged: {}; it may be a socket)\n", f);
    out.data_lost(fmt::format("PID {} {}", t.pid, f));
  }
  if (!ts.fds_error.empty()) {
    out.print("(damaged: fd table: {})\n", ts.fds_error);
    out.data_lost(fmt::format("PID {} fd table", t.pid));
  }
  if (ref) out.print("\n");
  entry["sockets"] = std::move(rows);
  return entry;
}

Json sockets(Session& session, const ParsedArgs& args, Output& out) {
  std::optional<Reference> ref;
  if (auto r = args.value('R')) {
    ref = Reference{*r, parse_number(*r, 10), parse_number(*r, 16)};
    if (!ref->decimal && !ref->hex) throw CommandError(fmt::format("-R: not a number or address: '{}'", *r));
  }
  std::optional<char> radix;
  if (args.has('x')) radix = 'x';
  if (args.has('d')) radix = 'd';
  const std::vector<const Task*> tasks = tasks_or_context(session, args.positional());
  Json rows = Json::array();
  for (const Task* t : tasks) {
    if (report_if_damaged(*t, out)) {
      out.print("{}\n", task_header(*t));
      rows.push_back(task_header_json(*t));
      continue;
    }
    Json one = task_sockets(session, *t, args.has('S'), ref, radix, out);
    if (!one.is_null()) rows.push_back(std::move(one));
  }
  return rows;
}

// ---- the command ---------------------------------------------------------

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  Json result = {{"namespace", nullptr},
                 {"devices", Json::array()},
                 {"arp", Json::array()},
                 {"tasks", Json::array()},
                 {"address", nullptr}};
  if (args.has('x') && args.has('d')) throw CommandError("-d and -x exclude each other");
  if (args.has('s') && args.has('S')) throw CommandError("-s and -S exclude each other");
  if (auto n = args.value('N')) {
    // crash's -N: the number as the kernel stores an address (__be32), e.g.
    // a sock's skc_daddr printed by struct.
    std::optional<uint64_t> v = n->starts_with("0x") ? parse_number(*n, 16) : parse_number(*n, 10);
    if (!v) v = parse_number(*n, 16);
    if (!v || *v > 0xffffffffu) throw CommandError(fmt::format("-N: not an IPv4 address number: '{}'", *n));
    const std::string text = ipv4_text(static_cast<uint32_t>(*v));
    out.print("{}\n", text);
    result["address"] = text;
    return out.result(std::move(result));
  }
  const bool socks = args.has('s') || args.has('S');
  if (!socks && args.has('R')) throw CommandError("-R: only with -s or -S");
  if (!socks && (args.has('x') || args.has('d'))) throw CommandError("-x and -d: only with -s or -S");
  if (socks) {
    if (args.has('n') || args.has('a')) throw CommandError("-s/-S: not with -a or -n");
    result["tasks"] = sockets(session, args, out);
    return out.result(std::move(result));
  }
  if (args.has('a')) {
    if (args.has('n') || !args.positional().empty()) throw CommandError("-a takes no task");
    result["arp"] = arp(k, out);
    return out.result(std::move(result));
  }
  if (!args.has('n') && !args.positional().empty()) {
    throw CommandError(fmt::format("'{}': a task goes with -n, -s or -S", args.positional().front()));
  }
  VirtAddr net;
  if (args.has('n')) {
    const Task* t = &session.context();
    if (args.positional().size() > 1) throw CommandError("-n takes one task");
    if (!args.positional().empty()) t = select_tasks(k, k.tasks(), args.positional()).front();
    net = task_net_namespace(k, t->address);
  } else {
    try {
      net = init_net_address(k);
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::Lookup) throw;
      throw NotInKernel(e.what());
    }
  }
  result["namespace"] = json_hex(net);
  result["devices"] = devices(k, net, out);
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "net",
     .summary = "network devices, ARP cache, sockets of tasks",
     .usage = "net [[-s | -S] [-x | -d] [-R ref] [pid | task]] | -a | -n [pid | task] | -N addr",
     .description = "Without options, lists the network devices of the initial network namespace\n"
                    "(init_net.dev_base_head): each struct net_device, its name and its IPv4\n"
                    "addresses (in_device.ifa_list).\n"
                    "\n"
                    "  -n [pid | task]  the devices of the network namespace of the current\n"
                    "                   context, or of the task given.\n"
                    "  -a               the ARP cache: every neighbour of arp_tbl's hash table with\n"
                    "                   its IPv4 address, link type, hardware address, device and\n"
                    "                   NUD state.\n"
                    "  -s [pid | task]  the open sockets of the current context or the tasks given:\n"
                    "                   fd, struct socket, struct sock, family and type, and for\n"
                    "                   INET/INET6 the source and destination address-port. For\n"
                    "                   UNIX sockets kdive adds the socket's inode number and its\n"
                    "                   peer's (as /proc/PID/fd and ss -x name them), with the\n"
                    "                   bound path or * for none.\n"
                    "  -S [pid | task]  each socket followed by its struct socket and its sock as\n"
                    "                   the struct command shows them (inet_sock for INET/INET6,\n"
                    "                   unix_sock for UNIX, sock otherwise).\n"
                    "  -R ref           with -s or -S: only the sockets that ref names: an fd or\n"
                    "                   inode number (decimal), or a struct socket, struct sock or\n"
                    "                   inode address (hex). Tasks without one print nothing, which\n"
                    "                   makes `foreach net -s -R ref` a search.\n"
                    "  -x, -d           with -S: integers of the structures in hex or decimal.\n"
                    "  -N addr          an IPv4 address held as a number (as struct prints\n"
                    "                   skc_daddr) in dotted-quad notation.\n"
                    "\n"
                    "A damaged device list, hash chain, socket or fd table is marked where it\n"
                    "breaks; what could be read is still listed.",
     .examples = "  kdive> net\n"
                 "     NET_DEVICE     NAME   IP ADDRESS(ES)\n"
                 "  ffff9f5e41141000  lo     127.0.0.1\n"
                 "  ffff9f5e41e56000  kdive0 10.77.0.1\n"
                 "  kdive> net -a\n"
                 "  NEIGHBOUR        IP ADDRESS      HW TYPE    HW ADDRESS         DEVICE  STATE\n"
                 "  ffff9f5e41ea2800 10.77.0.2       ETHER      02:00:00:00:77:02  kdive0  PERMANENT\n"
                 "  kdive> net -s 106\n"
                 "  PID: 106      TASK: ffff9f5e41f53e80  CPU: 1    COMMAND: \"kd-net\"\n"
                 "  FD      SOCKET            SOCK       FAMILY:TYPE SOURCE-PORT DESTINATION-PORT\n"
                 "   3 ffff9f5e41443a80 ffff9f5e41fb2300 INET:STREAM  127.0.0.1-7070 0.0.0.0-0\n"
                 "   6 ffff9f5e41440d00 ffff9f5e41fe8400 UNIX:STREAM  *-124 *-125\n"
                 "  kdive> foreach net -s -R 3",
     .options = {{'s', "", "the open sockets of the current context or the tasks given"},
                 {'S', "", "the same, with their struct socket and sock"},
                 {'R', "ref", "with -s/-S: only sockets with this fd, inode or address"},
                 {'x', "", "with -S: integers in hexadecimal"},
                 {'d', "", "with -S: integers in decimal"},
                 {'a', "", "the ARP (IPv4 neighbour) cache"},
                 {'n', "", "the devices of the current context's (or the task's) namespace"},
                 {'N', "addr", "an IPv4 address number in dotted-quad notation"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"namespace", "devices", "arp", "tasks", "address"},
              .notes = "devices (net, -n): [{net_device, name, type (ARPHRD_*), hwaddr, addresses\n"
                       "[{address, prefix, label}], ipv6 [{address, prefix}]}] of the struct net\n"
                       "`namespace`. arp (-a):\n"
                       "[{neighbour, ip, hw_type, arphrd, hwaddr, device, net_device, state,\n"
                       "nud_state}]. tasks (-s, -S): [{pid, task, cpu, comm, sockets [{fd, socket,\n"
                       "sock, inode, ino, family, type, state (skc_state), then source,\n"
                       "source_port, destination, destination_port (INET, INET6) or path, peer,\n"
                       "peer_ino (UNIX); -S adds socket_struct and sock_struct, the struct\n"
                       "command's results}]}]. address: -N's answer. An item that could not be\n"
                       "read has \"error\".",
              .example = "net"}},
    run};

}  // namespace
}  // namespace kdive
