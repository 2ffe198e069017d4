#include "kernel-model/block_disks.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/sbitmap.hpp"
#include "kernel-model/task_sources.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

// A queue has one hardware context per CPU at most (and a few more for poll
// queues); a tag bitmap is at most BLK_MQ_MAX_DEPTH (10240) tags.
constexpr size_t kMaxHctx = 4096;
constexpr uint32_t kMaxTags = 10240;
// enum mq_rq_state (include/linux/blk-mq.h): MQ_RQ_IDLE 0, MQ_RQ_IN_FLIGHT 1.
constexpr uint64_t kMqRqInFlight = 1;
// REQ_OP_* occupy the low bits of cmd_flags; odd ops write (op_is_write()).
constexpr uint64_t kReqOpMask = 0xff;

uint64_t offset_of(const Kernel& k, std::string_view type, std::string_view member) {
  const Type* t = k.types().lookup(type);
  if (t == nullptr) throw Error(Error::Kind::Lookup, fmt::format("no {} in this kernel's types", type));
  return t->strip().require_member(member).offset;
}

// The block class's struct subsys_private.
VirtAddr block_subsys_private(const Kernel& k) {
  Object cls = k.object("block_class");
  if (cls.has_member("p")) return cls["p"].pointer();
  // 6.4+: the class no longer points at it; class_kset lists every class's
  // subsys_private (its subsys.kobj on the kset's list), each naming its class.
  if (k.find_symbol("class_kset") == nullptr) throw Error(Error::Kind::Lookup, "no block_class.p and no class_kset");
  const VirtAddr kset = k.object("class_kset").pointer();
  const uint64_t list = offset_of(k, "struct kset", "list");
  const uint64_t entry = offset_of(k, "struct kobject", "entry");
  const uint64_t kobj = offset_of(k, "struct subsys_private", "subsys.kobj");
  Walked<VirtAddr> w = walk_list(k.memory(), VirtAddr{kset.value() + list}, entry);
  for (VirtAddr o : w.entries) {
    const VirtAddr sp{o.value() - kobj};
    if (k.object(sp, "struct subsys_private")["class"].pointer() == cls.address()) return sp;
  }
  throw Error(Error::Kind::BadData, "the block class's subsys_private is not on class_kset's list");
}

// The gendisk that holds device `dev`.
VirtAddr gendisk_of(const Kernel& k, VirtAddr dev) {
  const Type* gendisk = k.types().lookup("struct gendisk");
  const Type& part0 = gendisk->strip().require_member("part0").type->strip();
  if (part0.is_struct_like()) {
    // Up to 5.10: gendisk.part0 is a struct hd_struct whose __dev is the device.
    const uint64_t off = gendisk->strip().require_member("part0").offset + part0.require_member("__dev").offset;
    return VirtAddr{dev.value() - off};
  }
  const uint64_t bd_device = offset_of(k, "struct block_device", "bd_device");
  return k.object(VirtAddr{dev.value() - bd_device}, "struct block_device")["bd_disk"].pointer();
}

// The per-CPU struct disk_stats of part0, summed.
void read_stats(const Kernel& k, Object disk, Disk& d) {
  Object part0 = disk["part0"];
  VirtAddr percpu = part0.has_member("dkstats") ? part0["dkstats"].pointer() : part0["bd_stats"].pointer();
  const Type* stats = k.types().lookup("struct disk_stats");
  if (stats == nullptr) throw Error(Error::Kind::Lookup, "no struct disk_stats in this kernel's types");
  std::array<uint64_t, 2> ios{}, sectors{}, merges{};
  const int cpus = possible_cpus(k);
  for (int cpu = 0; cpu < cpus; ++cpu) {
    Object s(k, VirtAddr{percpu.value() + k.per_cpu_offset(cpu)}, stats);
    for (size_t dir = 0; dir < 2; ++dir) {
      ios[dir] += s["ios"].at(dir).as_u64();
      sectors[dir] += s["sectors"].at(dir).as_u64();
      merges[dir] += s["merges"].at(dir).as_u64();
    }
  }
  d.ios = ios;
  d.sectors = sectors;
  d.merges = merges;
}

// The hardware contexts of a blk-mq queue.
std::vector<VirtAddr> hw_contexts(const Kernel& k, Object q) {
  std::vector<VirtAddr> out;
  if (q.has_member("hctx_table")) {
    Walked<XarrayEntry> w = walk_xarray_entries(k, q["hctx_table"].address(), kMaxHctx);
    if (!w.complete()) throw_walk_break(w.breaks.front(), "hctx_table", q.address());
    for (const XarrayEntry& e : w.entries) out.push_back(VirtAddr{e.value});
    return out;
  }
  const uint64_t n = q["nr_hw_queues"].as_u64();
  if (n > kMaxHctx) throw Error(Error::Kind::BadData, fmt::format("nr_hw_queues {} is not a count", n));
  const VirtAddr array = q["queue_hw_ctx"].pointer();
  for (uint64_t i = 0; i < n; ++i) out.push_back(k.memory().read_pointer(VirtAddr{array.value() + i * 8}));
  return out;
}

