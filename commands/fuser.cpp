// fuser: the tasks using a file — as root or working directory, through an
// open fd, or through a mapping — with crash's PID TASK COMM USAGE columns.
// crash finds users by searching the text of `foreach files` and `foreach vm`
// for the argument; kdive compares whole paths (and inode addresses) with what
// kernel-model rebuilds, so "/tmp/a" does not also match "/x/tmp/a".
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/file_users.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/page_cache.hpp"

namespace kdive {
namespace {

// The argument as a target: a path starts with '/', anything else must be an
// inode address.
FileTarget parse_target(const Kernel& k, const std::string& arg) {
  if (arg.starts_with('/')) return FileTarget{.path = arg, .inode = std::nullopt};
  auto addr = parse_number(arg, 16);
  if (!addr || *addr < kKernelHalf) {
    throw CommandError(fmt::format("invalid argument: {} (neither a path nor an inode address)", arg));
  }
  try {
    inode_mapping(k, VirtAddr{*addr});
  } catch (const ModelError& e) {
    throw CommandError(fmt::format("{}: {}", arg, e.what()));
  }
  return FileTarget{.path = std::nullopt, .inode = VirtAddr{*addr}};
}

std::vector<std::string> usage_words(const FileUser& u) {
  std::vector<std::string> words;
  if (u.root) words.emplace_back("root");
  if (u.cwd) words.emplace_back("cwd");
  if (!u.fds.empty()) words.emplace_back("fd");
  if (u.mmap) words.emplace_back("mmap");
  return words;
}

Json report(const Kernel& k, const std::string& arg, Output& out) {
  const FileTarget target = parse_target(k, arg);
  const FileUsers found = find_file_users(k, target);
  Json users = Json::array();
  for (const FileUser& u : found.users) {
    const std::vector<std::string> words = usage_words(u);
    if (users.empty()) out.print(" PID         TASK        COMM             USAGE\n");
    std::string usage;
    for (const auto& w : words) usage += w + " ";
    out.print("{:>5}  {:016x}  {:<16} {}\n", u.task->pid, u.task->address.value(), fmt::format("\"{}\"", u.task->comm),
              usage);
    users.push_back({{"pid", u.task->pid},
                     {"task", json_hex(u.task->address)},
                     {"comm", u.task->comm},
                     {"usage", words},
                     {"fds", u.fds}});
  }
  if (found.users.empty()) out.print("No users of {} found\n", arg);
  for (const auto& p : found.problems) {
    out.print("(damaged: {})\n", p);
    out.data_lost(p);
  }
  Json problems = found.problems;
  return {{"argument", arg},
          {"inode", target.inode ? Json(json_hex(*target.inode)) : Json(nullptr)},
          {"users", std::move(users)},
          {"errors", std::move(problems)}};
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.positional().empty()) throw CommandError("a path or an inode address is needed (see 'help fuser')");
  const Kernel& k = session.kernel();
  Json results = Json::array();
  for (const std::string& arg : args.positional()) results.push_back(report(k, arg, out));
  out.result(std::move(results));
}

const CommandRegistrar registrar{
    {.name = "fuser",
     .summary = "tasks using a file",
     .usage = "fuser path | inode ...",
     .description = "Lists the tasks that use a file, given by its full path or by its inode address\n"
                    "(the INODE column of files): PID, task address, command, and how it is used —\n"
                    "'root' and 'cwd' when it is the task's root or working directory, 'fd' when the\n"
                    "task has it open, 'mmap' when one of its memory mappings maps it. Every task\n"
                    "is listed, threads and idle tasks included, since each holds its own\n"
                    "reference. A path is compared whole with the paths files and vm show (an\n"
                    "unlinked file matches with or without ' (deleted)'); several arguments are\n"
                    "reported one after the other.\n\n"
                    "A task, open file or memory map that cannot be read could hide a user: each\n"
                    "is listed after the users as '(damaged: ...)'.",
     .examples = "  kdive> fuser /tmp/kdive/known.txt\n"
                 "   PID         TASK        COMM             USAGE\n"
                 "     95  ffff98a5563f1f40  \"kd-files\"       fd\n\n"
                 "The users of an inode, by address:\n\n"
                 "  kdive> fuser ffff98a5412b0e80",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"argument", "inode", "users", "errors"},
              .notes = "One object per argument: inode the address given (null for a path), users a\n"
                       "list of {pid, task, comm, usage, fds} — usage the words of the text column\n"
                       "(\"root\", \"cwd\", \"fd\", \"mmap\"), fds the open fd numbers of the file —\n"
                       "and errors the tasks, files and memory maps that could not be read.",
              .example = "fuser /"}},
    run};

}  // namespace
}  // namespace kdive
