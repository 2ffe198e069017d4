// mount: the mounts of a mount namespace, in crash's MOUNT SUPERBLK TYPE
// DEVNAME DIRNAME layout; -f adds the files open through each mount, -i the
// dirty inodes of its super block, -n another task's namespace.
#include <fmt/format.h>

#include <map>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/mounts.hpp"

namespace kdive {
namespace {

// crash's columns start at fixed places (TYPE at 34, DEVNAME at 41, DIRNAME
// at 51); a value wider than its column pushes the next one right by what it
// overflows, one space apart, and the columns after that catch up again.
void to_column(std::string& line, size_t column) { line.append(line.size() < column ? column - line.size() : 1, ' '); }

std::string mount_line(const MountEntry& m) {
  std::string line = fmt::format("{:016x} {:016x} {}", m.mount.value(), m.superblock.value(), m.type);
  to_column(line, 41);
  line += m.devname;
  to_column(line, 51);
  return line + m.dirname;
}

const char* kHeader = "     MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME\n";

// A positional word selects the mounts it names: a mount, vfsmount or super
// block address, a device name or a directory.
bool matches(const MountEntry& m, const std::vector<std::string>& words) {
  if (words.empty()) return true;
  for (const std::string& w : words) {
    if (w == m.devname || w == m.dirname) return true;
    auto n = parse_number(w, 16);
    if (n && (*n == m.mount.value() || *n == m.vfsmount.value() || *n == m.superblock.value())) return true;
  }
  return false;
}

Json print_dirty_inodes(const Kernel& k, const MountEntry& m, Output& out) {
  Json list = Json::array();
  Walked<MountInode> w;
  try {
    w = read_dirty_inodes(k, m);
  } catch (const ModelError& e) {
    out.print("DIRTY INODES: (damaged: {})\n", e.what());
    out.data_lost(fmt::format("mount -i: {:x}: {}", m.mount.value(), e.what()));
    return Json{{"error", e.what()}};
  }
  if (w.entries.empty() && w.breaks.empty()) {
    out.print("DIRTY INODES: (none)\n");
    return list;
  }
  out.print("DIRTY INODES\n      INODE        NRPAGES TYPE PATH\n");
  for (size_t i = 0; i <= w.entries.size(); ++i) {
    for (const WalkBreak* b : w.breaks_at(i)) {
      out.print("{:016x} (damaged: {})\n", b->at.value(), b->reason);
      out.data_lost(fmt::format("mount -i: {}", b->describe()));
      list.push_back({{"inode", json_hex(b->at.value())}, {"error", b->reason}});
    }
    if (i == w.entries.size()) break;
    const MountInode& in = w.entries[i];
    if (!in.error.empty()) {
      out.print("{:016x} (damaged: {})\n", in.inode.value(), in.error);
      out.data_lost(fmt::format("mount -i: inode {:x}: {}", in.inode.value(), in.error));
      list.push_back({{"inode", json_hex(in.inode.value())}, {"error", in.error}});
      continue;
    }
    out.print("{:016x} {:>7} {:<4} {}\n", in.inode.value(), in.nrpages, in.type, in.path);
    list.push_back({{"inode", json_hex(in.inode.value())},
                    {"nrpages", in.nrpages},
                    {"type", in.type},
                    {"path", in.path},
                    {"error", nullptr}});
  }
  return list;
}

Json print_open_files(const std::vector<const MountOpenFile*>& files, Output& out) {
  Json list = Json::array();
  if (files.empty()) {
    out.print("OPEN FILES: (none)\n");
    return list;
  }
  out.print("OPEN FILES\n    PID   FD       FILE            DENTRY           INODE       TYPE PATH\n");
  for (const MountOpenFile* f : files) {
    out.print("{:>7} {:>4} {:016x} {:016x} {:016x} {:<4} {}\n", f->pid, f->fd, f->file.value(), f->dentry.value(),
              f->inode.value(), f->type, f->path);
    list.push_back({{"pid", f->pid},
                    {"fd", f->fd},
                    {"file", json_hex(f->file.value())},
                    {"dentry", json_hex(f->dentry.value())},
                    {"inode", json_hex(f->inode.value())},
                    {"type", f->type},
                    {"path", f->path}});
  }
  return list;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  VirtAddr task = session.context().address;
  if (auto n = args.value('n')) {
    std::vector<const Task*> tasks = select_tasks(k, k.tasks(), {*n});
    if (tasks.size() != 1) throw CommandError(fmt::format("-n {}: names {} tasks, not one", *n, tasks.size()));
    if (report_if_damaged(*tasks[0], out)) throw CommandError(fmt::format("-n {}: {}", *n, damage_marker(*tasks[0])));
    task = tasks[0]->address;
  }
  MountTable table;
  try {
    table = read_mounts(k, task);
  } catch (const ModelError& e) {
    throw CommandError(fmt::format("the mount namespace of task {:x}: {}", task.value(), e.what()));
  }
  // -f: every task's open files, read once and grouped by mount.
  std::map<uint64_t, std::vector<const MountOpenFile*>> by_mount;
  OpenFilesByMount open;
  if (args.has('f')) {
    open = read_open_files_by_mount(k);
    for (const MountOpenFile& f : open.files) by_mount[f.vfsmount.value()].push_back(&f);
    for (const std::string& p : open.problems) {
      out.warning("mount: -f: " + p);
      out.data_lost("mount -f: " + p);
    }
  }
  const bool per_mount_header = args.has('f') || args.has('i');
  Json rows = Json::array();
  if (!per_mount_header) out.print("{}", kHeader);
  const Walked<MountEntry>& w = table.mounts;
  for (size_t i = 0; i <= w.entries.size(); ++i) {
    for (const WalkBreak* b : w.breaks_at(i)) {
      out.print("{:016x} (damaged: {})\n", b->at.value(), b->reason);
      out.data_lost(fmt::format("mount: mounts of namespace {:x}: {}", table.ns.value(), b->describe()));
      rows.push_back({{"mount", json_hex(b->at.value())}, {"error", "the namespace's mounts: " + b->reason}});
    }
    if (i == w.entries.size()) break;
    const MountEntry& m = w.entries[i];
    if (!m.error.empty()) {
      if (per_mount_header) out.print("{}", kHeader);
      out.print("{:016x} (damaged: {})\n", m.mount.value(), m.error);
      out.data_lost(fmt::format("mount: {:x}: {}", m.mount.value(), m.error));
      rows.push_back({{"mount", json_hex(m.mount.value())}, {"error", m.error}});
      continue;
    }
    if (!matches(m, args.positional())) continue;
    if (per_mount_header) out.print("{}", kHeader);
    out.print("{}\n", mount_line(m));
    Json row = {{"mount", json_hex(m.mount.value())},
                {"vfsmount", json_hex(m.vfsmount.value())},
                {"superblock", json_hex(m.superblock.value())},
                {"type", m.type},
                {"devname", m.devname},
                {"dirname", m.dirname},
                {"error", nullptr}};
    if (args.has('f')) row["open_files"] = print_open_files(by_mount[m.vfsmount.value()], out);
    if (args.has('i')) row["dirty_inodes"] = print_dirty_inodes(k, m, out);
    if (per_mount_header) out.print("\n");
    rows.push_back(std::move(row));
  }
  out.result(std::move(rows));
}

const CommandRegistrar registrar{
    {.name = "mount",
     .summary = "mounted file systems",
     .usage = "mount [-f] [-i] [-n pid | task] [mount | vfsmount | superblock | devname | dirname] ...",
     .description = "Lists the mounts of the current context's mount namespace as /proc/PID/mounts\n"
                    "does: for each, its struct mount, the super block, the file system type, the\n"
                    "device name and the directory it is mounted on (the path rebuilt through the\n"
                    "mount and dentry chain). Since 6.8 a namespace keeps its mounts in an rbtree,\n"
                    "before in a list: both are read. Words after the options keep only the mounts\n"
                    "they name (an address of the mount, its vfsmount or super block, a device\n"
                    "name or a directory).\n\n"
                    "A mount that cannot be read, or a break in the namespace's list or tree, shows\n"
                    "its address with '(damaged: ...)'; the other mounts are still listed.\n\n"
                    "  -n pid|task  the mount namespace of that task instead.\n"
                    "  -f           under each mount, the files open through it: every task's fd\n"
                    "               table is read (crash reads super_block.s_files, which kernels\n"
                    "               since 3.13 do not have).\n"
                    "  -i           under each mount, the dirty inodes of its super block: those on\n"
                    "               its backing device's writeback lists (b_dirty, b_io, b_more_io,\n"
                    "               b_dirty_time) with their page-cache size and a path.",
     .examples = "  kdive> mount\n"
                 "       MOUNT           SUPERBLK     TYPE   DEVNAME   DIRNAME\n"
                 "  ffff8da6011a93c0 ffff8da60104a000 rootfs rootfs    /\n"
                 "  ffff8da6012aa780 ffff8da6012bf000 proc   proc      /proc\n"
                 "  ffff8da6012aab40 ffff8da6012ba800 devtmpfs devtmpfs /dev\n"
                 "  ffff8da6012aac80 ffff8da6012bd800 tmpfs  tmpfs     /tmp\n\n"
                 "Who holds files open under /tmp:\n\n"
                 "  kdive> mount -f /tmp\n\n"
                 "The mounts another process sees:\n\n"
                 "  kdive> mount -n 1234",
     .options = {{'f', "", "the files open through each mount"},
                 {'i', "", "the dirty inodes of each mount's super block"},
                 {'n', "pid|task", "that task's mount namespace"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"mount", "vfsmount", "superblock", "type", "devname", "dirname", "error"},
              .notes = "One object per mount, in the namespace's order; addresses as \"0x...\".\n"
                       "error is null unless the mount could not be read (then only mount is\n"
                       "known). -f adds open_files: a list of {pid, fd, file, dentry, inode, type,\n"
                       "path}; -i adds dirty_inodes: a list of {inode, nrpages, type, path, error}.",
              .example = "mount"}},
    run};

}  // namespace
}  // namespace kdive
