// ipcs: the System V IPC objects of an IPC namespace — shared memory
// segments (-m, -M with page counts and inode), semaphore sets (-s) and
// message queues (-q) — in crash's layout; -n takes another task's namespace,
// and IDs or object addresses select single objects.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/sysv_ipc.hpp"

namespace kdive {
namespace {

// include/uapi/linux/shm.h: mode bits the kernel adds to a segment's perms.
constexpr uint32_t kShmDest = 01000;    // removed (IPC_RMID), freed at the last detach
constexpr uint32_t kShmLocked = 02000;  // SHM_LOCK: never swapped
constexpr uint64_t kPageShift = 12;

const char* header(IpcKind kind) {
  switch (kind) {
    case IpcKind::Shm:
      return "SHMID_KERNEL     KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS\n";
    case IpcKind::Sem:
      return "SEM_ARRAY        KEY      SEMID      UID   PERMS NSEMS     \n";
    case IpcKind::Msg:
      break;
  }
  return "MSG_QUEUE        KEY      MSQID      UID   PERMS USED-BYTES   MESSAGES    \n";
}

std::string row(const IpcObject& o) {
  std::string line =
      fmt::format("{:<16x} {:08x} {:<10} {:<5} {:<5o} ", o.object.value(), o.key, o.id, o.uid, o.mode & 0777);
  switch (o.kind) {
    case IpcKind::Shm:
      return line + fmt::format("{:<10} {:<6} {} {}", o.shm ? o.shm->bytes : 0, o.shm ? o.shm->nattch : 0,
                                (o.mode & kShmDest) ? "dest" : "", (o.mode & kShmLocked) ? "locked" : "");
    case IpcKind::Sem:
      return line + fmt::format("{:<10}", o.nsems);
    case IpcKind::Msg:
      break;
  }
  return line + fmt::format("{:<12} {:<12}", o.cbytes, o.qnum);
}

Json object_json(const IpcObject& o) {
  Json j = {{"object", json_hex(o.object)},
            {"kern_ipc_perm", json_hex(o.perm)},
            {"index", o.index},
            {"key", o.key},
            {"id", o.id},
            {"uid", o.uid},
            {"gid", o.gid},
            {"cuid", o.cuid},
            {"cgid", o.cgid},
            {"perms", o.mode & 0777},
            {"mode", o.mode},
            {"deleted", o.deleted},
            {"error", o.error.empty() ? Json(nullptr) : Json(o.error)}};
  switch (o.kind) {
    case IpcKind::Shm:
      if (o.shm) {
        j["bytes"] = o.shm->bytes;
        j["nattch"] = o.shm->nattch;
        j["dest"] = (o.mode & kShmDest) != 0;
        j["locked"] = (o.mode & kShmLocked) != 0;
        j["inode"] = json_hex(o.shm->inode);
        j["hugetlb"] = o.shm->hugetlb;
        j["pages_allocated"] = (o.shm->bytes + (1 << kPageShift) - 1) >> kPageShift;
        j["pages_resident"] = o.shm->resident_pages ? Json(*o.shm->resident_pages) : Json(nullptr);
        j["pages_swapped"] = o.shm->swapped_pages ? Json(*o.shm->swapped_pages) : Json(nullptr);
      }
      break;
    case IpcKind::Sem:
      j["nsems"] = o.nsems;
      break;
    case IpcKind::Msg:
      j["used_bytes"] = o.cbytes;
      j["messages"] = o.qnum;
      break;
  }
  return j;
}

void print_object(const IpcObject& o, bool verbose, Output& out) {
  if (!o.error.empty()) {
    // What was read before the fault may be wrong: only the address is sure.
    out.print("{:<16x} (damaged: {})\n", o.object.value(), o.error);
    out.data_lost(fmt::format("{} {:x}", ipc_kind_name(o.kind), o.object.value()));
    return;
  }
  out.print("{}\n", row(o));
  if (verbose && o.shm) {
    const uint64_t allocated = (o.shm->bytes + (1 << kPageShift) - 1) >> kPageShift;
    auto count = [](const std::optional<uint64_t>& v) { return v ? fmt::format("{}", *v) : std::string("?"); };
    out.print("PAGES ALLOCATED/RESIDENT/SWAPPED: {}/{}/{}\n", allocated, count(o.shm->resident_pages),
              count(o.shm->swapped_pages));
    out.print("INODE: {:x}\n", o.shm->inode.value());
  }
}

void print_breaks(const IpcTable& t, Output& out) {
  for (const WalkBreak& b : t.breaks) {
    out.print("(damaged: {} IDR: {})\n", ipc_kind_name(t.kind), b.describe());
    out.data_lost(b.describe());
  }
}

// Every object of one kind, as crash lists it: one header and a row each (-m,
// -s, -q), or a header, row and page counts per segment (-M).
void list_all(const IpcTable& t, bool verbose, Output& out) {
  size_t shown = 0;
  if (!verbose) out.print("{}", header(t.kind));
  for (const IpcObject& o : t.objects) {
    if (o.deleted) continue;  // being torn down: crash skips these too
    if (verbose) out.print("{}", header(t.kind));
    print_object(o, verbose, out);
    if (verbose) out.print("\n");
    ++shown;
  }
  print_breaks(t, out);
  if (shown == 0) {
    if (verbose) out.print("{}", header(t.kind));
    out.print("(none allocated)\n");
  }
  if (!verbose || shown == 0) out.print("\n");
}

// The object with this id or at this address, with its own header.
bool show_one(const IpcTable& t, uint64_t value, bool verbose, Output& out, Json& rows) {
  for (const IpcObject& o : t.objects) {
    if (o.deleted) continue;
    if (static_cast<uint64_t>(static_cast<uint32_t>(o.id)) != value && o.object.value() != value) continue;
    out.print("{}", header(t.kind));
    print_object(o, verbose && t.kind == IpcKind::Shm, out);
    out.print("\n");
    rows.push_back(object_json(o));
    return true;
  }
  return false;
}

// crash reads an all-digit word as a decimal id and anything else as hex.
uint64_t parse_value(const std::string& word) {
  const bool digits =
      !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) { return std::isdigit(c); });
  std::optional<uint64_t> v = parse_number(word, digits ? 10 : 16);
  if (!v) throw CommandError(fmt::format("invalid id or address: {}", word));
  return *v;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  std::vector<IpcKind> kinds;
  const bool verbose = args.has('M');
  if (args.has('m') || verbose) kinds.push_back(IpcKind::Shm);
  if (args.has('s')) kinds.push_back(IpcKind::Sem);
  if (args.has('q')) kinds.push_back(IpcKind::Msg);
  if (kinds.empty()) kinds = {IpcKind::Shm, IpcKind::Sem, IpcKind::Msg};

