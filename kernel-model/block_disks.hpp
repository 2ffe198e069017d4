// The disks (struct gendisk) of a kernel with their request queues, their
// I/O counters and the requests they have in flight, for crash's `dev -d`
// and /proc/diskstats.
//
// The disks are the devices of the block class whose type is disk_type
// (partitions are part_type), found in the class's klist of devices:
//  * the class's subsys_private is block_class.p up to 6.3; from 6.4
//    (commit 2df418cf4b72) it is found in class_kset by its `class` pointer;
//  * a device is device_private.device behind each live klist node;
//  * the gendisk holding the device: up to 5.10 the device is
//    gendisk.part0.__dev (struct hd_struct); from 5.11 (commit 0d02129e76ed)
//    it is block_device.bd_device and the gendisk is bd_disk.
// The counters are the per-CPU struct disk_stats of part0 (hd_struct.dkstats
// up to 5.10, block_device.bd_stats from 5.11), summed over possible CPUs as
// /proc/diskstats sums them.
//
// Requests in flight: a blk-mq queue (every disk since 5.0) keeps them as
// the set bits of its hardware contexts' tag bitmaps (sbitmap), each tag
// naming a struct request in tags->rqs[]; one is in flight when its queue is
// this disk's and its state is MQ_RQ_IN_FLIGHT, as the kernel's
// blk_mq_in_flight() counts. The hardware contexts are queue_hw_ctx[] up to
// 5.19 and the XArray hctx_table from 6.0 (commit 4e5cc99e1e48).
//
//   DiskList disks = read_disks(k);
//   for (const Disk& d : disks.disks) d.name, d.reads_in_flight, d.ios[0];
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct Disk {
  VirtAddr gendisk;
  uint32_t major = 0;
  uint32_t first_minor = 0;
  std::string name;  // gendisk.disk_name ("vda")
  VirtAddr queue;    // gendisk.queue
  VirtAddr fops;     // gendisk.fops
  bool mq = false;   // the queue is blk-mq (request_queue.mq_ops set)
  // Requests in flight, by direction; unset when they could not be counted.
  std::optional<uint32_t> reads_in_flight, writes_in_flight;
  // Completed I/Os, sectors and merges of part0, [0] read [1] write, summed
  // over CPUs; unset when the per-CPU counters could not be read.
  std::optional<std::array<uint64_t, 2>> ios, sectors, merges;
  std::string error;  // what could not be read of this disk
};

struct DiskList {
  std::vector<Disk> disks;        // in the block class's device order
  std::vector<WalkBreak> breaks;  // positions index `disks`
};

// Every disk of the block class. Throws Error(Lookup) when the kernel has no
// block class (naming what is missing).
DiskList read_disks(const Kernel& k);

}  // namespace kdive
