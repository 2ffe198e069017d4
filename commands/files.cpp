// files: a task's open files, as crash's files shows them — but with /proc's
// names for pipes, sockets and anonymous inodes and " (deleted)" on unlinked
// files, where crash 8.0.2 prints nothing, "UNIX" or the stale path.
#include "kernel-model/files.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/page_rows.hpp"
#include "commands/task_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/page_cache.hpp"

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

Json fd_json(const OpenFile& f) {
  Json j = {{"fd", f.fd}, {"file", json_hex(f.file.value())}};
  if (!f.error.empty()) {
    for (const char* key : {"dentry", "inode", "mapping", "nrpages", "type", "path"}) j[key] = nullptr;
    j["error"] = f.error;
    return j;
  }
  j["dentry"] = json_hex(f.dentry.value());
  j["inode"] = json_hex(f.inode.value());
  j["mapping"] = json_hex(f.mapping.value());
  j["nrpages"] = f.nrpages;
  j["type"] = f.type;
  j["path"] = f.path;
  j["error"] = nullptr;
  return j;
}

Json or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

// One task's section; null when -R leaves the task out.
Json print_task_files(const Kernel& k, const Task& task, bool cache_view, const std::optional<std::string>& ref,
                      Output& out) {
  TaskFiles files = read_task_files(k, task);
  std::vector<const OpenFile*> shown;
  for (const OpenFile& f : files.files) {
    if (!ref || matches(f, *ref)) shown.push_back(&f);
  }
  if (ref && shown.empty()) return nullptr;  // -R prints only the tasks that hold the reference
  // What of the task itself could not be read: root, cwd, the fd table.
  std::vector<std::string> task_damage;
  for (auto [what, error] :
       {std::pair{"root", &files.root_error}, {"cwd", &files.cwd_error}, {"fds", &files.fds_error}}) {
    if (error->empty()) continue;
    task_damage.push_back(fmt::format("{}: {}", what, *error));
    out.data_lost(fmt::format("PID {} {}: {}", task.pid, what, *error));
  }
  Json result = task_header_json(task);
  result["root"] = or_null(files.root);
  result["cwd"] = or_null(files.cwd);
  Json fds = Json::array();
  for (const OpenFile* f : shown) {
    fds.push_back(fd_json(*f));
    if (!f->error.empty()) out.data_lost(fmt::format("PID {} fd {}: {}", task.pid, f->fd, f->error));
  }
  result["fds"] = std::move(fds);
  std::string error;
  for (const auto& d : task_damage) error += (error.empty() ? "" : "; ") + d;
  result["error"] = or_null(error);
  auto place = [](const std::string& path, const std::string& why) {
    if (!why.empty()) return fmt::format("(damaged: {})", why);
    return path.empty() ? std::string("(none)") : path;
  };
  out.print("{}\n", task_header(task));
  out.print("ROOT: {}    CWD: {}\n", place(files.root, files.root_error), place(files.cwd, files.cwd_error));
  if (shown.empty()) {
    if (files.fds_error.empty()) {
      out.print("No open files\n\n");
    } else {
      out.print("(damaged: {})\n\n", files.fds_error);
    }
    return result;
  }
  if (cache_view) {
    out.print(" FD      INODE          I_MAPPING     NRPAGES TYPE PATH\n");
  } else {
    out.print(" FD       FILE            DENTRY           INODE       TYPE PATH\n");
  }
  for (const OpenFile* f : shown) {
    if (!f->error.empty()) {
      out.print("{:>3} {:016x} (damaged: {})\n", f->fd, f->file.value(), f->error);
    } else if (cache_view) {
      out.print("{:>3} {:016x} {:016x} {:>7} {:<4} {}\n", f->fd, f->inode.value(), f->mapping.value(), f->nrpages,
                f->type, f->path);
    } else {
      out.print("{:>3} {:016x} {:016x} {:016x} {:<4} {}\n", f->fd, f->file.value(), f->dentry.value(), f->inode.value(),
                f->type, f->path);
    }
  }
  // The fds after an unreadable part of the fd table.
  if (!files.fds_error.empty()) out.print("    (damaged: {})\n", files.fds_error);
  const size_t lost = static_cast<size_t>(
      std::count_if(shown.begin(), shown.end(), [](const OpenFile* f) { return !f->error.empty(); }));
  if (lost > 0) out.print("{} of {} open files could not be read\n", lost, shown.size());
  out.print("\n");
  return result;
}

