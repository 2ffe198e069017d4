// The PCI devices a kernel enumerated, bus by bus, as crash's `dev -p`
// shows them: each root bus of pci_root_buses with its devices
// (pci_bus.devices, linked through pci_dev.bus_list), then each child bus
// (pci_bus.children) under the bridge that leads to it, depth first.
//
// Every list is walked with walk_list (bounded, cycle-safe, a damaged link
// recovered backwards); the places a walk stopped are WalkBreaks, and a
// device that cannot be read carries `error`.
//
//   PciTopology t = read_pci(k);
//   for (const PciBus& b : t.buses) for (const PciDevice& d : b.devices) d.name, d.vendor;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct PciDevice {
  VirtAddr address;         // struct pci_dev
  std::string name;         // dev_name(): "0000:00:03.0"
  uint32_t class_code = 0;  // pci_dev.class: base class, sub class, prog-if (24 bits)
  uint16_t vendor = 0, device = 0;
  uint8_t hdr_type = 0;  // PCI_HEADER_TYPE_*: 1 a PCI-PCI bridge, 2 a CardBus bridge
  uint8_t pcie_cap = 0;  // the PCIe capability's offset; 0 for a conventional PCI device
  // pcie_flags_reg (PCI_EXP_FLAGS, 3.4+): bits 4-7 the PCIe port type.
  std::optional<uint16_t> pcie_flags;
  std::string error;
};

struct PciBus {
  VirtAddr address;  // struct pci_bus
  VirtAddr parent;   // struct pci_bus; null for a root bus
  bool root = false;
  std::string name;                // dev_name(&bus->dev): "0000:00"
  std::optional<PciDevice> self;   // the bridge leading to this bus (child buses)
  std::vector<PciDevice> devices;  // in the bus's list order
  std::vector<WalkBreak> breaks;   // positions index `devices`
  std::string error;
};

struct PciTopology {
  std::vector<PciBus> buses;      // each root bus, then its child buses depth first
  std::vector<WalkBreak> breaks;  // lost buses; positions index `buses`
};

// Throws Error(Lookup) when the kernel has no pci_root_buses.
PciTopology read_pci(const Kernel& k);

}  // namespace kdive
