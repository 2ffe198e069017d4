// Which tasks use a file (fuser): as their root or working directory, through
// an open file descriptor, or through a mapping of it (a VMA's vm_file). The
// file is named by a path — compared with the paths files and vm rebuild, so
// "/tmp/a" also finds an unlinked "/tmp/a (deleted)" — or by an inode address.
// Every task is looked at, threads and idle tasks included, as each is its
// own user of the files it shares.
//
//   FileUsers u = find_file_users(kernel, FileTarget{.path = "/tmp/kdive/known.txt"});
//   for (const FileUser& f : u.users) f.task->pid, f.root, f.cwd, f.fds, f.mmap
//   u.problems;  // "PID 95 fd 3: ...": what could not be read, where a user may hide
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kernel-model/tasks.hpp"

namespace kdive {

class Kernel;

struct FileTarget {
  std::optional<std::string> path;
  std::optional<VirtAddr> inode;
};

struct FileUser {
  const Task* task = nullptr;  // in kernel.tasks()
  bool root = false, cwd = false;
  std::vector<int> fds;  // open fds of the file
  bool mmap = false;     // a VMA maps it
};

struct FileUsers {
  std::vector<FileUser> users;  // in the task table's order
  // Tasks, fds, mm_structs and VMAs that could not be read, one line each:
  // a user of the file may be among them.
  std::vector<std::string> problems;
};

FileUsers find_file_users(const Kernel& k, const FileTarget& target);

}  // namespace kdive
