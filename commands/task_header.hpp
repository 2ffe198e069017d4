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

std::string task_header(const Task& task);
// The same identity in JSON: {"pid", "task", "cpu", "comm"}.
Json task_header_json(const Task& task);

// crash's `set` display:
//     PID: 127
// COMMAND: "sh"
//    TASK: ffff9d8d17bf3e80  [THREAD_INFO: ffff9d8d17bf3e80]
//     CPU: 0
//   STATE: TASK_RUNNING (PANIC)
std::string context_block(const Kernel& k, const Task& task);

}  // namespace kdive
