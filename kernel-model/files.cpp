#include "kernel-model/files.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object_links.hpp"
#include "kernel-model/rbtree_walk.hpp"

namespace kdive {
namespace {

// include/uapi/linux/magic.h
constexpr uint64_t kPipefsMagic = 0x50495045;
constexpr uint64_t kSockfsMagic = 0x534F434B;
constexpr uint64_t kAnonInodeMagic = 0x09041934;

constexpr int kMaxDepth = 256;
constexpr uint64_t kMaxFds = 1 << 20;

// "dentry ffff...: d_parent and d_name.name are NULL".
Error null_fields(std::string_view what, VirtAddr at, const std::vector<const char*>& fields) {
  std::string list;
  for (size_t i = 0; i < fields.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == fields.size() ? " and " : ", ") + std::string(fields[i]);
  }
  return Error(Error::Kind::BadData,
               fmt::format("{} {:x}: {} {} NULL", what, at.value(), list, fields.size() == 1 ? "is" : "are"));
}

// Every dentry on a path has a parent (itself, at a root) and a name. NULL in
// either is damage: a zeroed dentry must not read as an empty name, nor stop
// the walk as if it were a root.
void check_linked(const Object& dentry) {
  std::vector<const char*> null;
  if (dentry["d_parent"].is_null()) null.push_back("d_parent");
  if (dentry["d_name"]["name"].is_null()) null.push_back("d_name.name");
  if (!null.empty()) throw null_fields("dentry", dentry.address(), null);
}

// The dentry of an open file is also positive (the open file pins its
// inode) and belongs to a super block.
void check_open_dentry(const Object& dentry) {
  std::vector<const char*> null;
  for (const char* field : {"d_parent", "d_name.name", "d_inode", "d_sb"}) {
    if (dentry[field].is_null()) null.push_back(field);
  }
  if (!null.empty()) throw null_fields("dentry", dentry.address(), null);
}

// A mount on the way to the root: mounted somewhere, with a root dentry.
void check_mount(const Object& mount) {
  std::vector<const char*> null;
  for (const char* field : {"mnt.mnt_root", "mnt_parent", "mnt_mountpoint"}) {
    if (mount[field].is_null()) null.push_back(field);
  }
  if (!null.empty()) throw null_fields("mount", mount.address(), null);
}

std::string dentry_name(const Object& dentry) {
  Object name = dentry["d_name"];
  // qstr: hash and len share a u64 (hash_len) since 3.14; len is the high half.
  uint64_t len = name.has_member("len") ? name["len"].as_u64() : 0;
  return name["name"].string(std::min<uint64_t>(len ? len : 255, 255));
}

bool unhashed(const Object& dentry) {
  // d_unhashed(): not in the dentry hash, i.e. unlinked (d_hash.pprev == NULL).
  return dentry["d_hash"]["pprev"].is_null();
}

bool is_root(const Object& dentry) { return dentry["d_parent"].pointer() == dentry.address(); }

// A dentry of alloc_file_pseudo(): a root of its own (d_alloc_pseudo) whose
// d_op->d_dname is simple_dname (fs/file_table.c, fs/d_path.c), which is how
// d_path() names it.
bool is_pseudo(const Kernel& k, const Object& dentry) {
  if (!is_root(dentry) || dentry["d_op"].is_null()) return false;
  Object d_op = dentry["d_op"].deref();
  if (!d_op.has_member("d_dname") || d_op["d_dname"].is_null()) return false;
  auto hit = k.symbol_at(d_op["d_dname"].pointer());
  return hit && hit->offset == 0 && hit->symbol->name == "simple_dname";
}

// A path longer than any real one: the parent links loop.
Error too_deep(VirtAddr dentry) {
  return Error(Error::Kind::BadData,
               fmt::format("dentry {:x}: no root within {} parents (the parent links loop)", dentry, kMaxDepth));
}

}  // namespace

