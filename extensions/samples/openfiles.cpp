// openfiles: a sample kdive extension — how many files each task has open.
// It uses only the extension header: the command API for its flags, text and
// JSON, and the kernel model's task table and open-file walker.
//
//   kdive> extend openfiles.so
//   kdive> openfiles -u
//       PID  COMM              FILES
//         1  init                  3
//        97  kd-files             10
#include <fmt/format.h>

#include <charconv>
#include <string>
#include <vector>

#include "extensions/kdive_extension.hpp"

namespace {

using kdive::CommandError;
using kdive::Json;
using kdive::Task;

// Tasks named by pid or by command name, or every task (-u: user tasks only,
// -k: kernel threads only).
std::vector<const Task*> selected_tasks(const kdive::TaskTable& tasks, const kdive::ParsedArgs& args) {
  std::vector<const Task*> out;
  if (args.positional().empty()) {
    for (const Task& t : tasks.all) {
      if (args.has('u') && t.is_kernel_thread()) continue;
      if (args.has('k') && !t.is_kernel_thread()) continue;
      out.push_back(&t);
    }
    return out;
  }
  for (const std::string& word : args.positional()) {
    int64_t pid = 0;
    auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), pid);
    if (ec == std::errc() && end == word.data() + word.size()) {
      const Task* t = tasks.by_pid(pid);
      if (t == nullptr) throw CommandError(fmt::format("no task with pid {}", pid));
      out.push_back(t);
      continue;
    }
    size_t before = out.size();
    for (const Task& t : tasks.all) {
      if (t.comm == word) out.push_back(&t);
    }
    if (out.size() == before) throw CommandError(fmt::format("no task named {}", word));
  }
  return out;
}

void run(kdive::Session& session, const kdive::ParsedArgs& args, kdive::Output& out) {
  if (args.has('u') && args.has('k')) throw CommandError("-u and -k exclude each other");
  const kdive::Kernel& kernel = session.kernel();
  Json result = Json::array();
  out.print("{:>7}  {:<16}  {:>5}\n", "PID", "COMM", "FILES");
  for (const Task* task : selected_tasks(kernel.tasks(), args)) {
    Json row = kdive::task_header_json(*task);
    try {
      // A descriptor whose struct file cannot be read is still open: it counts.
      size_t files = kdive::read_task_files(kernel, *task).files.size();
      out.print("{:>7}  {:<16}  {:>5}\n", task->pid, task->comm, files);
      row["files"] = files;
    } catch (const kdive::Fault& e) {
      out.print("{:>7}  {:<16}  (unreadable: {})\n", task->pid, task->comm, e.what());
      out.data_lost(fmt::format("pid {}: {}", task->pid, e.what()));
      row["files"] = nullptr;
      row["error"] = e.what();
    } catch (const kdive::Error& e) {
      out.print("{:>7}  {:<16}  (unreadable: {})\n", task->pid, task->comm, e.what());
      out.data_lost(fmt::format("pid {}: {}", task->pid, e.what()));
      row["files"] = nullptr;
      row["error"] = e.what();
    }
    result.push_back(std::move(row));
  }
  out.result(std::move(result));
}

}  // namespace

KDIVE_EXTENSION("openfiles", "how many files each task has open (a sample extension)") {
  host.add_command({.name = "openfiles",
                    .summary = "count each task's open files",
                    .usage = "openfiles [-u | -k] [pid | command] ...",
                    .description = "For each task, the number of open file descriptors (what ls /proc/PID/fd\n"
                                   "counts), read from its files_struct. With no argument every task; -u only\n"
                                   "user tasks, -k only kernel threads. Threads of one process share their\n"
                                   "files, so each shows the same count. A task whose files cannot be read is\n"
                                   "marked unreadable and the others still show. A sample extension: see\n"
                                   "extensions/README.md for how it is built and loaded.",
                    .examples = "  kdive> extend openfiles.so\n"
                                "  kdive> openfiles kd-files\n"
                                "      PID  COMM              FILES\n"
                                "       97  kd-files             10",
                    .options = {{'u', "", "user tasks only"}, {'k', "", "kernel threads only"}},
                    .aliases = {},
                    .json = {.kind = kdive::JsonShape::Kind::List,
                             .keys = {"pid", "task", "cpu", "comm", "files"},
                             .notes = "One element per task: the task (pid, task address, cpu, comm) and files, its\n"
                                      "number of open file descriptors; files is null and error says why when the\n"
                                      "task's files could not be read.",
                             .example = "openfiles 1"}},
                   run);
}
