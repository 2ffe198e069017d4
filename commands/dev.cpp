// dev: the character and block device majors with the cdev/gendisk serving
// each, (-d/-D) the disks' requests in flight and I/O counters, (-i) the I/O
// port and I/O memory resource trees, (-p) the PCI buses and devices, (-V,
// -v) the device dumps in the vmcore, in crash's layout.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/centered.hpp"
#include "commands/device_dumps.hpp"
#include "commands/symbol_text.hpp"
#include "kernel-model/block_disks.hpp"
#include "kernel-model/devices.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/io_resources.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/pci_devices.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

Json hex_or_null(VirtAddr a) { return a.is_null() ? Json(nullptr) : Json(json_hex(a)); }

void print_break(const WalkBreak& b, Output& out) {
  out.print("(damaged: {})\n", b.describe());
  out.data_lost(b.describe());
}

// The breaks that sit just before entry i of a walk's entries.
void print_breaks_at(const std::vector<WalkBreak>& breaks, size_t i, Output& out) {
  for (const WalkBreak& b : breaks) {
    if (b.position == i) print_break(b, out);
  }
}

// ---- dev: the majors ----

Json majors(const Kernel& k, const DeviceTable& t, bool block, Output& out) {
  if (block) {
    out.print("BLKDEV    NAME           {}  {}\n", centered("GENDISK", 16, true), fmt::format("{:<16}", "OPERATIONS"));
  } else {
    out.print("CHRDEV    NAME           {}  {}\n", centered("CDEV", 16), fmt::format("{:<16}", "OPERATIONS"));
  }
  Json rows = Json::array();
  for (size_t i = 0; i <= t.majors.size(); ++i) {
    print_breaks_at(t.breaks, i, out);
    if (i == t.majors.size()) break;
    const DeviceMajor& d = t.majors[i];
    const std::string name = d.name.empty() && block ? "(unknown)" : d.name;
    std::string line = fmt::format(" {:3}      {:<13} ", d.major, name);
    if (d.ops.is_null()) {
      line += " " + centered("(none)", 16);
    } else {
      const std::string sym = symbol_text(k, d.ops);
      line += fmt::format(" {:16x}  {}", d.object.value(), sym.empty() ? fmt::format("{:x}", d.ops.value()) : sym);
    }
    out.print("{}\n", line);
    if (!d.error.empty()) {
      out.print("          (damaged: {})\n", d.error);
      out.data_lost(fmt::format("{} major {} {}", block ? "block" : "character", d.major, d.error));
    }
    Json row = {{"major", d.major},
                {"name", d.name},
                {block ? "blk_major_name" : "char_device_struct", json_hex(d.entry)},
                {block ? "gendisk" : "cdev", hex_or_null(d.object)},
                {"operations", hex_or_null(d.ops)},
                {"operations_symbol", symbol_text(k, d.ops)}};
    if (!block) {
      row["baseminor"] = d.baseminor;
      row["minorct"] = d.minorct;
    }
    if (!d.error.empty()) row["error"] = d.error;
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- -d / -D: disk I/O ----

// crash leaves out RAM disks and loop devices, which have no queue of
// their own to be stuck in.
bool skipped_disk(const std::string& name) { return name.starts_with("ram") || name.starts_with("loop"); }

Json disk_io(const Kernel& k, bool busy_only, Output& out) {
  DiskList list;
  try {
    list = read_disks(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("-d: {}", e.what()));
  }
  // BLK_RW_ASYNC/BLK_RW_SYNC named the two counts until 5.17 (commit
  // 01e99aeca397); crash heads them ASYNC/SYNC while the enum exists. Either
  // way the first count is of reads and the second of writes.
  const bool sync_names = k.types().enumerator("BLK_RW_SYNC").has_value();
  const Type* queue_type = k.types().lookup("struct request_queue");
  // request_queue.in_flight (the legacy request path's counter, gone in 5.0).
  const bool drv = queue_type != nullptr && queue_type->strip().member("in_flight").has_value();
  out.print("MAJOR {:<18} NAME       {:<18} TOTAL {:>5} {:>5} {}\n", "GENDISK", "REQUEST_QUEUE",
            sync_names ? "ASYNC" : "READ", sync_names ? "SYNC" : "WRITE", drv ? "  DRV" : "");
  Json rows = Json::array();
  for (size_t i = 0; i <= list.disks.size(); ++i) {
    print_breaks_at(list.breaks, i, out);
    if (i == list.disks.size()) break;
    const Disk& d = list.disks[i];
    if (skipped_disk(d.name)) continue;
    const bool counted = d.reads_in_flight.has_value();
    const uint32_t reads = d.reads_in_flight.value_or(0), writes = d.writes_in_flight.value_or(0);
    // -D keeps a disk whose count is unknown: it may be the busy one.
    if (busy_only && counted && reads + writes == 0) continue;
    std::string counts = counted ? fmt::format("{:5} {:>5} {:>5}", reads + writes, reads, writes)
                                 : fmt::format("{:>5} {:>5} {:>5}", "?", "?", "?");
    std::string line =
        fmt::format("{:>5} {:<16}   {:<10} {:<16}   {} ", d.major, fmt::format("{:x}", d.gendisk.value()), d.name,
                    fmt::format("{:x}", d.queue.value()), counts);
    if (drv) line += d.mq ? "N/A(MQ)" : "    ?";
    out.print("{}\n", line);
    if (!d.error.empty()) {
      out.print("      (damaged: {})\n", d.error);
      out.data_lost(fmt::format("disk {}: {}", d.name, d.error));
    }
    auto pair = [](const std::optional<std::array<uint64_t, 2>>& v) -> Json {
      if (!v) return nullptr;
      return {{"read", (*v)[0]}, {"write", (*v)[1]}};
    };
    Json row = {{"major", d.major},
                {"first_minor", d.first_minor},
                {"name", d.name},
                {"gendisk", json_hex(d.gendisk)},
                {"request_queue", hex_or_null(d.queue)},
                {"mq", d.mq},
                {"in_flight", counted ? Json{{"read", reads}, {"write", writes}} : Json(nullptr)},
                {"ios", pair(d.ios)},
                {"sectors", pair(d.sectors)},
                {"merges", pair(d.merges)}};
    if (!d.error.empty()) row["error"] = d.error;
    rows.push_back(std::move(row));
  }
  return rows;
}

// ---- -i: resources ----

Json resources(const Kernel& k, std::string_view root, Output& out) {
  const ResourceTree t = read_resources(k, root);
  // The range's digits: 4 for a 16-bit port space, 8 at least for the rest
  // (wider values print wider, as crash's %08lx does).
  const int digits = !t.resources.empty() && t.resources.front().end > 0xffff ? 8 : 4;
  out.print("{}  {}  NAME\n", centered("RESOURCE", 16), centered("RANGE", static_cast<size_t>(digits * 2 + 1)));
  // crash breaks a name that would pass column 80 at a blank and puts the
  // rest under the name's column.
  const size_t wrap = 16 + 2 + static_cast<size_t>(digits * 2 + 1) + 2;
  Json rows = Json::array();
  for (size_t i = 0; i <= t.resources.size(); ++i) {
    print_breaks_at(t.breaks, i, out);
    if (i == t.resources.size()) break;
    const Resource& r = t.resources[i];
    const std::string name = r.name_readable ? r.name : "(unknown)";
    std::string head = fmt::format("{:16x}  {:0{}x}-{:0{}x}", r.address.value(), r.start, digits, r.end, digits);
    std::string first = name, rest;
    if (wrap + name.size() > 80) {
      const size_t excess = wrap + name.size() - 80;
      for (size_t at = name.size() - 1; at > 0; --at) {
        if (name[at] == ' ' && name.size() - 1 - at >= excess) {
          first = name.substr(0, at);
          rest = name.substr(at + 1);
          break;
        }
      }
    }
    out.print("{}  {}\n", head, first);
    if (!rest.empty()) out.print("{}{}\n", std::string(wrap, ' '), rest);
    rows.push_back({{"resource", json_hex(r.address)},
                    {"start", json_hex(r.start)},
                    {"end", json_hex(r.end)},
                    {"name", r.name_readable ? Json(r.name) : Json(nullptr)},
                    {"depth", r.depth},
                    {"flags", json_hex(r.flags)}});
  }
  return rows;
}

// ---- -p: PCI ----

// The TYPE column: the PCIe port type of pcie_flags_reg (bits 4-7,
// PCI_EXP_TYPE_*) and " [BRIDGE]" for a bridge header. A conventional PCI
// device's flags are 0 and read as ENDPOINT, as crash shows them.
std::string pci_type(const PciDevice& d) {
  static const char* const kTypes[16] = {
      "ENDPOINT",    "LEG_END", "",      "", "ROOT_PORT", "UPSTREAM", "DOWNSTREAM", "PCI_BRIDGE",
      "PCIE_BRIDGE", "RC_END",  "RC_EC", "", "",          "",         "",           ""};
  std::string t = d.pcie_flags ? kTypes[(*d.pcie_flags >> 4) & 0xf] : "";
  if (d.hdr_type == 1 || d.hdr_type == 2) t += " [BRIDGE]";
  return t;
}

Json device_json(const PciDevice& d) {
  Json j = {{"pci_dev", json_hex(d.address)},
            {"name", d.name},
            {"class", fmt::format("{:04x}", d.class_code >> 8)},
            {"vendor", fmt::format("{:04x}", d.vendor)},
            {"device", fmt::format("{:04x}", d.device)},
            {"hdr_type", d.hdr_type},
            {"pcie", d.pcie_cap != 0},
            {"type", pci_type(d)}};
  if (!d.error.empty()) j["error"] = d.error;
  return j;
}

void print_device(const PciDevice& d, bool with_type, Output& out) {
  std::string line = fmt::format("  {:<16x} {} {} {}", d.address.value(), centered(d.name, 12),
                                 centered(fmt::format("{:04x}", d.class_code >> 8), 6),
                                 centered(fmt::format("{:x}:{:x}", d.vendor, d.device), 9));
  if (with_type) line += " " + centered(pci_type(d), 10);
  out.print("{}\n", line);
  if (!d.error.empty()) {
    out.print("  (damaged: {})\n", d.error);
    out.data_lost(fmt::format("PCI device {:x}: {}", d.address.value(), d.error));
  }
}

Json pci(const Kernel& k, Output& out) {
  PciTopology t;
  try {
    t = read_pci(k);
  } catch (const Error& e) {
    if (e.kind() != Error::Kind::Lookup) throw;
    throw NotInKernel(fmt::format("-p: {}", e.what()));
  }
  if (t.buses.empty() && t.breaks.empty()) throw CommandError("-p: no PCI devices found (pci_root_buses is empty)");
  const Type* pci_dev = k.types().lookup("struct pci_dev");
  const bool with_type = pci_dev != nullptr && pci_dev->strip().member("pcie_flags_reg").has_value();
  const std::string dev_header =
      fmt::format("  {} {} {} {}{}\n", centered("PCI DEV", 16), centered("DO:BU:SL.FN", 12), centered("CLASS", 6),
                  centered("PCI_ID", 9), with_type ? " " + centered("TYPE", 10) : "");
  Json rows = Json::array();
  // Each root bus closes with a blank line once its whole subtree is shown.
  auto close_root = [&](size_t i) {
    if (i > 0 && (i == t.buses.size() || t.buses[i].root)) out.print("\n");
  };
  for (size_t i = 0; i <= t.buses.size(); ++i) {
    close_root(i);
    print_breaks_at(t.breaks, i, out);
    if (i == t.buses.size()) break;
    const PciBus& bus = t.buses[i];
    if (bus.root) {
      out.print("{} {}\n", centered("ROOT BUS", 16), centered("BUSNAME", 7));
      out.print("{:<16x} {}\n", bus.address.value(), centered(bus.name, 7));
    } else {
      out.print("  {} {}\n", centered("PCI BUS", 16), centered("PARENT BUS", 16));
      out.print("  {:<16x} {:<16x}\n", bus.address.value(), bus.parent.value());
    }
    out.print("{}", dev_header);
    if (bus.self) print_device(*bus.self, with_type, out);
    for (size_t d = 0; d <= bus.devices.size(); ++d) {
      print_breaks_at(bus.breaks, d, out);
      if (d < bus.devices.size()) print_device(bus.devices[d], with_type, out);
    }
    if (!bus.error.empty()) {
      out.print("  (damaged: {})\n", bus.error);
      out.data_lost(fmt::format("PCI bus {:x}: {}", bus.address.value(), bus.error));
    }
    // A child bus's own listing ends with a blank line in crash's layout.
    if (!bus.root) out.print("\n");
    Json devices = Json::array();
    for (const PciDevice& d : bus.devices) devices.push_back(device_json(d));
    Json row = {{"pci_bus", json_hex(bus.address)},
                {"name", bus.name},
                {"root", bus.root},
                {"parent", hex_or_null(bus.parent)},
                {"bridge", bus.self ? device_json(*bus.self) : Json(nullptr)},
                {"devices", std::move(devices)}};
    if (!bus.error.empty()) row["error"] = bus.error;
    rows.push_back(std::move(row));
  }
  return rows;
}

size_t parse_index(const std::string& text) {
  std::optional<uint64_t> v = parse_number(text, 10);
  if (!v || *v > SIZE_MAX) throw CommandError(fmt::format("-v: invalid index: {}", text));
  return static_cast<size_t>(*v);
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  const std::optional<std::string> dump_index = args.value('v');
  // Only -v takes a word: the file to write the device dump to.
  const size_t words = dump_index ? 1 : 0;
  if (args.positional().size() > words) {
    throw CommandError(fmt::format("unexpected argument: '{}'", args.positional()[words]));
  }
  Json result = {{"chrdevs", Json::array()},      {"blkdevs", Json::array()}, {"disks", Json::array()},
                 {"ioports", Json::array()},      {"iomem", Json::array()},   {"pci_buses", Json::array()},
                 {"device_dumps", Json::array()}, {"device_dump", nullptr}};
  if (args.has('V')) {
    result["device_dumps"] = list_device_dumps(k.dump(), out);
  } else if (dump_index) {
    const std::string file = args.positional().empty() ? std::string() : args.positional()[0];
    result["device_dump"] = show_device_dump(k.dump(), parse_index(*dump_index), file, out);
  } else if (args.has('d') || args.has('D')) {
    result["disks"] = disk_io(k, args.has('D'), out);
  } else if (args.has('i')) {
    try {
      result["ioports"] = resources(k, "ioport_resource", out);
      out.print("\n");
      result["iomem"] = resources(k, "iomem_resource", out);
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::Lookup) throw;
      throw NotInKernel(fmt::format("-i: {}", e.what()));
    }
  } else if (args.has('p')) {
    result["pci_buses"] = pci(k, out);
  } else {
    try {
      result["chrdevs"] = majors(k, read_char_devices(k), false, out);
      out.print("\n");
      result["blkdevs"] = majors(k, read_block_devices(k), true, out);
    } catch (const Error& e) {
      if (e.kind() != Error::Kind::Lookup) throw;
      throw NotInKernel(e.what());
    }
  }
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "dev",
     .summary = "character and block devices, disk I/O, I/O ports, PCI devices",
     .usage = "dev [-d | -D | -i | -p | -V | -v INDEX [FILE]]",
     .description = "With no option, lists the character device majors (chrdevs[]) with the struct\n"
                    "cdev serving each and its file_operations, then the block device majors\n"
                    "(major_names[]) with a struct gendisk of that major and its\n"
                    "block_device_operations; (none) where no cdev or gendisk was found (a region\n"
                    "whose cdevs start past its first minor, a major with no disk).\n"
                    "\n"
                    "  -d  each disk (the block class's disks, RAM disks and loop devices left out):\n"
                    "      major, gendisk, name, request queue, and the requests in flight in its\n"
                    "      blk-mq tags, in total, reads and writes. The reads and writes columns are\n"
                    "      headed ASYNC and SYNC on kernels that have BLK_RW_SYNC (before 5.17), as\n"
                    "      crash heads them. A DRV column appears on kernels with the legacy\n"
                    "      request_queue.in_flight. The JSON adds the completed I/Os, sectors and\n"
                    "      merges of /proc/diskstats.\n"
                    "  -D  the same, only the disks with requests in flight.\n"
                    "  -i  the I/O port resource tree (ioport_resource), then the I/O memory tree\n"
                    "      (iomem_resource): each struct resource, its range and its name.\n"
                    "  -p  each PCI root bus and its devices, then each child bus behind its bridge:\n"
                    "      struct pci_dev, domain:bus:slot.function, class, vendor:device, and the\n"
                    "      PCIe port type.\n"
                    "  -V  the device dumps in the vmcore: snapshots of their hardware that drivers\n"
                    "      add in the capture kernel (NT_VMCOREDD notes, Linux 4.18): each one's\n"
                    "      index, the file offset of its data, its size and its name.\n"
                    "  -v INDEX [FILE]\n"
                    "      that device dump's data, as 64-bit words with their file offsets and\n"
                    "      ASCII, or written to FILE (never replacing a file that exists).\n"
                    "\n"
                    "A damaged chain, list or tree is marked where it broke; the rest is listed.",
     .examples = "  kdive> dev -d\n"
                 "  MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL ASYNC  SYNC\n"
                 "    254 ffff9f5e5cdef000   vda        ffff9f5e41e6f698       0     0     0\n"
                 "  kdive> dev -p\n"
                 "      ROOT BUS     BUSNAME\n"
                 "  ffff9f5e41365800 0000:00\n"
                 "        PCI DEV      DO:BU:SL.FN  CLASS   PCI_ID      TYPE\n"
                 "    ffff9f5e5da14000 0000:00:03.0  0100  1af4:1001  ENDPOINT\n"
                 "\n"
                 "Device dumps, which a capture kernel's drivers may add (the fixtures have\n"
                 "none):\n"
                 "\n"
                 "  kdive> dev -V\n"
                 "  dev: no device dumps found in this dumpfile\n"
                 "  kdive> dev -v 0 /tmp/nic.bin",
     .options = {{'d', "", "disk I/O: requests in flight per disk"},
                 {'D', "", "disk I/O of the disks with requests in flight only"},
                 {'i', "", "I/O port and I/O memory resources"},
                 {'p', "", "PCI buses and devices"},
                 {'V', "", "the device dumps in the vmcore"},
                 {'v', "INDEX", "that device dump's data (to FILE if given)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"chrdevs", "blkdevs", "disks", "ioports", "iomem", "pci_buses", "device_dumps", "device_dump"},
              .notes = "The option fills its keys, the others stay empty. chrdevs [{major, baseminor,\n"
                       "minorct, name, char_device_struct, cdev, operations, operations_symbol}];\n"
                       "blkdevs [{major, name, blk_major_name, gendisk, operations,\n"
                       "operations_symbol}]; -d/-D disks [{major, first_minor, name, gendisk,\n"
                       "request_queue, mq, in_flight {read, write}, ios, sectors, merges (each\n"
                       "{read, write}, summed over CPUs)}]; -i ioports and iomem [{resource, start,\n"
                       "end, name, depth, flags}]; -p pci_buses [{pci_bus, name, root, parent,\n"
                       "bridge, devices [{pci_dev, name, class, vendor, device, hdr_type, pcie,\n"
                       "type}]}]; -V device_dumps [{index, offset, size, name}]; -v device_dump\n"
                       "{index, offset, size, name, file (or null), data (hex, null when written to\n"
                       "a file)}. Addresses and ids are hex strings; error where part could not\n"
                       "be read.",
              .example = "dev"}},
    run};

}  // namespace
}  // namespace kdive
