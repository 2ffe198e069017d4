#include "kernel-model/files.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/containers.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// include/uapi/linux/magic.h
constexpr uint64_t kPipefsMagic = 0x50495045;
constexpr uint64_t kSockfsMagic = 0x534F434B;
constexpr uint64_t kAnonInodeMagic = 0x09041934;

constexpr int kMaxDepth = 256;
constexpr uint64_t kMaxFds = 1 << 20;

std::string type_of(uint32_t mode) {
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

std::string dentry_name(const Kernel& k, Object dentry) {
  Object name = dentry["d_name"];
  // qstr: hash and len share a u64 (hash_len) since 3.14; len is the high half.
  uint64_t len = name.has_member("len") ? name["len"].as_u64() : 0;
  std::string s = name["name"].string(std::min<uint64_t>(len ? len : 255, 255));
  (void)k;
  return s;
}

bool unhashed(Object dentry) {
  // d_unhashed(): not in the dentry hash, i.e. unlinked (d_hash.pprev == NULL).
  return dentry["d_hash"]["pprev"].as_u64() == 0;
}

}  // namespace

std::string dentry_path(const Kernel& k, VirtAddr dentry_addr, VirtAddr vfsmount) {
  const Type& mount_type = k.types().require("struct mount");
  const uint64_t mnt_in_mount = mount_type.require_member("mnt").offset;
  std::vector<std::string> parts;
  Object dentry = k.object(dentry_addr, "struct dentry");
  Object mount = k.object(vfsmount - mnt_in_mount, "struct mount");
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    uint64_t mnt_root = mount["mnt"]["mnt_root"].pointer();
    if (dentry.address().value() == mnt_root) {
      // At the root of this mount: continue from where it is mounted, unless
      // this is the top (a mount that is its own parent).
      uint64_t parent = mount["mnt_parent"].pointer();
      if (parent == mount.address().value()) break;
      dentry = k.object(VirtAddr{mount["mnt_mountpoint"].pointer()}, "struct dentry");
      mount = k.object(VirtAddr{parent}, "struct mount");
      continue;
    }
    uint64_t parent = dentry["d_parent"].pointer();
    if (parent == dentry.address().value()) break;  // a root that is not a mount root
    parts.push_back(dentry_name(k, dentry));
    dentry = k.object(VirtAddr{parent}, "struct dentry");
  }
  std::string path;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) path += "/" + *it;
  return path.empty() ? "/" : path;
}

namespace {

// Every mount of init's mount namespace: a list (mnt_namespace.list, struct
// mount.mnt_list) until 6.7, an rbtree (mnt_namespace.mounts, mount.mnt_node)
// since 6.8. Told apart by the members DWARF has.
std::vector<VirtAddr> init_mounts(const Kernel& k) {
  Object ns = k.object(VirtAddr{k.symbol_address("init_task")}, "struct task_struct")["nsproxy"]["mnt_ns"].deref();
  const Type& mount = k.types().require("struct mount");
  if (ns.has_member("list")) {
    return list_entries(k, ns["list"].address(), mount.require_member("mnt_list").offset);
  }
  return rbtree_entries(k, ns["mounts"].address(), mount.require_member("mnt_node").offset);
}

}  // namespace

