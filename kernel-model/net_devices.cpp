#include "kernel-model/net_devices.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/object_links.hpp"

namespace kdive {
namespace {

// An interface carries a handful of addresses; thousands means a loop the
// seen-set missed or garbage.
constexpr size_t kMaxAddresses = 4096;

void read_ipv4(const Kernel& k, const Object& dev, NetDevice& d) {
  if (!dev.has_member("ip_ptr") || dev["ip_ptr"].is_null()) return;  // no IPv4 configured
  Object in_dev = dev["ip_ptr"].deref();
  std::set<uint64_t> seen;
  VirtAddr a = in_dev["ifa_list"].pointer();
  while (!a.is_null()) {
    if (!seen.insert(a.value()).second || seen.size() > kMaxAddresses) {
      d.error = fmt::format("ifa_list loops at {:x}", a.value());
      return;
    }
    Object ifa = k.object(a, "struct in_ifaddr");
    Ipv4Address ip;
    ip.ifaddr = a;
    ip.text = ipv4_text(static_cast<uint32_t>(ifa["ifa_address"].as_u64()));
    ip.prefix = static_cast<int>(ifa["ifa_prefixlen"].as_u64());
    ip.label = ifa["ifa_label"].string(16);
    d.ipv4.push_back(std::move(ip));
    a = ifa["ifa_next"].pointer();
  }
}

void read_ipv6(const Kernel& k, const Object& dev, NetDevice& d) {
  // ip6_ptr exists only with CONFIG_IPV6; a kernel built with IPv6 as a module
  // has no struct inet6_ifaddr in the vmlinux's types.
  if (!dev.has_member("ip6_ptr") || dev["ip6_ptr"].is_null()) return;
  const Type* ifaddr = k.types().lookup("struct inet6_ifaddr");
  if (ifaddr == nullptr) return;
  Walked<Object> w = walk_list_objects(k, dev["ip6_ptr"].deref()["addr_list"], *ifaddr, "if_list");
  for (const Object& a : w.entries) {
    std::vector<std::byte> raw = a["addr"].bytes();
    char text[INET6_ADDRSTRLEN] = {};
    if (raw.size() != 16 || inet_ntop(AF_INET6, raw.data(), text, sizeof text) == nullptr) continue;
    d.ipv6.push_back({a.address(), text, static_cast<int>(a["prefix_len"].as_u64())});
  }
  if (!w.breaks.empty()) {
    if (!d.error.empty()) d.error += "; ";
    d.error += "IPv6 addr_list: " + w.breaks.front().describe();
  }
}

NetDevice read_device(const Kernel& k, const Object& dev) {
  NetDevice d;
  d.dev = dev.address();
  try {
    d.name = dev["name"].string(16);
    d.type = static_cast<uint16_t>(dev["type"].as_u64());
    const uint64_t len = dev["addr_len"].as_u64();
    // dev_addr points at the address (dev_addr_list's first entry); only
    // addr_len of its bytes are the address.
    if (len > 0 && len <= 32 && !dev["dev_addr"].is_null()) {
      std::vector<std::byte> raw(len);
      k.memory().read(dev["dev_addr"].pointer(), raw);
      for (std::byte b : raw) d.hwaddr.push_back(static_cast<uint8_t>(b));
    }
    read_ipv4(k, dev, d);
    read_ipv6(k, dev, d);
  } catch (const ModelError& e) {
    if (!d.error.empty()) d.error += "; ";
    d.error += e.what();
  }
  return d;
}

}  // namespace

std::string ipv4_text(uint32_t in_memory) {
  return fmt::format("{}.{}.{}.{}", in_memory & 0xff, (in_memory >> 8) & 0xff, (in_memory >> 16) & 0xff,
                     (in_memory >> 24) & 0xff);
}

std::string hwaddr_text(const std::vector<uint8_t>& bytes, char separator) {
  std::string s;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) s += separator;
    s += fmt::format("{:02x}", bytes[i]);
  }
  return s;
}

VirtAddr init_net_address(const Kernel& k) {
  if (k.find_symbol("init_net") == nullptr) {
    throw Error(Error::Kind::Lookup, "this kernel has no init_net (built without networking?)");
  }
  return k.symbol_address("init_net");
}

VirtAddr task_net_namespace(const Kernel& k, VirtAddr task) {
  Object t = k.object(task, "struct task_struct");
  if (t["nsproxy"].is_null()) {
    throw Error(Error::Kind::BadData, fmt::format("task {:x} has no nsproxy (it is exiting)", task.value()));
  }
  return t["nsproxy"]["net_ns"].pointer();
}

NetDeviceList read_net_devices(const Kernel& k, VirtAddr net) {
  NetDeviceList l;
  l.net = net;
  Object ns = k.object(net, "struct net");
  const Type& dev_type = k.types().require("struct net_device");
  Walked<Object> w = walk_list_objects(k, ns["dev_base_head"], dev_type, "dev_list");
  for (const Object& dev : w.entries) l.devices.push_back(read_device(k, dev));
  l.breaks = std::move(w.breaks);
  return l;
}

}  // namespace kdive
