// The character and block device majors a kernel has registered, as crash's
// `dev` and /proc/devices show them: each char_device_struct of chrdevs[]
// with the struct cdev that serves it and its file_operations, and each
// blk_major_name of major_names[] with a gendisk of that major and its
// block_device_operations.
//
// Where the cdev comes from: register_chrdev() keeps it in
// char_device_struct.cdev; a region taken with register_chrdev_region() and
// served by cdev_add() has none there, and the cdev is found in cdev_map (a
// kobj_map: probes[major % 255] chains) as the probe that starts at the
// region's first device number.
//
// Where the gendisk comes from: up to 5.10 the kobj_map `bdev_map` (every
// add_disk registered its range there); it went in 5.11 (commit
// a160c6159d4a) and the disks are found through the block class
// (block_disks.hpp).
//
// Each chrdevs[] / major_names[] slot is a chain bounded and checked for
// loops; an entry that cannot be read ends its chain with a WalkBreak and the
// other slots are still read.
//
//   DeviceTable t = read_char_devices(k);
//   for (const DeviceMajor& d : t.majors) d.major, d.name, d.object, d.ops;
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct DeviceMajor {
  VirtAddr entry;  // struct char_device_struct / struct blk_major_name
  uint32_t major = 0;
  uint32_t baseminor = 0;  // character devices: the region's first minor
  uint32_t minorct = 0;    // character devices: how many minors
  std::string name;
  VirtAddr object;    // struct cdev / struct gendisk; null when none was found
  VirtAddr ops;       // cdev.ops / gendisk.fops; null when none was found
  std::string error;  // what could not be read of this entry's cdev/gendisk
};

struct DeviceTable {
  std::vector<DeviceMajor> majors;  // in chrdevs[] / major_names[] slot order, then chain order
  std::vector<WalkBreak> breaks;    // positions index `majors`
};

// chrdevs[]. Throws Error(Lookup) when the kernel has no chrdevs.
DeviceTable read_char_devices(const Kernel& k);

// major_names[] with each major's gendisk. Throws Error(Lookup) when the
// kernel has no major_names.
DeviceTable read_block_devices(const Kernel& k);

}  // namespace kdive