// files -p: the inode's header (crash's INODE NRPAGES) and its page-cache
// pages; a damaged xa_node of i_pages is a marker where its pages would be.
void print_page_cache(const Kernel& k, const std::string& arg, Output& out) {
  auto addr = parse_number(arg, 16);
  if (!addr || *addr < kKernelHalf) throw CommandError(fmt::format("invalid inode address: {}", arg));
  PageCache pc;
  try {
    pc = read_page_cache(k, VirtAddr{*addr});
  } catch (const ModelError& e) {
    throw CommandError(fmt::format("inode {}: {}", arg, e.what()));
  }
  PageFlagNames names(k);
  out.print("      INODE        NRPAGES\n");
  out.print("{:016x}  {:>7}\n\n", pc.inode.value(), pc.nrpages);
  Json pages = Json::array();
  const auto& entries = pc.pages.entries;
  if (!entries.empty()) out.print("{}", page_header());
  auto print_breaks = [&](size_t at) {
    for (const WalkBreak* b : pc.pages.breaks_at(at)) {
      out.print("(damaged: i_pages {})\n", b->describe());
      out.data_lost(fmt::format("inode {:x} i_pages: {}", pc.inode.value(), b->describe()));
      pages.push_back({{"index", nullptr}, {"page", json_hex(b->at)}, {"error", b->describe()}});
    }
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    print_breaks(i);
    const CachedPage& p = entries[i];
    Json j;
    if (p.fields) {
      out.print("{}", page_row(*p.fields, &names));
      j = page_json(*p.fields, &names);
      j["error"] = nullptr;
    } else {
      out.print("{}", damaged_page_row(p.page, p.error));
      out.data_lost(fmt::format("inode {:x} page {:x}: {}", pc.inode.value(), p.page.value(), p.error));
      j = {{"page", json_hex(p.page)}, {"error", p.error}};
    }
    j["index"] = p.index;
    pages.push_back(std::move(j));
  }
  print_breaks(entries.size());
  // Shadow entries stand for evicted pages (and swap entries for shmem pages
  // out on swap): the kernel's page-cache walks skip them too.
  if (pc.value_entries > 0) {
    out.print("({} value {} skipped: shadow or swap entries, no pages)\n", pc.value_entries,
              pc.value_entries == 1 ? "entry" : "entries");
  }
  out.result({{"inode", json_hex(pc.inode)},
              {"mapping", json_hex(pc.mapping)},
              {"nrpages", pc.nrpages},
              {"value_entries", pc.value_entries},
              {"pages", std::move(pages)}});
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (auto p = args.value('p')) return print_page_cache(k, *p, out);
  if (auto d = args.value('d')) {
    auto addr = parse_number(*d, 16);
    if (!addr || *addr < kKernelHalf) throw CommandError(fmt::format("invalid dentry address: {}", *d));
    DentryInfo info = read_dentry(k, VirtAddr{*addr});
    for (const auto& problem : info.problems) {
      out.warning(fmt::format("files: warning: {}", problem));
      out.data_lost(problem);
    }
    out.print("     DENTRY           INODE           SUPERBLK     TYPE PATH\n");
    out.print("{:016x} {:016x} {:016x} {:<4} {}\n", info.dentry.value(), info.inode.value(), info.superblock.value(),
              info.type, info.path);
    out.result({{"dentry", json_hex(info.dentry.value())},
                {"inode", json_hex(info.inode.value())},
                {"superblock", json_hex(info.superblock.value())},
                {"type", info.type},
                {"path", info.path}});
    return;
  }
  const std::vector<const Task*> tasks = tasks_or_context(session, args.positional());
  Json results = Json::array();
  for (const Task* t : tasks) {
    // A damaged task's files pointer cannot be trusted (a zeroed one would
    // read as a kernel thread's "no files"): its marker instead.
    if (report_if_damaged(*t, out)) {
      out.print("{}\n", task_header(*t));
      results.push_back(task_header_json(*t));
      continue;
    }
    Json one = print_task_files(k, *t, args.has('c'), args.value('R'), out);
    if (!one.is_null()) results.push_back(std::move(one));
  }
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "files",
     .summary = "open files of a task",
     .usage = "files [-d dentry] | [-p inode] | [-c] [-R reference] [pid | taskp | command] ...",
     .description = "Shows a task's root and working directories and, for each open file\n"
                    "descriptor, its struct file, dentry and inode addresses, the file type and\n"
                    "the path. With no task, the current context (see set). Paths are rebuilt\n"
                    "across mount points; pipes, sockets and anonymous inodes are named as\n"
                    "/proc/PID/fd names them (pipe:[1077], socket:[1078], anon_inode:[eventfd]),\n"
                    "and a file that was unlinked while open ends in \" (deleted)\".\n\n"
                    "A file whose struct file, dentry or mount cannot be read, or reads as\n"
                    "impossible (a NULL parent, name or inode), shows its fd and file address with\n"
                    "'(damaged: ...)' saying what; the other files are shown as usual, and a last\n"
                    "line counts the files that could not be read.\n\n"
                    "  -c            instead of file and dentry, the inode's page-cache mapping\n"
                    "                (struct address_space) and how many pages it holds.\n"
                    "  -R reference  only the files matching the reference: an fd number, a file,\n"
                    "                dentry, inode or mapping address, or part of a path; tasks\n"
                    "                without a match are left out (made for foreach files -R).\n"
                    "  -d dentry     a dentry alone: its inode, super block, type and path.\n"
                    "  -p inode      the inode's pages in the page cache: the inode and its\n"
                    "                mapping's page count, then one line per page (struct page,\n"
                    "                physical address, mapping, index in the file, reference count,\n"
                    "                flags), in file order. Shadow entries (pages evicted) and\n"
                    "                shmem's swap entries hold no page: they are counted on a last\n"
                    "                line. A damaged node of the page tree shows a marker where its\n"
                    "                pages would be. The inode address is in files' INODE column.",
     .examples = "  kdive> files 89\n"
                 "  PID: 89       TASK: ffff9d8d01e41f40  CPU: 0    COMMAND: \"kd-files\"\n"
                 "  ROOT: /    CWD: /\n"
                 "   FD       FILE            DENTRY           INODE       TYPE PATH\n"
                 "    0 ffff9d8d1f487e00 ffff9d8d01404840 ffff9d8d011be7d0 CHR  /dev/null\n"
                 "    4 ffff9d8d1f487c00 ffff9d8d01ae8300 ffff9d8d01afae40 FIFO pipe:[1077]\n"
                 "    6 ffff9d8d1f487400 ffff9d8d01ae8cc0 ffff9d8d01d8f5e0 REG  /tmp/kdive/deleted.txt (deleted)\n\n"
                 "Which tasks hold a file open:\n\n"
                 "  kdive> foreach files -R known.txt\n\n"
                 "The pages of an open file in the page cache (the inode from the line above):\n\n"
                 "  kdive> files -p ffff9d8d01d8f5e0",
     .options = {{'d', "dentry", "show one dentry"},
                 {'c', "", "page-cache view"},
                 {'R', "reference", "only files matching the reference"},
                 {'p', "inode", "the inode's page-cache pages"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pid", "task", "cpu", "comm", "root", "cwd", "fds", "error"},
              .notes = "One object per task: root and cwd (null when the task has none), fds a list of\n"
                       "{fd, file, dentry, inode, mapping, nrpages, type, path, error}: file, dentry,\n"
                       "inode and mapping (the page-cache address_space) are addresses, nrpages the\n"
                       "pages it caches, error null unless that file could not be read (then only fd\n"
                       "and file are known; a dentry with a NULL parent, name or inode is damage, not\n"
                       "a path). The task's error is null unless its root, cwd or fd table could not be\n"
                       "read (then root or cwd is null, or fds holds the fds before the damage).\n"
                       "-c changes the text only. -R keeps the matching files and\n"
                       "leaves out the tasks without one. `files -d` gives one object {dentry, inode,\n"
                       "superblock, type, path}. `files -p` gives one object {inode, mapping, nrpages,\n"
                       "value_entries, pages}: pages a list of {page, physical, mapping, index, count,\n"
                       "flags, flag_names, error} in file order (index a number: the page's offset in\n"
                       "the file in pages); a page or tree node that could not be read is {page,\n"
                       "index, error} (index null for a tree node).",
              .example = "files 1"}},
    run};

}  // namespace
}  // namespace kdive
