#include "kernel-model/syscall_table.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {
namespace {

// x86_64 has ~460 system calls; a table this long is a bad symbol size.
constexpr uint64_t kMaxSyscalls = 4096;

// Source positions from DWARF line tables, on a libdw handle of its own (the
// TypeSystem's handle belongs to the type engine and its index thread).
class LineLookup {
 public:
  explicit LineLookup(const std::filesystem::path& vmlinux) {
    fd_ = ::open(vmlinux.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ >= 0) dwarf_ = dwarf_begin(fd_, DWARF_C_READ);
  }
  ~LineLookup() {
    if (dwarf_ != nullptr) dwarf_end(dwarf_);
    if (fd_ >= 0) ::close(fd_);
  }
  LineLookup(const LineLookup&) = delete;
  LineLookup& operator=(const LineLookup&) = delete;

  // `address` is a link-time (unrelocated) vmlinux address.
  void find(uint64_t address, SyscallEntry& e) {
    if (dwarf_ == nullptr) return;
    Dwarf_Die cu;
    if (dwarf_addrdie(dwarf_, address, &cu) == nullptr) return;
    Dwarf_Line* line = statement_at(&cu, address);
    if (line == nullptr) line = dwarf_getsrc_die(&cu, address);
    if (line == nullptr) return;
    const char* src = dwarf_linesrc(line, nullptr, nullptr);
    int lineno = 0;
    if (src == nullptr || dwarf_lineno(line, &lineno) != 0) return;
    std::string file = src;
    // The name as the line table records it, joined to its directory entry.
    // Debian's reproducible builds map the source tree to a relative root, so
    // this is "fs/read_write.c"; an absolute name under the compilation
    // directory is shown relative to it, which is how gdb shows it.
    Dwarf_Attribute attr;
    if (const char* dir = dwarf_formstring(dwarf_attr(&cu, DW_AT_comp_dir, &attr))) {
      std::string prefix = std::string(dir) + "/";
      if (file.compare(0, prefix.size(), prefix) == 0) file.erase(0, prefix.size());
    }
    e.file = std::move(file);
    e.line = lineno;
  }

 private:
  // Several rows of a line table can share an address (SYSCALL_DEFINE0's
  // line, then the brace; or a non-statement row of inlined code first).
  // dwarf_getsrc_die answers with the last row; gdb and crash with the last
  // row that begins a statement, so take that one.
  static Dwarf_Line* statement_at(Dwarf_Die* cu, uint64_t address) {
    Dwarf_Lines* lines = nullptr;
    size_t count = 0;
    if (dwarf_getsrclines(cu, &lines, &count) != 0) return nullptr;
    Dwarf_Line* found = nullptr;
    for (size_t i = 0; i < count; ++i) {
      Dwarf_Line* line = dwarf_onesrcline(lines, i);
      Dwarf_Addr at = 0;
      bool statement = false;
      if (line == nullptr || dwarf_lineaddr(line, &at) != 0 || at != address) continue;
      if (dwarf_linebeginstatement(line, &statement) == 0 && statement) found = line;
    }
    return found;
  }

  int fd_ = -1;
  Dwarf* dwarf_ = nullptr;
};

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

  std::unique_ptr<LineLookup> lines;
  if (source_lines) lines = std::make_unique<LineLookup>(k.vmlinux().path());
  std::vector<SyscallEntry> out;
  for (uint64_t i = 0; i < count; ++i) {
    SyscallEntry e;
    e.number = static_cast<int>(i);
    e.handler = VirtAddr{slots[i]};
    e.symbol = handler_name(k.symbols(), e.handler);
    if (!e.symbol.empty() && lines) lines->find(slots[i] - k.symbols().relocation(), e);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace kdive
