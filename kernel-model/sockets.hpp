// The open sockets of a task, as crash's `net -s` and /proc/PID/fd show them:
// for each fd whose inode is a socket (S_IFSOCK), the struct socket around the
// inode (struct socket_alloc { socket; vfs_inode; }), its struct sock, the
// family and type, and by family:
//  * AF_INET / AF_INET6: the local and remote address and port (the sock's
//    __sk_common skc_rcv_saddr/skc_daddr or skc_v6_*, the remote port
//    skc_dport, and the local port inet_sock.inet_sport as crash prints it);
//  * AF_UNIX: the bound path (unix_sock.addr), the socket's inode number and
//    its peer's (unix_sock.peer -> sk_socket -> socket_alloc.vfs_inode), the
//    pair `ss -x` and /proc/PID/fd name it by.
// The fd table itself comes from read_task_files() (kernel-model/files.hpp);
// a socket that cannot be read carries `error`, and files whose type could
// not be read are counted, since any of them may have been a socket.
//
//   TaskSockets s = read_task_sockets(k, task);
//   for (const SocketInfo& so : s.sockets) so.fd, so.sock, family_name(so.family), so.src, so.src_port;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/tasks.hpp"

namespace kdive {

class Kernel;

struct SocketInfo {
  int fd = -1;
  VirtAddr file, inode;
  VirtAddr socket;      // struct socket
  VirtAddr sock;        // struct sock (socket.sk); null for a socket not yet set up
  uint64_t ino = 0;     // the socket's inode number: socket:[ino]
  uint16_t family = 0;  // AF_*
  uint16_t type = 0;    // SOCK_STREAM, SOCK_DGRAM, ...
  uint8_t state = 0;    // skc_state: TCP_* for TCP, SS_* like values otherwise
  // AF_INET and AF_INET6 (text addresses, host-order ports).
  std::string src, dst;
  uint16_t src_port = 0, dst_port = 0;
  // AF_UNIX.
  std::string unix_path;  // "" unbound, "@name" abstract
  VirtAddr peer;          // the peer's struct sock
  std::optional<uint64_t> peer_ino;
  std::string error;  // what could not be read of this socket
};

struct TaskSockets {
  std::vector<SocketInfo> sockets;  // in fd order
  // Open files whose inode could not be read (they may be sockets), and why
  // the fd table could not be read to its end ("" when it could).
  std::vector<std::string> unreadable_files;
  std::string fds_error;
};

// Throws only when the task_struct itself cannot be read.
TaskSockets read_task_sockets(const Kernel& k, const Task& task);

// "INET", "UNIX", "NETLINK/ROUTE", ... crash's family names; the number as
// text when unnamed.
std::string family_name(uint16_t family);
// "STREAM", "DGRAM", ... crash's type names; the number when unnamed.
std::string socket_type_name(uint16_t type);

}  // namespace kdive
