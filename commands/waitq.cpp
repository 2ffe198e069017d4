// waitq: the tasks sleeping on a wait queue (struct wait_queue_head), named
// by a symbol, a struct.member with the structure's address, or an address.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/container_args.hpp"
#include "commands/task_header.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/wait_queue.hpp"

namespace kdive {
namespace {

void run(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  const auto& words = args.positional();
  if (words.empty() || words.size() > 2) {
    throw CommandError("needs a wait queue: a symbol, struct.member and an address, or an address");
  }
  VirtAddr head;
  std::string label;
  if (words.size() == 2) {
    // struct.member ADDR: the wait_queue_head inside that structure.
    if (words[0].find('.') == std::string::npos) {
      throw CommandError(fmt::format("'{}': two arguments are struct.member and an address", words[0]));
    }
    head = parse_address(&k, words[1]) + parse_member_offset(k, words[0]);
  } else {
    head = parse_address(&k, words[0]);
    // A symbol is named in the "empty" line, as crash names it.
    if (k.find_symbol(words[0]) != nullptr) label = fmt::format("\"{}\" ", words[0]);
  }
  if (head.value() < kKernelHalf) throw CommandError(fmt::format("invalid kernel virtual address: {:x}", head.value()));
  Walked<WaitQueueEntry> w;
  try {
    // The head itself must be there: a walk from an unreadable head would only
    // mark a break where nothing was ever a wait queue.
    (void)k.memory().read_pointer(head);
    w = read_wait_queue(k, head);
  } catch (const ModelError& e) {
    throw CommandError(fmt::format("wait queue at {:x}: {}", head.value(), e.what()));
  }
  Json rows = Json::array();
  if (w.entries.empty() && w.breaks.empty()) {
    out.print("wait queue {}({:x}) is empty\n", label, head.value());
    return out.result(std::move(rows));
  }
  for (size_t i = 0; i <= w.entries.size(); ++i) {
    for (const WalkBreak* b : w.breaks_at(i)) mark_break(out, "waitq", *b, rows);
    if (i == w.entries.size()) break;
    const WaitQueueEntry& e = w.entries[i];
    std::string func;
    if (auto hit = k.symbol_at(e.func); hit && hit->offset == 0) func = hit->symbol->name;
    Json row = {{"entry", json_hex(e.entry.value())},
                {"private", json_hex(e.private_.value())},
                {"func", json_hex(e.func.value())},
                {"func_name", func.empty() ? Json(nullptr) : Json(func)},
                {"flags", e.flags}};
    if (const Task* t = k.tasks().by_address(e.task); t != nullptr && !e.task.is_null()) {
      out.print("{}\n", task_header(*t));
      row["task"] = task_header_json(*t);
    } else {
      // Not a task: a poll table, an io_uring request, ... named by its wake function.
      out.print("ENTRY: {:016x}  PRIVATE: {:016x}  FUNC: {}\n", e.entry.value(), e.private_.value(),
                func.empty() ? fmt::format("{:x}", e.func.value()) : func);
      row["task"] = nullptr;
    }
    rows.push_back(std::move(row));
  }
  out.result(std::move(rows));
}

const CommandRegistrar registrar{
    {.name = "waitq",
     .summary = "tasks waiting on a wait queue",
     .usage = "waitq symbol | struct.member address | address",
     .description = "Lists the waiters queued on a wait queue (struct wait_queue_head): for each one\n"
                    "whose private pointer is a task, the task's line as ps names it; for any other\n"
                    "waiter (a poll table, an io_uring request), the entry, its private pointer and\n"
                    "its wake function. The queue is named by\n\n"
                    "  symbol                a global wait_queue_head (\"log_wait\");\n"
                    "  struct.member address the wait queue member of the structure at that address\n"
                    "                        (\"signal_struct.wait_chldexit ffff...\");\n"
                    "  address               the address of a wait_queue_head.\n\n"
                    "A queue whose links are damaged shows '(damaged: ...)' where the walk broke and\n"
                    "the waiters reached past it from the other end.",
     .examples = "  kdive> waitq log_wait\n"
                 "  PID: 212      TASK: ffff8da6036b0000  CPU: 1    COMMAND: \"klogd\"\n\n"
                 "  kdive> waitq signal_struct.wait_chldexit ffff8da6011e5680\n"
                 "  wait queue (ffff8da6011e5698) is empty",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"entry", "private", "func", "func_name", "flags", "task"},
              .notes = "One object per waiter, in queue order; task is {pid, task, cpu, comm} when the\n"
                       "private pointer is a known task, else null. A break in the queue is\n"
                       "{error, at}. The list may be empty: an empty queue gives [].",
              .example = "waitq log_wait"}},
    run};

}  // namespace
}  // namespace kdive
