#include "commands/task_header.hpp"

#include <fmt/format.h>

#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

std::string task_header(const Task& t) {
  if (!t.damage.empty()) return fmt::format("PID: {:<8} TASK: {:x}  {}", t.pid, t.address.value(), damage_marker(t));
  return fmt::format("PID: {:<8} TASK: {:x}  CPU: {:<3}  COMMAND: \"{}\"", t.pid, t.address.value(), t.cpu, t.comm);
}

Json task_header_json(const Task& t) {
  if (!t.damage.empty()) return {{"pid", t.pid}, {"task", json_hex(t.address.value())}, {"error", t.damage}};
  return {{"pid", t.pid}, {"task", json_hex(t.address.value())}, {"cpu", t.cpu}, {"comm", t.comm}};
}

std::string damage_marker(const Task& t) { return fmt::format("(damaged: {})", t.damage); }

bool report_if_damaged(const Task& t, Output& out) {
  if (t.damage.empty()) return false;
  out.data_lost(fmt::format("task {:x} (pid {}): {}", t.address.value(), t.pid, t.damage));
  return true;
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