// Counts the in-flight requests of queue `q` among the tags of one bitmap
// (a struct sbitmap_queue); tag numbers of the normal bitmap come after the
// reserved ones.
void count_bitmap(const Kernel& k, Object sbq, VirtAddr rqs, uint32_t first_tag, VirtAddr q, uint32_t counts[2]) {
  const SbitmapQueue bitmap = read_sbitmap_queue(k, sbq.address());
  // A bitmap whose words were not all read, or whose depth is not a tag
  // count, is not counted: its in-flight number would be a guess. (Its
  // per-CPU hints and wait queues do not matter here.)
  if (bitmap.depth > kMaxTags) {
    throw Error(Error::Kind::BadData, fmt::format("sbitmap at {:x}: depth {}", sbq.address().value(), bitmap.depth));
  }
  const bool words_read =
      bitmap.words.size() == bitmap.map_nr &&
      std::none_of(bitmap.words.begin(), bitmap.words.end(), [](const SbitmapWord& w) { return !w.error.empty(); });
  if (!words_read) throw Error(Error::Kind::BadData, bitmap.problems.front());
  for (uint32_t tag : bitmap.busy_bits()) {
    // A map_nr larger than depth needs would give bits past the last tag.
    if (tag >= bitmap.depth) break;
    const VirtAddr rq = k.memory().read_pointer(VirtAddr{rqs.value() + uint64_t{first_tag + tag} * 8});
    if (rq.is_null()) continue;
    Object r = k.object(rq, "struct request");
    if (r["q"].pointer() != q || r["state"].as_u64() != kMqRqInFlight) continue;
    ++counts[(r["cmd_flags"].as_u64() & kReqOpMask) & 1];
  }
}

void count_in_flight(const Kernel& k, Object q, Disk& d) {
  uint32_t counts[2] = {0, 0};
  std::vector<uint64_t> tags_seen;
  // A tag set shared by all hardware contexts (BLK_MQ_F_TAG_HCTX_SHARED,
  // 5.10+) is walked once.
  for (VirtAddr hctx : hw_contexts(k, q)) {
    const VirtAddr tags = k.object(hctx, "struct blk_mq_hw_ctx")["tags"].pointer();
    if (tags.is_null() || std::find(tags_seen.begin(), tags_seen.end(), tags.value()) != tags_seen.end()) continue;
    tags_seen.push_back(tags.value());
    Object t = k.object(tags, "struct blk_mq_tags");
    const uint32_t reserved = static_cast<uint32_t>(t["nr_reserved_tags"].as_u64());
    const VirtAddr rqs = t["rqs"].pointer();
    // The bitmaps are pointers in 5.10-5.15 (into __bitmap_tags or the set's
    // shared ones) and embedded before and after.
    auto bitmap = [&](std::string_view name) {
      Object b = t[name];
      return b.type().strip().kind() == TypeKind::Pointer ? b.deref() : b;
    };
    if (reserved != 0) count_bitmap(k, bitmap("breserved_tags"), rqs, 0, q.address(), counts);
    count_bitmap(k, bitmap("bitmap_tags"), rqs, reserved, q.address(), counts);
  }
  d.reads_in_flight = counts[0];
  d.writes_in_flight = counts[1];
}

Disk read_disk(const Kernel& k, VirtAddr gendisk) {
  Disk d;
  d.gendisk = gendisk;
  try {
    Object g = k.object(gendisk, "struct gendisk");
    d.major = static_cast<uint32_t>(g["major"].as_u64());
    d.first_minor = static_cast<uint32_t>(g["first_minor"].as_u64());
    d.name = g["disk_name"].string(32);
    d.queue = g["queue"].pointer();
    d.fops = g["fops"].pointer();
    try {
      read_stats(k, g, d);
    } catch (const ModelError& e) {
      d.error = fmt::format("counters: {}", e.what());
    }
    if (!d.queue.is_null()) {
      Object q = k.object(d.queue, "struct request_queue");
      d.mq = q.has_member("mq_ops") && !q["mq_ops"].is_null();
      try {
        if (d.mq) count_in_flight(k, q, d);
      } catch (const ModelError& e) {
        d.error += fmt::format("{}in flight: {}", d.error.empty() ? "" : "; ", e.what());
      }
    }
  } catch (const ModelError& e) {
    d.error += fmt::format("{}{}", d.error.empty() ? "" : "; ", e.what());
  }
  return d;
}

}  // namespace

DiskList read_disks(const Kernel& k) {
  if (k.find_symbol("block_class") == nullptr || k.find_symbol("disk_type") == nullptr) {
    throw Error(Error::Kind::Lookup, "no block_class/disk_type in this kernel");
  }
  const VirtAddr sp = block_subsys_private(k);
  const uint64_t klist = offset_of(k, "struct subsys_private", "klist_devices.k_list");
  const uint64_t n_node = offset_of(k, "struct klist_node", "n_node");
  const uint64_t knode_class = offset_of(k, "struct device_private", "knode_class");
  const VirtAddr disk_type = k.symbol_address("disk_type");
  DiskList out;
  Walked<VirtAddr> nodes = walk_list(k.memory(), VirtAddr{sp.value() + klist}, n_node);
  for (size_t i = 0; i <= nodes.entries.size(); ++i) {
    for (const WalkBreak* b : nodes.breaks_at(i)) {
      out.breaks.push_back({out.disks.size(), b->at, fmt::format("block class devices: {}", b->reason)});
    }
    if (i == nodes.entries.size()) break;
    const VirtAddr node = nodes.entries[i];
    try {
      Object kn = k.object(node, "struct klist_node");
      // A node being removed has bit 0 of n_klist set (KNODE_DEAD).
      if ((kn["n_klist"].as_u64() & 1) != 0) continue;
      const VirtAddr priv{node.value() - knode_class};
      const VirtAddr dev = k.object(priv, "struct device_private")["device"].pointer();
      if (k.object(dev, "struct device")["type"].pointer() != disk_type) continue;
      const VirtAddr g = gendisk_of(k, dev);
      if (g.is_null()) continue;
      out.disks.push_back(read_disk(k, g));
    } catch (const ModelError& e) {
      out.breaks.push_back({out.disks.size(), node, fmt::format("block class device unreadable: {}", e.what())});
    }
  }
  return out;
}

}  // namespace kdive
