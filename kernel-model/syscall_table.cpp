#include "kernel-model/syscall_table.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// x86_64 has ~460 system calls; a table this long is a bad symbol size.
constexpr uint64_t kMaxSyscalls = 4096;

// A handler of a system call without arguments has three names at one address
// (SYSCALL_DEFINE0 in arch/x86/include/asm/syscall_wrapper.h since 4.17):
// __do_sys_X, and __x64_sys_X and __ia32_sys_X as aliases. The table's own
// entry (arch/x86/entry/syscalls/syscall_64.tbl) is __x64_sys_X: prefer it.
std::string handler_name(const SymbolTable& symbols, VirtAddr address) {
  auto hit = symbols.containing(address);
  if (!hit) return "";
  if (hit->offset != 0) return fmt::format("{}+{:#x}", hit->symbol->name, hit->offset);
  const auto& all = symbols.all();
  auto it =
      std::lower_bound(all.begin(), all.end(), address, [](const Symbol& s, VirtAddr a) { return s.address < a; });
  for (; it != all.end() && it->address == address; ++it) {
    if (it->name.rfind("__x64_sys_", 0) == 0) return std::string(it->name);
  }
  return std::string(hit->symbol->name);
}

}  // namespace

std::vector<SyscallEntry> read_syscall_table(const Kernel& k, bool source_lines) {
  const Symbol* table = k.symbols().find("sys_call_table");
  if (table == nullptr) throw Error(Error::Kind::Lookup, "sys_call_table does not exist in this kernel");
  uint64_t count = table->size / KernelMemory::kPointerSize;
  if (count == 0 || count > kMaxSyscalls) {
    throw Error(Error::Kind::BadData, fmt::format("sys_call_table has an implausible size ({} bytes)", table->size));
  }
  std::vector<uint64_t> slots(count);
  k.memory().read(table->address, {reinterpret_cast<std::byte*>(slots.data()), count * sizeof(uint64_t)});

  std::vector<SyscallEntry> out;
  for (uint64_t i = 0; i < count; ++i) {
    SyscallEntry e;
    e.number = static_cast<int>(i);
    e.handler = VirtAddr{slots[i]};
    e.symbol = handler_name(k.symbols(), e.handler);
    if (!e.symbol.empty() && source_lines) {
      // The same lookup as sym's, so both name a source line alike.
      if (auto where = k.source_line(e.handler.value())) {
        e.file = std::move(where->file);
        e.line = where->line;
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace kdive
