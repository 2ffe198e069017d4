#include "kernel-model/mounts.hpp"

#include <fmt/format.h>

#include <set>

#include "kernel-model/errors.hpp"
#include "kernel-model/files.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/list_walk.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/rbtree_walk.hpp"

namespace kdive {
namespace {

// More dirty inodes than this on one backing device means looping lists.
constexpr size_t kMaxDirtyInodes = 1u << 20;

void read_mount(const Kernel& k, const Object& mount, MountEntry& m) {
  Object mnt = mount["mnt"];
  m.vfsmount = mnt.address();
  m.superblock = mnt["mnt_sb"].pointer();
  if (m.superblock.is_null()) throw Error(Error::Kind::BadData, "mnt.mnt_sb is NULL");
  Object sb = mnt["mnt_sb"].deref();
  m.type = sb["s_type"]["name"].string(64);
  // /proc/mounts writes "fuse.sshfs": the type, then the super block's subtype.
  if (sb.has_member("s_subtype") && !sb["s_subtype"].is_null()) {
    std::string sub = sb["s_subtype"].string(64);
    if (!sub.empty()) m.type += "." + sub;
  }
  m.devname = mount["mnt_devname"].is_null() ? "none" : mount["mnt_devname"].string(256);
  m.dirname = dentry_path(k, mnt["mnt_root"].pointer(), m.vfsmount);
}

// The struct mounts of a namespace: a list (mnt_namespace.list through
// mount.mnt_list) until 6.7, an rbtree (mnt_namespace.mounts through
// mount.mnt_node) since 6.8 (commit 2eea9ce4310d, "mounts: keep list of
// mounts in an rbtree"). Told apart by the members DWARF has.
Walked<VirtAddr> namespace_mounts(const Kernel& k, const Object& ns) {
  const Type& mount = k.types().require("struct mount");
  if (ns.has_member("list")) {
    return walk_list(k.memory(), ns["list"].address(), member_offset(mount, "mnt_list"));
  }
  return walk_rbtree_entries(k.memory(), ns["mounts"].address(), member_offset(mount, "mnt_node"));
}

// The path of one of the inode's dentries (inode->i_dentry, linked through
// dentry.d_u.d_alias since 3.19's "move d_rcu from overlapping d_child to
// overlapping d_alias", dentry.d_alias before).
std::string inode_path(const Kernel& k, const Object& inode, VirtAddr vfsmount) {
  Object first = inode["i_dentry"]["first"];
  if (first.is_null()) return "";
  const Type& dentry = k.types().require("struct dentry");
  const char* link = dentry.member("d_u.d_alias").has_value() ? "d_u.d_alias" : "d_alias";
  Object d = container_of(k, first.pointer(), dentry, link);
  return dentry_path(k, d.address(), vfsmount);
}

}  // namespace

MountTable read_mounts(const Kernel& k, VirtAddr task) {
  Object t = k.object(task, "struct task_struct");
  if (t["nsproxy"].is_null()) {
    throw Error(Error::Kind::BadData, fmt::format("task {:x} has no nsproxy (it is exiting)", task.value()));
  }
  Object ns = t["nsproxy"]["mnt_ns"].deref();
  MountTable table;
  table.ns = ns.address();
  Walked<VirtAddr> w = namespace_mounts(k, ns);
  table.mounts.breaks = std::move(w.breaks);
  const Type& mount_type = k.types().require("struct mount");
  for (VirtAddr a : w.entries) {
    MountEntry m;
    m.mount = a;
    try {
      read_mount(k, Object(k, a, &mount_type), m);
    } catch (const ModelError& e) {
      m.error = e.what();
    }
    table.mounts.entries.push_back(std::move(m));
  }
  return table;
}

Walked<MountInode> read_dirty_inodes(const Kernel& k, const MountEntry& mount) {
  Walked<MountInode> out;
  Object sb = k.object(mount.superblock, "struct super_block");
  if (sb["s_bdi"].is_null()) return out;
  Object bdi = sb["s_bdi"].deref();
  const Type& wb_type = k.types().require("struct bdi_writeback");
  const Type& inode_type_ = k.types().require("struct inode");
  // Every bdi_writeback of the device: bdi->wb_list holds bdi->wb and, with
  // cgroup writeback, one per cgroup (4.2, "writeback: make backing_dev_info
  // host cgroup-specific bdi_writebacks"); without the list, bdi->wb alone.
  std::vector<VirtAddr> wbs;
  if (bdi.has_member("wb_list")) {
    Walked<VirtAddr> w = walk_list(k.memory(), bdi["wb_list"].address(), member_offset(wb_type, "bdi_node"));
    for (const WalkBreak& b : w.breaks) out.breaks.push_back({0, b.at, "the device's writeback list: " + b.reason});
    wbs = std::move(w.entries);
  } else {
    wbs.push_back(bdi["wb"].address());
  }
  std::set<uint64_t> seen;
  const uint64_t link = member_offset(inode_type_, "i_io_list");
  for (VirtAddr wb_addr : wbs) {
    Object wb(k, wb_addr, &wb_type);
    for (const char* list : {"b_dirty", "b_io", "b_more_io", "b_dirty_time"}) {
      if (!wb.has_member(list)) continue;
      Walked<VirtAddr> w = walk_list(k.memory(), wb[list].address(), link, kMaxDirtyInodes);
      for (const WalkBreak& b : w.breaks) {
        out.breaks.push_back(
            {out.entries.size(), b.at, fmt::format("{} of writeback {:x}: {}", list, wb_addr, b.reason)});
      }
      for (VirtAddr a : w.entries) {
        if (!seen.insert(a.value()).second) continue;
        MountInode mi;
        mi.inode = a;
        try {
          Object inode(k, a, &inode_type_);
          if (inode["i_sb"].pointer() != mount.superblock) continue;
          mi.type = inode_type_name(static_cast<uint32_t>(inode["i_mode"].as_u64()));
          if (!inode["i_mapping"].is_null()) mi.nrpages = inode["i_mapping"]["nrpages"].as_u64();
          mi.path = inode_path(k, inode, mount.vfsmount);
        } catch (const ModelError& e) {
          mi.error = e.what();
        }
        out.entries.push_back(std::move(mi));
      }
    }
  }
  return out;
}

OpenFilesByMount read_open_files_by_mount(const Kernel& k) {
  OpenFilesByMount out;
  for (const Task& t : k.tasks().all) {
    if (!t.damage.empty()) {
      out.problems.push_back(fmt::format("pid {} (task {:x}): damaged, its files not read", t.pid, t.address));
      continue;
    }
    // Threads share their leader's table: read it once, from the leader.
    if (!t.is_group_leader() && k.tasks().by_pid(t.tgid) != nullptr) continue;
    TaskFiles files;
    try {
      files = read_task_files(k, t);
    } catch (const ModelError& e) {
      out.problems.push_back(fmt::format("pid {}: {}", t.pid, e.what()));
      continue;
    }
    if (!files.fds_error.empty()) out.problems.push_back(fmt::format("pid {}: {}", t.pid, files.fds_error));
    for (const OpenFile& f : files.files) {
      if (!f.error.empty()) {
        out.problems.push_back(fmt::format("pid {} fd {}: {}", t.pid, f.fd, f.error));
        continue;
      }
      MountOpenFile mf{.vfsmount = {},
                       .file = f.file,
                       .dentry = f.dentry,
                       .inode = f.inode,
                       .pid = t.pid,
                       .fd = f.fd,
                       .type = f.type,
                       .path = f.path};
      try {
        mf.vfsmount = k.object(f.file, "struct file")["f_path"]["mnt"].pointer();
      } catch (const ModelError& e) {
        out.problems.push_back(fmt::format("pid {} fd {}: {}", t.pid, f.fd, e.what()));
        continue;
      }
      out.files.push_back(std::move(mf));
    }
  }
  return out;
}

}  // namespace kdive