std::string dentry_path(const Kernel& k, VirtAddr dentry_addr, VirtAddr vfsmount) {
  if (dentry_addr.is_null()) throw Error(Error::Kind::BadData, "the dentry is NULL");
  if (vfsmount.is_null()) throw Error(Error::Kind::BadData, fmt::format("dentry {:x}: the mount is NULL", dentry_addr));
  std::vector<std::string> parts;
  Object dentry = k.object(dentry_addr, "struct dentry");
  // A vfsmount is embedded in its struct mount (fs/mount.h).
  Object mount = container_of(k, vfsmount, k.types().require("struct mount"), "mnt");
  for (int depth = 0;; ++depth) {
    if (depth == kMaxDepth) throw too_deep(dentry_addr);
    check_linked(dentry);
    check_mount(mount);
    if (dentry.address() == mount["mnt"]["mnt_root"].pointer()) {
      // At the root of this mount: continue from where it is mounted, unless
      // this is the top (a mount that is its own parent).
      if (mount["mnt_parent"].pointer() == mount.address()) break;
      dentry = mount["mnt_mountpoint"].deref();
      mount = mount["mnt_parent"].deref();
      continue;
    }
    if (is_root(dentry)) break;  // a root that is not a mount root
    parts.push_back(dentry_name(dentry));
    dentry = dentry["d_parent"].deref();
  }
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path += "/" + *it;
  return path.empty() ? "/" : path;
}

namespace {

// The `type`s linked into the rbtree at `root` through their rb_node
// `member`, as far as they can be reached past damage.
Walked<Object> walk_tree_objects(const Kernel& k, const Object& root, const Type& type, std::string_view member) {
  Walked<VirtAddr> w = walk_rbtree_entries(k.memory(), root.address(), member_offset(type, member));
  Walked<Object> out{{}, std::move(w.breaks)};
  for (VirtAddr a : w.entries) out.entries.emplace_back(k, a, &type);
  return out;
}

// Every mount of init's mount namespace: a list (mnt_namespace.list, struct
// mount.mnt_list) until 6.7, an rbtree (mnt_namespace.mounts, mount.mnt_node)
// since 6.8 ("mounts: keep list of mounts in an rbtree").
// Told apart by the members DWARF has.
Walked<Object> init_mounts(const Kernel& k) {
  Object ns = k.object("init_task")["nsproxy"]["mnt_ns"].deref();
  const Type& mount = k.types().require("struct mount");
  if (ns.has_member("list")) return walk_list_objects(k, ns["list"], mount, "mnt_list");
  return walk_tree_objects(k, ns["mounts"], mount, "mnt_node");
}

}  // namespace

DentryInfo read_dentry(const Kernel& k, VirtAddr dentry_addr) {
  DentryInfo info;
  Object dentry = k.object(dentry_addr, "struct dentry");
  info.dentry = dentry_addr;
  info.inode = dentry["d_inode"].pointer();
  info.superblock = dentry["d_sb"].pointer();
  if (!info.inode.is_null()) info.type = inode_type_name(static_cast<uint32_t>(dentry["d_inode"]["i_mode"].as_u64()));
  // The dentry and its ancestors, nearest first, to find the mount it lives under.
  std::vector<Object> ancestors{dentry};
  check_linked(dentry);
  while (!is_root(ancestors.back())) {
    if (ancestors.size() > kMaxDepth) throw too_deep(dentry_addr);
    ancestors.push_back(ancestors.back()["d_parent"].deref());
    check_linked(ancestors.back());
  }
  auto is_ancestor = [&](VirtAddr a) {
    return std::any_of(ancestors.begin(), ancestors.end(), [&](const Object& d) { return d.address() == a; });
  };
  Walked<Object> mounts = init_mounts(k);
  for (const WalkBreak& b : mounts.breaks) info.problems.push_back("mounts of init's namespace: " + b.describe());
  // A namespace always holds its root mount: none at all is damage too.
  if (mounts.entries.empty() && mounts.breaks.empty()) info.problems.push_back("init's mount namespace has no mounts");
  for (const Object& mount : mounts.entries) {
    Object mnt = mount["mnt"];
    if (mnt["mnt_sb"].pointer() != info.superblock || !is_ancestor(mnt["mnt_root"].pointer())) continue;
    info.path = dentry_path(k, dentry_addr, mnt.address());
    break;
  }
  if (info.path.empty()) {
    for (size_t i = 0; i + 1 < ancestors.size(); ++i) info.path = "/" + dentry_name(ancestors[i]) + info.path;
    if (info.path.empty()) info.path = "/";
  }
  if (ancestors.size() > 1 && unhashed(dentry)) info.path += " (deleted)";
  return info;
}

