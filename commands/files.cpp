// files: a task's open files, as crash's files shows them — but with /proc's
// names for pipes, sockets and anonymous inodes and " (deleted)" on unlinked
// files, where crash 8.0.2 prints nothing, "UNIX" or the stale path.
#include "kernel-model/files.hpp"

#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// files -R: a file matches a decimal fd number, a hexadecimal file, dentry,
// inode or address_space address, or a piece of its path.
bool matches(const OpenFile& f, const std::string& ref) {
  if (auto n = parse_number(ref, 10); n && static_cast<int64_t>(*n) == f.fd) return true;
  if (auto a = parse_number(ref, 16); a && *a >= kKernelHalf) {
    for (VirtAddr v : {f.file, f.dentry, f.inode, f.mapping}) {
      if (v.value() == *a) return true;
    }
  }
  return f.path.find(ref) != std::string::npos;
}

void print_task_files(const Kernel& k, const Task& task, bool cache_view, const std::optional<std::string>& ref,
                      Output& out) {
  TaskFiles files = read_task_files(k, task);
  std::vector<const OpenFile*> shown;
  for (const OpenFile& f : files.files) {
    if (!ref || matches(f, *ref)) shown.push_back(&f);
  }
  if (ref && shown.empty()) return;  // -R prints only the tasks that hold the reference
  out.print("{}\n", task_header(task));
  out.print("ROOT: {}    CWD: {}\n", files.root.empty() ? "(none)" : files.root,
            files.cwd.empty() ? "(none)" : files.cwd);
  if (shown.empty()) {
    out.print("No open files\n\n");
    return;
  }
  if (cache_view) {
    out.print(" FD      INODE          I_MAPPING     NRPAGES TYPE PATH\n");
  } else {
    out.print(" FD       FILE            DENTRY           INODE       TYPE PATH\n");
  }
  for (const OpenFile* f : shown) {
    if (!f->error.empty()) {
      out.print("{:>3} {:016x} (unreadable: {})\n", f->fd, f->file.value(), f->error);
    } else if (cache_view) {
      out.print("{:>3} {:016x} {:016x} {:>7} {:<4} {}\n", f->fd, f->inode.value(), f->mapping.value(), f->nrpages,
                f->type, f->path);
    } else {
      out.print("{:>3} {:016x} {:016x} {:016x} {:<4} {}\n", f->fd, f->file.value(), f->dentry.value(), f->inode.value(),
                f->type, f->path);
    }
  }
  out.print("\n");
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (auto d = args.value('d')) {
    auto addr = parse_number(*d, 16);
    if (!addr || *addr < kKernelHalf) throw CommandError(fmt::format("invalid dentry address: {}", *d));
    DentryInfo info = read_dentry(k, VirtAddr{*addr});
    out.print("     DENTRY           INODE           SUPERBLK     TYPE PATH\n");
    out.print("{:016x} {:016x} {:016x} {:<4} {}\n", info.dentry.value(), info.inode.value(), info.superblock.value(),
              info.type, info.path);
    return;
  }
  std::vector<const Task*> tasks;
  if (args.positional().empty()) {
    tasks.push_back(&session.context());
  } else {
    tasks = select_tasks(k, k.tasks(), args.positional());
  }
  for (const Task* t : tasks) print_task_files(k, *t, args.has('c'), args.value('R'), out);
}

const CommandRegistrar registrar{
    {.name = "files",
     .summary = "open files of a task",
     .usage = "files [-d dentry] | [-c] [-R reference] [pid | taskp | command] ...",
     .description = "Shows a task's root and working directories and, for each open file\n"
                    "descriptor, its struct file, dentry and inode addresses, the file type and\n"
                    "the path. With no task, the current context (see set). Paths are rebuilt\n"
                    "across mount points; pipes, sockets and anonymous inodes are named as\n"
                    "/proc/PID/fd names them (pipe:[1077], socket:[1078], anon_inode:[eventfd]),\n"
                    "and a file that was unlinked while open ends in \" (deleted)\".\n\n"
                    "  -c            instead of file and dentry, the inode's page-cache mapping\n"
                    "                (struct address_space) and how many pages it holds.\n"
                    "  -R reference  only the files matching the reference: an fd number, a file,\n"
                    "                dentry, inode or mapping address, or part of a path; tasks\n"
                    "                without a match are left out (made for foreach files -R).\n"
                    "  -d dentry     a dentry alone: its inode, super block, type and path.",
     .examples = "  kdive> files 89\n"
                 "  PID: 89       TASK: ffff9d8d01e41f40  CPU: 0    COMMAND: \"kd-files\"\n"
                 "  ROOT: /    CWD: /\n"
                 "   FD       FILE            DENTRY           INODE       TYPE PATH\n"
                 "    0 ffff9d8d1f487e00 ffff9d8d01404840 ffff9d8d011be7d0 CHR  /dev/null\n"
                 "    4 ffff9d8d1f487c00 ffff9d8d01ae8300 ffff9d8d01afae40 FIFO pipe:[1077]\n"
                 "    6 ffff9d8d1f487400 ffff9d8d01ae8cc0 ffff9d8d01d8f5e0 REG  /tmp/kdive/deleted.txt (deleted)\n\n"
                 "Which tasks hold a file open:\n\n"
                 "  kdive> foreach files -R known.txt",
     .options = {{'d', "dentry", "show one dentry"},
                 {'c', "", "page-cache view"},
                 {'R', "reference", "only files matching the reference"}},
     .aliases = {}},
    run};

}  // namespace
}  // namespace kdive
