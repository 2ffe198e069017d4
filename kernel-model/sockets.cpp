#include "kernel-model/sockets.hpp"

#include <fmt/format.h>

#include <array>
#include <span>

#include "kernel-model/errors.hpp"
#include "kernel-model/files.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/kernel_memory.hpp"
#include "kernel-model/net_devices.hpp"
#include "kernel-model/object_links.hpp"

namespace kdive {
namespace {

constexpr uint16_t kAfUnix = 1;
constexpr uint16_t kAfInet = 2;
constexpr uint16_t kAfInet6 = 10;

uint16_t from_be16(uint64_t v) { return static_cast<uint16_t>(((v & 0xff) << 8) | ((v >> 8) & 0xff)); }

// crash's IPv6 text: the eight groups in hex, not shortened.
std::string ipv6_text(const std::vector<std::byte>& b) {
  std::string s;
  for (size_t i = 0; i + 1 < b.size() && i < 16; i += 2) {
    if (i != 0) s += ':';
    s += fmt::format("{:x}", (static_cast<unsigned>(b[i]) << 8) | static_cast<unsigned>(b[i + 1]));
  }
  return s;
}

// The inode number of the socket whose struct sock is `sk` (sk->sk_socket is
// the struct socket inside a socket_alloc, next to its inode).
std::optional<uint64_t> sock_ino(const Kernel& k, VirtAddr sk) {
  Object sock = k.object(sk, "struct sock");
  if (sock["sk_socket"].is_null()) return std::nullopt;  // orphaned: closed by its owner
  Object alloc = container_of(k, sock["sk_socket"].pointer(), k.types().require("struct socket_alloc"), "socket");
  return alloc["vfs_inode"]["i_ino"].as_u64();
}

void read_inet(const Kernel& k, const Object& sock, SocketInfo& s) {
  Object common = sock["__sk_common"];
  s.dst_port = from_be16(common["skc_dport"].as_u64());
  // crash prints inet_sport, the port the socket is bound to in network order
  // (skc_num holds it in host order once bound; they agree for a bound socket).
  s.src_port = from_be16(k.object(sock.address(), "struct inet_sock")["inet_sport"].as_u64());
  if (s.family == kAfInet) {
    s.src = ipv4_text(static_cast<uint32_t>(common["skc_rcv_saddr"].as_u64()));
    s.dst = ipv4_text(static_cast<uint32_t>(common["skc_daddr"].as_u64()));
  } else if (common.has_member("skc_v6_rcv_saddr")) {
    s.src = ipv6_text(common["skc_v6_rcv_saddr"].bytes());
    s.dst = ipv6_text(common["skc_v6_daddr"].bytes());
  }
}

void read_unix(const Kernel& k, const Object& sock, SocketInfo& s) {
  Object u = k.object(sock.address(), "struct unix_sock");
  if (!u["addr"].is_null()) {
    Object addr = u["addr"].deref();
    // len counts sun_family (2 bytes) and the path; an abstract name starts
    // with a NUL, which `ss` and /proc/net/unix show as '@'.
    const uint64_t len = addr["len"].as_u64();
    const VirtAddr path_at = addr["name"].address() + 2;
    if (len > 2 && len <= 110) {
      std::string path(len - 2, '\0');
      k.memory().read(path_at, std::as_writable_bytes(std::span(path)));
      if (path[0] == '\0') {
        path[0] = '@';
      } else if (auto nul = path.find('\0'); nul != std::string::npos) {
        path.resize(nul);
      }
      s.unix_path = path;
    }
  }
  s.peer = u["peer"].pointer();
  if (!s.peer.is_null()) s.peer_ino = sock_ino(k, s.peer);
}

SocketInfo read_socket(const Kernel& k, const OpenFile& of) {
  SocketInfo s;
  s.fd = of.fd;
  s.file = of.file;
  s.inode = of.inode;
  try {
    s.ino = k.object(of.inode, "struct inode")["i_ino"].as_u64();
    Object alloc = container_of(k, of.inode, k.types().require("struct socket_alloc"), "vfs_inode");
    Object socket = alloc["socket"];
    s.socket = socket.address();
    s.type = static_cast<uint16_t>(socket["type"].as_u64());
    s.sock = socket["sk"].pointer();
    if (s.sock.is_null()) return s;
    Object sock = k.object(s.sock, "struct sock");
    s.family = static_cast<uint16_t>(sock["__sk_common"]["skc_family"].as_u64());
    s.state = static_cast<uint8_t>(sock["__sk_common"]["skc_state"].as_u64());
    // sk_type is what crash prints; socket.type says the same for a socket
    // made by socket(2).
    s.type = static_cast<uint16_t>(sock["sk_type"].as_u64());
    if (s.family == kAfInet || s.family == kAfInet6) {
      read_inet(k, sock, s);
    } else if (s.family == kAfUnix) {
      read_unix(k, sock, s);
    }
  } catch (const ModelError& e) {
    s.error = e.what();
  }
  return s;
}

}  // namespace

TaskSockets read_task_sockets(const Kernel& k, const Task& task) {
  TaskFiles files = read_task_files(k, task);
  TaskSockets t;
  t.fds_error = files.fds_error;
  for (const OpenFile& of : files.files) {
    if (of.type == "SOCK") {
      t.sockets.push_back(read_socket(k, of));
    } else if (of.type.empty() && !of.error.empty()) {
      t.unreadable_files.push_back(fmt::format("fd {}: {}", of.fd, of.error));
    }
  }
  return t;
}

std::string family_name(uint16_t family) {
  static const std::array<const char*, 25> kNames = {
      "UNSPEC", "UNIX",   "INET",   "AX25",   "IPX",     "APPLETALK",    "NETROM", "BRIDGE",        "ATMPVC",
      "X25",    "INET6",  "ROSE",   "DECnet", "NETBEUI", "SECURITY/KEY", nullptr,  "NETLINK/ROUTE", "PACKET",
      "ASH",    "ECONET", "ATMSVC", nullptr,  "SNA",     "IRDA",         "PPPOX"};
  if (family < kNames.size() && kNames[family] != nullptr) return kNames[family];
  return fmt::format("{}", family);
}

std::string socket_type_name(uint16_t type) {
  switch (type) {
    case 1:
      return "STREAM";
    case 2:
      return "DGRAM";
    case 3:
      return "RAW";
    case 4:
      return "RDM";
    case 5:
      return "SEQPACKET";
    case 10:
      return "PACKET";
    default:
      return fmt::format("{}", type);
  }
}

}  // namespace kdive
