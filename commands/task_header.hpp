// The lines crash prints to name a task: the one-line header that starts each
// task's section in `task`, `files`, `bt` and `foreach` output, and the
// context block `set` shows.
//
//   out.print("{}\n", task_header(task));
//   // PID: 89       TASK: ffff9d8d01e41f40  CPU: 0    COMMAND: "kd-files"
#pragma once

#include <string>

#include "commands/api/json_values.hpp"
#include "kernel-model/tasks.hpp"

namespace kdive {

class Kernel;

class Output;

// A damaged task (Task::damage) is named by its pid and address only, with
// its marker in place of CPU and COMMAND, which its memory cannot be trusted for.
std::string task_header(const Task& task);
// The same identity in JSON: {"pid", "task", "cpu", "comm"}, or for a damaged
// task {"pid", "task", "error"}.
Json task_header_json(const Task& task);

// "(damaged: pid 0 in task_struct, IDR says 91)"
std::string damage_marker(const Task& task);
// For a damaged task: records it as data lost (batch exit status 3) and
// returns true, so the caller shows its marker instead of reading it.
bool report_if_damaged(const Task& task, Output& out);

// crash's `set` display:
//     PID: 127
// COMMAND: "sh"
//    TASK: ffff9d8d17bf3e80  [THREAD_INFO: ffff9d8d17bf3e80]
//     CPU: 0
//   STATE: TASK_RUNNING (PANIC)
std::string context_block(const Kernel& k, const Task& task);

}  // namespace kdive