  std::vector<uint64_t> values;
  for (const std::string& word : args.positional()) values.push_back(parse_value(word));

  VirtAddr ns;
  try {
    if (auto n = args.value('n')) {
      std::vector<const Task*> tasks = select_tasks(k, k.tasks(), {*n});
      if (tasks.size() != 1) throw CommandError(fmt::format("-n {}: names {} tasks, not one", *n, tasks.size()));
      if (report_if_damaged(*tasks[0], out)) throw CommandError(fmt::format("-n {}: {}", *n, damage_marker(*tasks[0])));
      ns = ipc_namespace_of(k, *tasks[0]);
    } else {
      ns = initial_ipc_namespace(k);
    }
  } catch (const Error& e) {
    if (e.kind() == Error::Kind::Lookup) throw NotInKernel(e.what());
    throw CommandError(e.what());
  }

  Json result = {{"namespace", json_hex(ns)}, {"shm", nullptr}, {"sem", nullptr}, {"msg", nullptr}};
  std::vector<IpcTable> tables;
  for (IpcKind kind : kinds) {
    try {
      tables.push_back(read_ipc_table(k, ns, kind));
    } catch (const ModelError& e) {
      throw CommandError(
          fmt::format("the {} ids of ipc_namespace {:x}: {}", ipc_kind_name(kind), ns.value(), e.what()));
    }
  }

