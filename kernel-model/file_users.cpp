#include "kernel-model/file_users.hpp"

#include <fmt/format.h>

#include <map>

#include "kernel-model/errors.hpp"
#include "kernel-model/files.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/vmas.hpp"

namespace kdive {
namespace {

bool path_matches(const std::string& path, const std::string& wanted) {
  return path == wanted || path == wanted + " (deleted)";
}

bool matches(const FileTarget& t, const std::string& path, VirtAddr inode) {
  if (t.inode) return !inode.is_null() && inode == *t.inode;
  return t.path && !path.empty() && path_matches(path, *t.path);
}

// Whether a VMA of the mm maps the file; threads share their mm, so each mm
// is read once.
struct MmUse {
  bool maps = false;
  std::vector<std::string> problems;
};

MmUse read_mm_use(const Kernel& k, VirtAddr mm, const FileTarget& t) {
  MmUse use;
  try {
    MmVmas m = read_mm_vmas(k, mm);
    for (const WalkBreak& b : m.vmas.breaks) use.problems.push_back(fmt::format("VMAs: {}", b.describe()));
    for (const Vma& v : m.vmas.entries) {
      if (v.file.is_null()) continue;
      if (!v.error.empty()) {
        use.problems.push_back(fmt::format("VMA {:x}: {}", v.address.value(), v.error));
        continue;
      }
      VirtAddr inode;
      if (t.inode) {
        try {
          inode = k.object(v.file, "struct file")["f_inode"].pointer();
        } catch (const ModelError& e) {
          use.problems.push_back(fmt::format("VMA {:x} file {:x}: {}", v.address.value(), v.file.value(), e.what()));
          continue;
        }
      }
      if (matches(t, v.path, inode)) use.maps = true;
    }
  } catch (const ModelError& e) {
    use.problems.push_back(fmt::format("mm_struct {:x}: {}", mm.value(), e.what()));
  }
  return use;
}

}  // namespace

FileUsers find_file_users(const Kernel& k, const FileTarget& target) {
  FileUsers out;
  std::map<VirtAddr, MmUse> mms;
  for (const Task& task : k.tasks().all) {
    if (!task.damage.empty()) {
      out.problems.push_back(fmt::format("PID {} task {:x}: {}", task.pid, task.address.value(), task.damage));
      continue;
    }
    FileUser u;
    u.task = &task;
    auto problem = [&](std::string_view what, const std::string& why) {
      out.problems.push_back(fmt::format("PID {} {}: {}", task.pid, what, why));
    };
    try {
      TaskFiles f = read_task_files(k, task);
      if (!f.root_error.empty()) problem("root", f.root_error);
      if (!f.cwd_error.empty()) problem("cwd", f.cwd_error);
      if (!f.fds_error.empty()) problem("fds", f.fds_error);
      u.root = f.root_error.empty() && matches(target, f.root, f.root_inode);
      u.cwd = f.cwd_error.empty() && matches(target, f.cwd, f.cwd_inode);
      for (const OpenFile& of : f.files) {
        if (!of.error.empty()) {
          problem(fmt::format("fd {}", of.fd), of.error);
        } else if (matches(target, of.path, of.inode)) {
          u.fds.push_back(of.fd);
        }
      }
    } catch (const ModelError& e) {
      problem("task_struct", e.what());
    }
    if (!task.mm.is_null()) {
      auto it = mms.find(task.mm);
      if (it == mms.end()) {
        it = mms.emplace(task.mm, read_mm_use(k, task.mm, target)).first;
        for (const auto& p : it->second.problems) problem("mm", p);
      }
      u.mmap = it->second.maps;
    }
    if (u.root || u.cwd || !u.fds.empty() || u.mmap) out.users.push_back(std::move(u));
  }
  return out;
}

}  // namespace kdive