DentryInfo read_dentry(const Kernel& k, VirtAddr dentry_addr) {
  DentryInfo info;
  Object dentry = k.object(dentry_addr, "struct dentry");
  info.dentry = dentry_addr;
  info.inode = VirtAddr{dentry["d_inode"].pointer()};
  info.superblock = VirtAddr{dentry["d_sb"].pointer()};
  if (info.inode.value() != 0) {
    info.type = type_of(static_cast<uint32_t>(k.object(info.inode, "struct inode")["i_mode"].as_u64()));
  }
  // The dentry's ancestors, nearest first, to find the mount it lives under.
  std::vector<uint64_t> ancestors{dentry_addr.value()};
  for (int depth = 0; depth < kMaxDepth; ++depth) {
    uint64_t parent = k.object(VirtAddr{ancestors.back()}, "struct dentry")["d_parent"].pointer();
    if (parent == ancestors.back()) break;
    ancestors.push_back(parent);
  }
  const uint64_t mnt_in_mount = k.types().require("struct mount").require_member("mnt").offset;
  for (VirtAddr m : init_mounts(k)) {
    Object mount = k.object(m, "struct mount");
    if (mount["mnt"]["mnt_sb"].pointer() != info.superblock.value()) continue;
    uint64_t root = mount["mnt"]["mnt_root"].pointer();
    if (std::find(ancestors.begin(), ancestors.end(), root) == ancestors.end()) continue;
    info.path = dentry_path(k, dentry_addr, VirtAddr{m.value() + mnt_in_mount});
    break;
  }
  if (info.path.empty()) {
    for (size_t i = 0; i + 1 < ancestors.size(); ++i) {
      info.path = "/" + dentry_name(k, k.object(VirtAddr{ancestors[i]}, "struct dentry")) + info.path;
    }
    if (info.path.empty()) info.path = "/";
  }
  if (ancestors.size() > 1 && unhashed(dentry)) info.path += " (deleted)";
  return info;
}

TaskFiles read_task_files(const Kernel& k, const Task& task) {
  TaskFiles out;
  Object t = k.object(task.address, "struct task_struct");
  if (t["fs"].pointer() != 0) {
    Object fs = t["fs"];
    out.root = dentry_path(k, VirtAddr{fs["root"]["dentry"].pointer()}, VirtAddr{fs["root"]["mnt"].pointer()});
    out.cwd = dentry_path(k, VirtAddr{fs["pwd"]["dentry"].pointer()}, VirtAddr{fs["pwd"]["mnt"].pointer()});
  }
  if (t["files"].pointer() == 0) return out;
  Object fdt = t["files"]["fdt"];
  uint64_t max_fds = std::min<uint64_t>(fdt["max_fds"].as_u64(), kMaxFds);
  uint64_t fd_array = fdt["fd"].pointer();
  for (uint64_t fd = 0; fd < max_fds; ++fd) {
    uint64_t file = k.memory().read<uint64_t>(VirtAddr{fd_array + fd * 8});
    if (file == 0) continue;
    OpenFile of;
    of.fd = static_cast<int>(fd);
    of.file = VirtAddr{file};
    try {
      Object f = k.object(VirtAddr{file}, "struct file");
      Object dentry = f["f_path"]["dentry"].deref();
      Object inode = f["f_inode"].deref();
      of.dentry = dentry.address();
      of.inode = inode.address();
      of.type = type_of(static_cast<uint32_t>(inode["i_mode"].as_u64()));
      of.mapping = VirtAddr{inode["i_mapping"].pointer()};
      if (of.mapping.value() != 0) of.nrpages = k.object(of.mapping, "struct address_space")["nrpages"].as_u64();
      uint64_t magic = inode["i_sb"]["s_magic"].as_u64();
      uint64_t ino = inode["i_ino"].as_u64();
      if (magic == kPipefsMagic) {
        of.path = fmt::format("pipe:[{}]", ino);
      } else if (magic == kSockfsMagic) {
        of.path = fmt::format("socket:[{}]", ino);
      } else if (magic == kAnonInodeMagic) {
        of.path = "anon_inode:" + dentry_name(k, dentry);
      } else {
        of.path = dentry_path(k, dentry.address(), VirtAddr{f["f_path"]["mnt"].pointer()});
        if (unhashed(dentry) && dentry["d_parent"].pointer() != dentry.address().value()) of.path += " (deleted)";
      }
    } catch (const std::exception& e) {
      of.error = e.what();
    }
    out.files.push_back(std::move(of));
  }
  return out;
}

}  // namespace kdive
