#include "kernel-model/pci_devices.hpp"

#include <fmt/format.h>

#include <set>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// PCI allows 256 buses per domain; a deeper bridge chain is a loop.
constexpr int kMaxBusDepth = 256;

uint64_t offset_of(const Kernel& k, std::string_view type, std::string_view member) {
  const Type* t = k.types().lookup(type);
  if (t == nullptr) throw Error(Error::Kind::Lookup, fmt::format("no {} in this kernel's types", type));
  return t->strip().require_member(member).offset;
}

// dev_name(): the device's init_name until registration, its kobject's name after.
std::string device_name(Object dev) {
  if (!dev["kobj"]["name"].is_null()) return dev["kobj"]["name"].string(64);
  if (dev.has_member("init_name") && !dev["init_name"].is_null()) return dev["init_name"].string(64);
  return "";
}

PciDevice read_device(const Kernel& k, VirtAddr at) {
  PciDevice d;
  d.address = at;
  try {
    Object p = k.object(at, "struct pci_dev");
    d.class_code = static_cast<uint32_t>(p["class"].as_u64());
    d.vendor = static_cast<uint16_t>(p["vendor"].as_u64());
    d.device = static_cast<uint16_t>(p["device"].as_u64());
    d.hdr_type = static_cast<uint8_t>(p["hdr_type"].as_u64());
    d.pcie_cap = static_cast<uint8_t>(p["pcie_cap"].as_u64());
    if (p.has_member("pcie_flags_reg")) d.pcie_flags = static_cast<uint16_t>(p["pcie_flags_reg"].as_u64());
    d.name = device_name(p["dev"]);
  } catch (const ModelError& e) {
    d.error = e.what();
  }
  return d;
}

struct Walk {
  const Kernel& k;
  PciTopology& t;
  std::set<uint64_t> seen;
  uint64_t devices_offset, bus_list_offset, children_offset, node_offset;
};

void add_bus(Walk& w, VirtAddr at, bool root, int depth) {
  if (!w.seen.insert(at.value()).second || depth > kMaxBusDepth) {
    w.t.breaks.push_back({w.t.buses.size(), at, "PCI bus reached twice: the bus links loop"});
    return;
  }
  PciBus bus;
  bus.address = at;
  bus.root = root;
  std::vector<VirtAddr> children;
  try {
    Object b = w.k.object(at, "struct pci_bus");
    bus.parent = b["parent"].pointer();
    bus.name = device_name(b["dev"]);
    if (!b["self"].is_null()) bus.self = read_device(w.k, b["self"].pointer());
    Walked<VirtAddr> devs = walk_list(w.k.memory(), VirtAddr{at.value() + w.devices_offset}, w.bus_list_offset);
    for (VirtAddr d : devs.entries) bus.devices.push_back(read_device(w.k, d));
    bus.breaks = std::move(devs.breaks);
    Walked<VirtAddr> kids = walk_list(w.k.memory(), VirtAddr{at.value() + w.children_offset}, w.node_offset);
    children = std::move(kids.entries);
    for (const WalkBreak& b : kids.breaks) {
      bus.breaks.push_back({bus.devices.size(), b.at, fmt::format("child buses: {}", b.reason)});
    }
  } catch (const ModelError& e) {
    bus.error = e.what();
  }
  w.t.buses.push_back(std::move(bus));
  for (VirtAddr child : children) add_bus(w, child, false, depth + 1);
}

}  // namespace

PciTopology read_pci(const Kernel& k) {
  if (k.find_symbol("pci_root_buses") == nullptr) throw Error(Error::Kind::Lookup, "no pci_root_buses in this kernel");
  PciTopology t;
  Walk w{k,
         t,
         {},
         offset_of(k, "struct pci_bus", "devices"),
         offset_of(k, "struct pci_dev", "bus_list"),
         offset_of(k, "struct pci_bus", "children"),
         offset_of(k, "struct pci_bus", "node")};
  Walked<VirtAddr> roots = walk_list(k.memory(), k.symbol_address("pci_root_buses"), w.node_offset);
  for (size_t i = 0; i <= roots.entries.size(); ++i) {
    for (const WalkBreak* b : roots.breaks_at(i)) {
      t.breaks.push_back({t.buses.size(), b->at, fmt::format("pci_root_buses: {}", b->reason)});
    }
    if (i < roots.entries.size()) add_bus(w, roots.entries[i], true, 0);
  }
  return t;
}

}  // namespace kdive
