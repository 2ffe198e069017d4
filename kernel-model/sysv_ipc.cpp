#include "kernel-model/sysv_ipc.hpp"

#include <fmt/format.h>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/tasks.hpp"
#include "kernel-model/type_system.hpp"
#include "kernel-model/xarray.hpp"

namespace kdive {
namespace {

// The kernel's IPCMNI is 32768 (256K with ipcmni_extend): more objects of one
// kind than that is a damaged tree.
constexpr size_t kMaxIpcObjects = 1 << 18;

// kuid_t / kgid_t are struct { val; }; atomic_t { counter; } — a scalar either way.
uint64_t scalar(const Object& o) {
  if (o.type().strip().is_struct_like()) {
    const auto& members = o.type().strip().members();
    if (members.size() == 1) return scalar(o[members.front().name]);
  }
  return o.as_u64();
}

struct KindLayout {
  std::string_view type;  // "struct shmid_kernel"
  std::string_view perm;  // the embedded kern_ipc_perm: "shm_perm"
};

KindLayout layout_of(IpcKind kind) {
  switch (kind) {
    case IpcKind::Sem:
      return {"struct sem_array", "sem_perm"};
    case IpcKind::Msg:
      return {"struct msg_queue", "q_perm"};
    case IpcKind::Shm:
      break;
  }
  return {"struct shmid_kernel", "shm_perm"};
}

void read_shm(const Kernel& k, const Object& shp, IpcObject& o) {
  ShmDetails d;
  d.bytes = shp["shm_segsz"].as_u64();
  d.nattch = shp["shm_nattch"].as_u64();
  d.file = shp["shm_file"].pointer();
  o.shm = d;
  if (d.file.is_null()) return;
  Object file = k.object(d.file, "struct file");
  Object dentry = file["f_path"]["dentry"].deref();
  o.shm->inode = dentry["d_inode"].pointer();
  if (o.shm->inode.is_null()) return;
  Object inode = dentry["d_inode"].deref();
  // A SHM_HUGETLB segment is a hugetlbfs file: its page cache holds huge
  // pages, each hstate-order base pages; it has no shmem swap count.
  if (const Symbol* hfops = k.find_symbol("hugetlbfs_file_operations");
      hfops != nullptr && file["f_op"].pointer() == hfops->address) {
    o.shm->hugetlb = true;
  }
  const uint64_t nrpages = inode["i_mapping"]["nrpages"].as_u64();
  if (o.shm->hugetlb) {
    Object hstate = inode["i_sb"]["s_fs_info"].cast(&k.types().require("struct hugetlbfs_sb_info *"))["hstate"].deref();
    o.shm->resident_pages = nrpages << hstate["order"].as_u64();
    o.shm->swapped_pages = 0;
    return;
  }
  o.shm->resident_pages = nrpages;
  // shmem_inode_info embeds the inode as vfs_inode (mm/shmem.c).
  const Type& info = k.types().require("struct shmem_inode_info");
  const uint64_t vfs_inode = info.strip().require_member("vfs_inode").offset;
  Object si = k.object(VirtAddr{o.shm->inode.value() - vfs_inode}, "struct shmem_inode_info");
  o.shm->swapped_pages = si["swapped"].as_u64();
}

IpcObject read_object(const Kernel& k, IpcKind kind, uint64_t index, VirtAddr perm, uint64_t perm_offset) {
  IpcObject o;
  o.kind = kind;
  o.index = index;
  o.perm = perm;
  o.object = VirtAddr{perm.value() - perm_offset};
  try {
    Object obj = k.object(o.object, layout_of(kind).type);
    Object p = obj[layout_of(kind).perm];
    o.key = static_cast<uint32_t>(p["key"].as_u64());
    o.id = static_cast<int32_t>(p["id"].as_i64());
    o.uid = static_cast<uint32_t>(scalar(p["uid"]));
    o.gid = static_cast<uint32_t>(scalar(p["gid"]));
    o.cuid = static_cast<uint32_t>(scalar(p["cuid"]));
    o.cgid = static_cast<uint32_t>(scalar(p["cgid"]));
    o.mode = static_cast<uint32_t>(p["mode"].as_u64());
    o.deleted = p["deleted"].as_u64() != 0;
    switch (kind) {
      case IpcKind::Sem:
        o.nsems = obj["sem_nsems"].as_u64();
        break;
      case IpcKind::Msg:
        o.cbytes = obj["q_cbytes"].as_u64();
        o.qnum = obj["q_qnum"].as_u64();
        break;
      case IpcKind::Shm:
        read_shm(k, obj, o);
        break;
    }
  } catch (const ModelError& e) {
    o.error = e.what();
  }
  return o;
}

}  // namespace

std::string_view ipc_kind_name(IpcKind kind) {
  switch (kind) {
    case IpcKind::Sem:
      return "sem";
    case IpcKind::Msg:
      return "msg";
    case IpcKind::Shm:
      break;
  }
  return "shm";
}

VirtAddr ipc_namespace_of(const Kernel& k, const Task& task) {
  Object t = k.object(task.address, "struct task_struct");
  if (t["nsproxy"].is_null()) {
    throw Error(Error::Kind::BadData,
                fmt::format("task {:x} (pid {}) has no nsproxy (it is exiting)", task.address.value(), task.pid));
  }
  return t["nsproxy"]["ipc_ns"].pointer();
}

VirtAddr initial_ipc_namespace(const Kernel& k) {
  if (k.find_symbol("init_ipc_ns") == nullptr) {
    throw Error(Error::Kind::Lookup, "this kernel has no System V IPC (no init_ipc_ns: CONFIG_SYSVIPC is off)");
  }
  return k.symbol_address("init_ipc_ns");
}

IpcTable read_ipc_table(const Kernel& k, VirtAddr ns, IpcKind kind) {
  IpcTable t;
  t.kind = kind;
  Object nso = k.object(ns, "struct ipc_namespace");
  Object ids = nso["ids"].at(static_cast<uint64_t>(kind));
  t.ids = ids.address();
  t.in_use = static_cast<int>(ids["in_use"].as_i64());
  const Type& type = k.types().require(layout_of(kind).type);
  const uint64_t perm_offset = type.strip().require_member(layout_of(kind).perm).offset;
  Walked<XarrayEntry> w = walk_idr(k, ids["ipcs_idr"].address(), kMaxIpcObjects);
  for (const XarrayEntry& e : w.entries) {
    if (e.value == 0) continue;
    t.objects.push_back(read_object(k, kind, e.index, VirtAddr{e.value}, perm_offset));
  }
  t.breaks = std::move(w.breaks);
  return t;
}

}  // namespace kdive
