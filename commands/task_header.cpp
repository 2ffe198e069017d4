#include "commands/task_header.hpp"

#include <fmt/format.h>

#include "commands/api/json_values.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

std::string task_header(const Task& t) {
  return fmt::format("PID: {:<8} TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"", t.pid, t.address.value(), t.cpu, t.comm);
}

Json task_header_json(const Task& t) {
  return {{"pid", t.pid}, {"task", json_hex(t.address.value())}, {"cpu", t.cpu}, {"comm", t.comm}};
}

std::string context_block(const Kernel& k, const Task& t) {
  // Since 4.9 (CONFIG_THREAD_INFO_IN_TASK, always on x86_64) thread_info is
  // the first member of task_struct: crash shows the task's own address.
  std::string mark;
  if (t.active) {
    auto panic_cpu = k.panic_cpu();
    mark = panic_cpu && *panic_cpu == t.cpu ? " (PANIC)" : " (ACTIVE)";
  }
  return fmt::format(
      "    PID: {}\n"
      "COMMAND: \"{}\"\n"
      "   TASK: {:x}  [THREAD_INFO: {:x}]\n"
      "    CPU: {}\n"
      "  STATE: {}{}\n",
      t.pid, t.comm, t.address.value(), t.address.value(), t.cpu, t.state_names(), mark);
}

}  // namespace kdive
