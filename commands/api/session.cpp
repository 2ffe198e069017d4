#include "commands/api/session.hpp"

#include "commands/api/command.hpp"

namespace kdive {

Kernel& Session::kernel() const {
  if (kernel_ == nullptr) throw CommandError("no dump is open (start kdive with VMLINUX VMCORE)");
  return *kernel_;
}

const Task& Session::context() const {
  const Kernel& k = kernel();
  if (context_) {
    if (const Task* t = k.tasks().by_address(*context_)) return *t;
  }
  return k.default_task();
}

}  // namespace kdive
