#include "analyzer/session.hpp"

#include "commands/command.hpp"

namespace kdive {

Kernel& Session::kernel() const {
  if (kernel_ == nullptr) throw CommandError("no dump is open (start kdive with VMLINUX VMCORE)");
  return *kernel_;
}

}  // namespace kdive