namespace {

// One open file: its dentry, inode and the name /proc/PID/fd shows.
void read_open_file(const Kernel& k, const Object& file, OpenFile& of) {
  of.dentry = file["f_path"]["dentry"].pointer();
  of.inode = file["f_inode"].pointer();
  if (of.dentry.is_null() || of.inode.is_null()) {
    throw null_fields("file", of.file, {of.dentry.is_null() ? "f_path.dentry" : "f_inode"});
  }
  Object dentry = file["f_path"]["dentry"].deref();
  check_open_dentry(dentry);
  Object inode = file["f_inode"].deref();
  of.type = inode_type_name(static_cast<uint32_t>(inode["i_mode"].as_u64()));
  of.mapping = inode["i_mapping"].pointer();
  if (!of.mapping.is_null()) of.nrpages = inode["i_mapping"]["nrpages"].as_u64();
  uint64_t magic = inode["i_sb"]["s_magic"].as_u64();
  uint64_t ino = inode["i_ino"].as_u64();
  if (magic == kPipefsMagic) {
    of.path = fmt::format("pipe:[{}]", ino);
  } else if (magic == kSockfsMagic) {
    of.path = fmt::format("socket:[{}]", ino);
  } else if (magic == kAnonInodeMagic) {
    of.path = "anon_inode:" + dentry_name(dentry);
  } else if (is_pseudo(k, dentry)) {
    // alloc_file_pseudo()'s dentries (anonymous hugetlb and shmem mappings,
    // memfds) are named by simple_dname(): "/" name " (deleted)".
    of.path = "/" + dentry_name(dentry) + " (deleted)";
  } else {
    of.path = dentry_path(k, dentry.address(), file["f_path"]["mnt"].pointer());
    if (unhashed(dentry) && !is_root(dentry)) of.path += " (deleted)";
  }
}

// The path of fs->root or fs->pwd, or why it cannot be had.
void read_fs_path(const Kernel& k, const Object& path, std::string& out, VirtAddr& inode, std::string& error) {
  try {
    out = dentry_path(k, path["dentry"].pointer(), path["mnt"].pointer());
    inode = path["dentry"]["d_inode"].pointer();
  } catch (const ModelError& e) {
    error = e.what();
  }
}

}  // namespace

std::string file_path(const Kernel& k, VirtAddr file) {
  OpenFile of;
  of.file = file;
  read_open_file(k, k.object(file, "struct file"), of);
  return of.path;
}

TaskFiles read_task_files(const Kernel& k, const Task& task) {
  TaskFiles out;
  Object t = k.object(task.address, "struct task_struct");
  try {
    if (!t["fs"].is_null()) {
      Object fs = t["fs"];
      read_fs_path(k, fs["root"], out.root, out.root_inode, out.root_error);
      read_fs_path(k, fs["pwd"], out.cwd, out.cwd_inode, out.cwd_error);
    }
  } catch (const ModelError& e) {
    out.root_error = out.cwd_error = fmt::format("task's fs_struct: {}", e.what());
  }
  uint64_t fd = 0;
  try {
    if (t["files"].is_null()) return out;
    Object fdt = t["files"]["fdt"].deref();  // struct fdtable
    uint64_t max_fds = std::min<uint64_t>(fdt["max_fds"].as_u64(), kMaxFds);
    Object fd_array = fdt["fd"];  // struct file **
    for (; fd < max_fds; ++fd) {
      Object slot = fd_array.at(fd);  // struct file *
      if (slot.is_null()) continue;
      OpenFile of;
      of.fd = static_cast<int>(fd);
      of.file = slot.pointer();
      try {
        read_open_file(k, slot.deref(), of);
      } catch (const ModelError& e) {
        of.error = e.what();
      }
      out.files.push_back(std::move(of));
    }
  } catch (const ModelError& e) {
    out.fds_error = fd == 0 ? fmt::format("fd table: {}", e.what()) : fmt::format("fd {} on: {}", fd, e.what());
  }
  return out;
}

std::string inode_type_name(uint32_t mode) {
  switch (mode & 0170000) {
    case 0100000:
      return "REG";
    case 0040000:
      return "DIR";
    case 0020000:
      return "CHR";
    case 0060000:
      return "BLK";
    case 0010000:
      return "FIFO";
    case 0140000:
      return "SOCK";
    case 0120000:
      return "LNK";
    default:
      return "?";
  }
}

}  // namespace kdive