  if (values.empty()) {
    for (const IpcTable& t : tables) {
      list_all(t, verbose && t.kind == IpcKind::Shm, out);
      Json rows = Json::array();
      for (const IpcObject& o : t.objects) rows.push_back(object_json(o));
      result[std::string(ipc_kind_name(t.kind))] = std::move(rows);
    }
  } else {
    for (const IpcTable& t : tables) result[std::string(ipc_kind_name(t.kind))] = Json::array();
    for (size_t i = 0; i < values.size(); ++i) {
      bool found = false;
      for (const IpcTable& t : tables) {
        found = show_one(t, values[i], verbose, out, result[std::string(ipc_kind_name(t.kind))]) || found;
      }
      if (!found) out.print("invalid id or address: {}\n\n", args.positional()[i]);
    }
    for (const IpcTable& t : tables) print_breaks(t, out);
  }
  out.result(std::move(result));
}

const CommandRegistrar registrar{
    {.name = "ipcs",
     .summary = "System V IPC: shared memory, semaphores, message queues",
     .usage = "ipcs [-smMq] [-n pid|task] [id | addr] ...",
     .description = "Lists the System V IPC objects of the initial IPC namespace (init_ipc_ns), or\n"
                    "of a task's namespace with -n, from the IDR of each ipc_ids in the namespace's\n"
                    "ids[]. Without -s, -m, -M or -q all three kinds are listed.\n"
                    "\n"
                    "  -m  shared memory segments: struct shmid_kernel, key, id, owner uid, permission\n"
                    "      bits, size in bytes, attach count, and STATUS \"dest\" (removed, freed at\n"
                    "      the last detach) and \"locked\" (SHM_LOCK).\n"
                    "  -M  the same, each segment with its pages: allocated (the size in pages),\n"
                    "      resident (in the page cache of its shmem or hugetlbfs inode) and swapped,\n"
                    "      and that inode's address.\n"
                    "  -s  semaphore sets: struct sem_array, key, id, uid, permissions, semaphores.\n"
                    "  -q  message queues: struct msg_queue, key, id, uid, permissions, bytes and\n"
                    "      messages queued.\n"
                    "  -n  the IPC namespace of this task (a PID or a task_struct address).\n"
                    "  id | addr  only the object with this IPC id (decimal) or at this address\n"
                    "      (hex) among the kinds asked for, each with its own header.\n"
                    "\n"
                    "Objects being removed (kern_ipc_perm.deleted) are not listed; the JSON keeps\n"
                    "them with deleted true. An object that cannot be read is marked damaged and a\n"
                    "damaged IDR node says which ids were lost; the rest is listed.",
     .examples = "  kdive> ipcs -m\n"
                 "  SHMID_KERNEL     KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS\n"
                 "  ffff9f5e41e71400 4b444901 1          0     600   65536      1\n"
                 "  kdive> ipcs -M 1\n"
                 "  SHMID_KERNEL     KEY      SHMID      UID   PERMS BYTES      NATTCH STATUS\n"
                 "  ffff9f5e41e71400 4b444901 1          0     600   65536      1\n"
                 "  PAGES ALLOCATED/RESIDENT/SWAPPED: 16/16/0\n"
                 "  INODE: ffff9f5e411bf8b0",
     .options = {{'s', "", "semaphore sets"},
                 {'m', "", "shared memory segments"},
                 {'M', "", "shared memory segments with their pages and inode"},
                 {'q', "", "message queues"},
                 {'n', "pid|task", "that task's IPC namespace"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object,
              .keys = {"namespace", "shm", "sem", "msg"},
              .notes = "namespace: the struct ipc_namespace. shm, sem, msg: null when that kind was\n"
                       "not asked for, else the objects shown (all of the IDR, deleted ones included,\n"
                       "when no id is given), each {object, kern_ipc_perm, index, key, id, uid, gid,\n"
                       "cuid, cgid, perms (the 0777 bits), mode, deleted, error}; shm adds bytes,\n"
                       "nattch, dest, locked, inode, hugetlb, pages_allocated, pages_resident,\n"
                       "pages_swapped; sem adds nsems; msg adds used_bytes and messages.",
              .example = "ipcs"}},
    run};

}  // namespace
}  // namespace kdive
