// Open files of a task, and the paths of dentries: what /proc/PID/fd shows.
// Paths are rebuilt by walking dentry parents and crossing mount points
// (struct mount: mnt_mountpoint, mnt_parent), like the kernel's d_path; pipes,
// sockets and anonymous inodes get /proc's synthetic names ("pipe:[1234]",
// "socket:[5678]", "anon_inode:[eventpoll]"), and an unlinked file gets
// " (deleted)" — crash 8.0.2 shows neither.
//
//   TaskFiles f = read_task_files(kernel, task);
//   for (const OpenFile& of : f.files) ... of.fd, of.path, of.type ...
//   of.error;   // "dentry ffff...: d_parent, d_name.name and d_inode are NULL"
//
// A dump comes from a kernel that failed, so one damaged file, dentry or
// mount must cost only itself: what cannot be read, or reads as impossible
// (a NULL parent or name, a negative dentry behind an open file), is an
// `error` on that item, never a wrong path, and the rest is still read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/tasks.hpp"

namespace kdive {

class Kernel;

struct OpenFile {
  int fd;
  VirtAddr file, dentry, inode;
  VirtAddr mapping;      // inode->i_mapping
  uint64_t nrpages = 0;  // pages of the file in the page cache
  std::string type;      // REG DIR CHR BLK FIFO SOCK LNK, from i_mode
  std::string path;
  std::string error;  // set when this file could not be read; the others still are
};

struct TaskFiles {
  std::string root, cwd;
  VirtAddr root_inode, cwd_inode;  // their dentries' inodes (fuser INODE)
  std::vector<OpenFile> files;
  // Why the root, the working directory or the fd table could not be read
  // ("" when it could). With fds_error, `files` holds the fds before it.
  std::string root_error, cwd_error, fds_error;
};

// Throws only when the task_struct itself cannot be read.
TaskFiles read_task_files(const Kernel& k, const Task& task);
// The path of a dentry seen through a vfsmount, up to the global root.
// Throws Error(BadData) naming the dentry or mount whose links are impossible.
std::string dentry_path(const Kernel& k, VirtAddr dentry, VirtAddr vfsmount);
// The name /proc shows for an open struct file (a path, "pipe:[N]", ... with
// " (deleted)" when unlinked): what a VMA's vm_file maps. Throws ModelError
// when the file or its dentry cannot be read or makes no sense.
std::string file_path(const Kernel& k, VirtAddr file);
// An inode's type from its i_mode, as crash's files and mount -i print it:
// REG, DIR, CHR, BLK, FIFO, SOCK, LNK, or "?".
std::string inode_type_name(uint32_t mode);

// A dentry on its own (crash's files -d): its inode, super block, type and
// path. The mount is the first in init's mount namespace whose root is an
// ancestor of the dentry; without one the path is relative to the file
// system's root.
struct DentryInfo {
  VirtAddr dentry, inode, superblock;
  std::string type, path;
  // Breaks in the walk of the mounts, where and why: the mount the dentry is
  // under may be among those not reached.
  std::vector<std::string> problems;
};
DentryInfo read_dentry(const Kernel& k, VirtAddr dentry);

}  // namespace kdive
