// The network devices of a network namespace and their IPv4 addresses, as
// crash's `net` and `ip -4 addr` show them: each struct net_device on the
// namespace's dev_base_head list (linked through net_device.dev_list), its
// name, link type (ARPHRD_*), hardware address, the struct in_ifaddr chain
// of its in_device (net_device.ip_ptr->ifa_list, linked through ifa_next) and
// the IPv6 addresses of its inet6_dev (ip6_ptr->addr_list through
// inet6_ifaddr.if_list).
//
// The list walk is bounded and cycle-safe: a broken link is a WalkBreak (the
// devices behind it are reached backwards from the head); a device that
// cannot be read, or whose address chain loops, carries `error` and the list
// goes on.
//
//   NetDeviceList l = read_net_devices(k, init_net_address(k));
//   for (const NetDevice& d : l.devices) d.name, d.ipv4[0].text, d.ipv4[0].prefix;
//   VirtAddr ns = task_net_namespace(k, task.address);   // nsproxy->net_ns
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct Ipv4Address {
  VirtAddr ifaddr;    // struct in_ifaddr
  std::string text;   // "10.77.0.1"
  int prefix = 0;     // ifa_prefixlen
  std::string label;  // ifa_label ("kdive0", "eth0:1")
};

struct Ipv6Address {
  VirtAddr ifaddr;   // struct inet6_ifaddr
  std::string text;  // "::1", "fe80::b:b1ff:fe38:2e82" (inet_ntop's form)
  int prefix = 0;    // prefix_len
};

struct NetDevice {
  VirtAddr dev;  // struct net_device
  std::string name;
  uint16_t type = 0;              // ARPHRD_*: 1 Ethernet, 772 loopback
  std::vector<uint8_t> hwaddr;    // dev_addr, addr_len bytes
  std::vector<Ipv4Address> ipv4;  // in ifa_list order (the primary address first)
  std::vector<Ipv6Address> ipv6;  // inet6_dev.addr_list, in list order
  std::string error;              // what could not be read of this device
};

struct NetDeviceList {
  VirtAddr net;  // struct net
  std::vector<NetDevice> devices;
  std::vector<WalkBreak> breaks;  // positions index `devices`
};

// The address of init_net; Error(Lookup) when the kernel has none.
VirtAddr init_net_address(const Kernel& k);
// A task's network namespace (task->nsproxy->net_ns). Throws Error(BadData)
// for a task without nsproxy (one that is exiting) and Fault when unreadable.
VirtAddr task_net_namespace(const Kernel& k, VirtAddr task);
// The devices of the namespace `net`. Throws only when `net` itself cannot be
// read.
NetDeviceList read_net_devices(const Kernel& k, VirtAddr net);

// Dotted-quad text of an IPv4 address as the kernel stores it (__be32: the
// first byte in memory is the first number).
std::string ipv4_text(uint32_t in_memory);
// Colon-separated hex bytes ("02:00:00:00:77:02").
std::string hwaddr_text(const std::vector<uint8_t>& bytes, char separator = ':');

}  // namespace kdive
