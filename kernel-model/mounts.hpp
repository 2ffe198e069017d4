// The mounts of a mount namespace, as /proc/PID/mounts lists them: each
// struct mount with its super block, file system type, device name and the
// directory it is mounted on (rebuilt through the dentry and mount chain,
// as files' paths are). Also what crash's mount -f and -i add: the files
// open through each mount, and the dirty inodes of its super block.
//
//   MountTable t = read_mounts(kernel, task.address);
//   for (const MountEntry& m : t.mounts.entries) ... m.mount, m.type, m.dirname ...
//   t.mounts.breaks;   // where the namespace's list or tree was damaged
//
// One damaged mount costs only itself: its `error` says what could not be
// read, and the rest of the namespace is still listed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernel-model/walk_break.hpp"
#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct MountEntry {
  VirtAddr mount;       // struct mount (crash's MOUNT column)
  VirtAddr vfsmount;    // its embedded struct vfsmount (what a struct file's f_path.mnt holds)
  VirtAddr superblock;  // mnt.mnt_sb
  std::string type;     // mnt_sb->s_type->name ("tmpfs"), with ".subtype" when the sb has one
  std::string devname;  // mnt_devname ("none" when NULL, as /proc/mounts writes it)
  std::string dirname;  // where it is mounted, from the namespace's root
  std::string error;    // set when this mount could not be read; only `mount` is known then
};

struct MountTable {
  VirtAddr ns;                // struct mnt_namespace
  Walked<MountEntry> mounts;  // in the namespace's order (list order; tree order since 6.8)
};

// The mount namespace of the task_struct at `task` (task->nsproxy->mnt_ns).
// Throws Error when the task has no nsproxy (an exiting task) or its
// namespace cannot be read.
MountTable read_mounts(const Kernel& k, VirtAddr task);

// An inode as mount -i shows it.
struct MountInode {
  VirtAddr inode;
  uint64_t nrpages = 0;  // pages of it in the page cache
  std::string type;      // REG DIR CHR ... from i_mode
  std::string path;      // one of its dentries' paths through the mount ("" when it has none)
  std::string error;     // set when the inode could not be read
};

// The dirty inodes of a mount's super block: those on its backing device's
// writeback lists (b_dirty, b_io, b_more_io, b_dirty_time of every
// bdi_writeback) whose i_sb is this super block. crash reads
// super_block.s_dirty, which left the kernel in 2.6.32 for these lists.
Walked<MountInode> read_dirty_inodes(const Kernel& k, const MountEntry& mount);

// A file open in some task's fd table, with the mount it was opened through.
struct MountOpenFile {
  VirtAddr vfsmount;  // file->f_path.mnt
  VirtAddr file, dentry, inode;
  int64_t pid = 0;
  int fd = 0;
  std::string type, path;
};

// Every file open in any task's fd table, each with its mount (mount -f
// groups them). crash reads super_block.s_files, which left the kernel in
// 3.13; the fd tables are what remains. A task whose table could not be read
// to its end is named in `problems`; a file that could not be read is left
// out and counted there too.
struct OpenFilesByMount {
  std::vector<MountOpenFile> files;
  std::vector<std::string> problems;
};
OpenFilesByMount read_open_files_by_mount(const Kernel& k);

}  // namespace kdive
