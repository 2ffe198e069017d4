// The System V IPC objects of an IPC namespace — shared memory segments,
// semaphore sets and message queues — as crash's `ipcs` and /proc/sysvipc/*
// show them.
//
// Each namespace (struct ipc_namespace, init_ipc_ns for the initial one, a
// task's through task->nsproxy->ipc_ns) holds ids[3], one struct ipc_ids per
// kind (IPC_SEM_IDS 0, IPC_MSG_IDS 1, IPC_SHM_IDS 2). Each ipc_ids keeps its
// objects in an IDR (ipcs_idr) whose entries point at the struct kern_ipc_perm
// embedded in the object (shmid_kernel.shm_perm, sem_array.sem_perm,
// msg_queue.q_perm). The IDR walk is bounded and cycle-safe; a damaged node is
// a WalkBreak (the objects under it lost), an object that cannot be read keeps
// its address and carries `error`, and the table goes on. Objects whose
// kern_ipc_perm.deleted is set are being torn down: they are kept and marked
// (crash skips them), so a command can say so.
//
//   VirtAddr ns = ipc_namespace_of(k, task);   // or k.symbol_address("init_ipc_ns")
//   IpcTable shm = read_ipc_table(k, ns, IpcKind::Shm);
//   for (const IpcObject& o : shm.objects) o.key, o.id, o.shm->bytes;
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;
struct Task;

// The order of ipc_namespace.ids[] (include/linux/ipc_namespace.h).
enum class IpcKind { Sem = 0, Msg = 1, Shm = 2 };

std::string_view ipc_kind_name(IpcKind kind);  // "sem", "msg", "shm"

struct ShmDetails {
  uint64_t bytes = 0;   // shm_segsz
  uint64_t nattch = 0;  // shm_nattch
  VirtAddr file;        // shm_file
  VirtAddr inode;       // the shm file's inode (shmem_inode_info.vfs_inode, or hugetlbfs)
  bool hugetlb = false;
  // Pages in the page cache of the inode (huge pages counted in base pages)
  // and pages swapped out (shmem_inode_info.swapped); unset when unreadable.
  std::optional<uint64_t> resident_pages;
  std::optional<uint64_t> swapped_pages;
};

struct IpcObject {
  IpcKind kind = IpcKind::Shm;
  uint64_t index = 0;  // the IDR index the object sits at
  VirtAddr object;     // struct shmid_kernel / sem_array / msg_queue
  VirtAddr perm;       // its struct kern_ipc_perm
  uint32_t key = 0;
  int32_t id = 0;  // the IPC id user space sees (index + seq * SEQ_MULTIPLIER)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t cuid = 0;
  uint32_t cgid = 0;
  uint32_t mode = 0;  // permission bits plus SHM_DEST (01000) / SHM_LOCKED (02000)
  bool deleted = false;
  std::optional<ShmDetails> shm;  // shared memory
  uint64_t nsems = 0;             // semaphores: sem_nsems
  uint64_t cbytes = 0;            // message queues: q_cbytes (bytes queued)
  uint64_t qnum = 0;              // message queues: q_qnum (messages queued)
  std::string error;              // what could not be read of this object
};

struct IpcTable {
  IpcKind kind = IpcKind::Shm;
  VirtAddr ids;                    // the struct ipc_ids
  int in_use = 0;                  // ipc_ids.in_use: how many objects the kernel counts
  std::vector<IpcObject> objects;  // in IDR order
  std::vector<WalkBreak> breaks;   // positions index `objects`
};

// The IPC namespace a task uses (task->nsproxy->ipc_ns). Throws Error(BadData)
// for a task without nsproxy (one that is exiting).
VirtAddr ipc_namespace_of(const Kernel& k, const Task& task);
// The initial namespace, init_ipc_ns. Throws Error(Lookup) for a kernel built
// without CONFIG_SYSVIPC.
VirtAddr initial_ipc_namespace(const Kernel& k);

// Every object of one kind in the namespace at `ns`.
IpcTable read_ipc_table(const Kernel& k, VirtAddr ns, IpcKind kind);

}  // namespace kdive
