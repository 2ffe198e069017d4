// Selecting tasks by the arguments ps, task, set and foreach take, as crash
// does: a PID ("126"), a task_struct address ("ffff948b5818ddc0"), or a command
// name ("kd-sleeper"), or a regular expression on the name ("'kd-.*'" in crash;
// the shell takes the quotes off, so a word that names no task but holds regex
// characters is a pattern too). No arguments select every task.
//
//   auto tasks = select_tasks(kernel, table, {"1", "kd-busy"});   // throws CommandError
//   auto mine = tasks_or_context(session, args.positional());     // bt, files, vm, ...
#pragma once

#include <string>
#include <vector>

#include "kernel-model/tasks.hpp"

namespace kdive {

class Kernel;
class Session;

std::vector<const Task*> select_tasks(const Kernel& k, const TaskTable& table, const std::vector<std::string>& words);

// What a per-task command (bt, files, vm, net, sig, task) runs on: the tasks
// the words name, or the current context's task when there are no words.
std::vector<const Task*> tasks_or_context(Session& session, const std::vector<std::string>& words);

}  // namespace kdive
