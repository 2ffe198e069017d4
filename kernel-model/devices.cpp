#include "kernel-model/devices.hpp"

#include <fmt/format.h>

#include <set>
#include <utility>

#include "kernel-model/block_disks.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// CHRDEV_MAJOR_HASH_SIZE, BLKDEV_MAJOR_HASH_SIZE and kobj_map's probes[]:
// 255 slots indexed by major % 255 (fs/char_dev.c, block/genhd.c,
// drivers/base/map.c).
constexpr uint32_t kMajorSlots = 255;
// A slot chains the majors that share it (major, major + 255, ...) and the
// regions of each; more than this is a loop the seen-set missed.
constexpr size_t kMaxChain = 4096;

// dev_t inside the kernel: 12 bits of major above 20 bits of minor
// (include/linux/kdev_t.h MINORBITS).
constexpr uint32_t kMinorBits = 20;
constexpr uint32_t major_of(uint32_t dev) { return dev >> kMinorBits; }
constexpr uint32_t minor_of(uint32_t dev) { return dev & ((1u << kMinorBits) - 1); }

struct Probe {
  uint32_t dev;
  VirtAddr data;
};

// The chain of kobj_map `map_symbol` (a struct kobj_map *) for `major`,
// every probe's first device number and data. The chain ends at the base
// probe kobj_map_init() puts in every slot (its next is NULL). A probe that
// cannot be read, or a chain that loops, throws: the entry being looked up
// then says so instead of showing no cdev/gendisk as if there were none.
std::vector<Probe> probes_of(const Kernel& k, std::string_view map_symbol, uint32_t major) {
  std::vector<Probe> out;
  if (k.find_symbol(map_symbol) == nullptr) return out;
  Object map = k.object(map_symbol);
  if (map.is_null()) return out;
  VirtAddr p = map["probes"].at(major % kMajorSlots).pointer();
  std::set<uint64_t> seen;
  while (!p.is_null()) {
    if (!seen.insert(p.value()).second || seen.size() > kMaxChain) {
      throw Error(Error::Kind::BadData,
                  fmt::format("{} probes[{}] loop at {:x}", map_symbol, major % kMajorSlots, p.value()));
    }
    Object probe = k.object(p, "struct probe");
    out.push_back({static_cast<uint32_t>(probe["dev"].as_u64()), probe["data"].pointer()});
    p = probe["next"].pointer();
  }
  return out;
}

// What a chrdevs[] entry (struct char_device_struct) and a major_names[]
// entry (struct blk_major_name) both hold: the major, its name, and the next
// entry of the slot's chain.
std::pair<DeviceMajor, VirtAddr> read_major_entry(const Object& entry) {
  DeviceMajor d;
  d.entry = entry.address();
  d.major = static_cast<uint32_t>(entry["major"].as_u64());
  d.name = entry["name"].string(64);
  return {std::move(d), entry["next"].pointer()};
}

// A major_names[] / chrdevs[] slot's chain, each entry read by `read`.
template <class Read>
void walk_slots(const Kernel& k, std::string_view symbol, Read read, DeviceTable& t) {
  Object array = k.object(symbol);
  const uint64_t slots = array.type().strip().count().value_or(kMajorSlots);
  for (uint64_t i = 0; i < slots; ++i) {
    VirtAddr at;
    try {
      at = array.at(i).pointer();
    } catch (const ModelError& e) {
      t.breaks.push_back({t.majors.size(), VirtAddr{array.address().value() + i * 8},
                          fmt::format("{}[{}] unreadable: {}", symbol, i, e.what())});
      continue;
    }
    std::set<uint64_t> seen;
    while (!at.is_null()) {
      if (!seen.insert(at.value()).second || seen.size() > kMaxChain) {
        t.breaks.push_back({t.majors.size(), at, fmt::format("{}[{}] chain loops back here", symbol, i)});
        break;
      }
      try {
        at = read(at, t);
      } catch (const ModelError& e) {
        t.breaks.push_back({t.majors.size(), at, fmt::format("{}[{}] entry unreadable: {}", symbol, i, e.what())});
        break;
      }
    }
  }
}

}  // namespace

DeviceTable read_char_devices(const Kernel& k) {
  if (k.find_symbol("chrdevs") == nullptr) throw Error(Error::Kind::Lookup, "no chrdevs[] in this kernel");
  DeviceTable t;
  walk_slots(
      k, "chrdevs",
      [&](VirtAddr at, DeviceTable& table) {
        Object cd = k.object(at, "struct char_device_struct");
        auto [d, next] = read_major_entry(cd);
        d.baseminor = static_cast<uint32_t>(cd["baseminor"].as_u64());
        d.minorct = static_cast<uint32_t>(cd["minorct"].as_u64());
        try {
          if (cd.has_member("cdev") && !cd["cdev"].is_null()) {
            d.object = cd["cdev"].pointer();
            d.ops = k.object(d.object, "struct cdev")["ops"].pointer();
          }
          if (d.ops.is_null()) {
            // The cdev_add()ed cdev that starts at this region's first device.
            for (const Probe& p : probes_of(k, "cdev_map", d.major)) {
              if (major_of(p.dev) != d.major || minor_of(p.dev) != d.baseminor || p.data.is_null()) continue;
              d.object = p.data;
              d.ops = k.object(p.data, "struct cdev")["ops"].pointer();
              break;
            }
          }
        } catch (const ModelError& e) {
          d.error = e.what();
        }
        table.majors.push_back(std::move(d));
        return next;
      },
      t);
  return t;
}

DeviceTable read_block_devices(const Kernel& k) {
  if (k.find_symbol("major_names") == nullptr) throw Error(Error::Kind::Lookup, "no major_names[] in this kernel");
  // From 5.11 the gendisks come from the block class, read once.
  std::optional<DiskList> disks;
  const bool bdev_map = k.find_symbol("bdev_map") != nullptr;
  DeviceTable t;
  walk_slots(
      k, "major_names",
      [&](VirtAddr at, DeviceTable& table) {
        auto [d, next] = read_major_entry(k.object(at, "struct blk_major_name"));
        try {
          if (bdev_map) {
            // add_disk() registered the disk's range here (blk_register_region).
            for (const Probe& p : probes_of(k, "bdev_map", d.major)) {
              if (major_of(p.dev) != d.major || p.data.is_null()) continue;
              const VirtAddr fops = k.object(p.data, "struct gendisk")["fops"].pointer();
              if (fops.is_null()) continue;
              d.object = p.data;
              d.ops = fops;
              break;
            }
          } else {
            if (!disks) disks = read_disks(k);
            for (const Disk& disk : disks->disks) {
              if (disk.major != d.major || disk.fops.is_null()) continue;
              d.object = disk.gendisk;
              d.ops = disk.fops;
              break;
            }
            // A disk of this major may sit behind a break in the class's list.
            if (d.object.is_null() && !disks->breaks.empty()) {
              d.error = fmt::format("no gendisk found, but the block class's device list is damaged ({})",
                                    disks->breaks.front().describe());
            }
          }
        } catch (const ModelError& e) {
          d.error = e.what();
        }
        table.majors.push_back(std::move(d));
        return next;
      },
      t);
  return t;
}

}  // namespace kdive
