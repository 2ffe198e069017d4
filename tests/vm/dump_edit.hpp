// Damaged copies of a fixture's dump, for tests of what kdive does when a kernel
// object is corrupted or part of the dump is missing. The fixture itself is only
// ever read: every edit goes to a private copy that is removed at the end.
//
//   DamagedDump d = DamagedDump::copy_of(suite(), "elf");     // tmp/vmcore.elf
//   VirtAddr task = task_address(suite(), 1);
//   d.zero(task + member_offset(suite(), "struct task_struct", "comm"), 16);
//   d.write_u64(task + member_offset(suite(), "struct task_struct", "tasks.next"), 0);
//   KdiveRun r = d.run("ps", "--json");                       // kdive on the copy
//
//   copy_without_notes(dir / "vmcore.elf", tmp / "vmcore.elf", {"VMCOREINFO"});
//   copy_with_device_dump(dir / "vmcore.elf", tmp / "vmcore.elf", "nic", bytes);
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "readers/address.hpp"
#include "run_kdive.hpp"

namespace kdive {
class Kernel;
class FileSource;
struct ElfCore;
struct ElfSegment;
}  // namespace kdive

namespace kdive::test {

// Where some bytes of kernel virtual memory lie in an ELF dump file.
struct DumpBytes {
  VirtAddr virt;
  PhysAddr phys;    // through the dump's own kernel page table
  uint64_t offset;  // in the file, through the PT_LOAD headers
  uint64_t size;    // never crosses a page boundary
};

// A private copy of one fixture's ELF dump in a temporary directory, edited in
// terms of kernel virtual addresses. Addresses are translated through the page
// tables of the original dump (opened read-only with kdive's own Kernel), one
// page at a time, so a range may span pages that are not physically adjacent
// (a vmalloc'ed stack). An edit is all or nothing: when any byte of the range is
// not in the dump (unmapped, or a page the dump does not hold), it throws
// std::runtime_error naming the address and the copy is left as it was.
class DamagedDump {
 public:
  // Copies `<fixture>/vmcore.<format>`; only "elf" can be edited (a kdump
  // dump's pages are compressed). The copy is sparse: runs of zero pages
  // become holes, so it takes about a fifth of the original's disk space.
  static DamagedDump copy_of(const std::string& suite, const std::string& format = "elf");

  DamagedDump(DamagedDump&&) noexcept;
  DamagedDump& operator=(DamagedDump&&) noexcept;
  DamagedDump(const DamagedDump&) = delete;
  DamagedDump& operator=(const DamagedDump&) = delete;
  ~DamagedDump();  // removes the copy and its directory

  const std::filesystem::path& path() const { return copy_; }  // the damaged copy
  const std::filesystem::path& original() const { return original_; }
  const std::filesystem::path& vmlinux() const { return vmlinux_; }

  // Zeroes exactly [at, at + size) of kernel virtual memory.
  void zero(VirtAddr at, uint64_t size);
  // Overwrites the 8 bytes at `at` (a pointer or counter field), little-endian.
  void write_u64(VirtAddr at, uint64_t value);
  // Overwrites the 4 bytes at `at` (an int or flags field), little-endian.
  void write_u32(VirtAddr at, uint32_t value);
  // The 8 bytes at `at` in the original dump (little-endian), for edits that
  // rewrite a value from what it was; throws like the edits.
  uint64_t read_u64(VirtAddr at);
  // Overwrites [at, at + bytes.size()).
  void write(VirtAddr at, std::span<const std::byte> bytes);

  // Where [at, at + size) lies in the file, one piece per page; throws like the
  // edits when any byte is not in the dump. Each piece is checked against
  // kdive's own read of that virtual address in the original.
  std::vector<DumpBytes> locate(VirtAddr at, uint64_t size);

  // "'<vmlinux>' '<copy>'", shell-quoted, for run_kdive_args.
  std::string kdive_files() const;
  // kdive in batch mode on the copy: `options` ("--json") go first.
  KdiveRun run(const std::string& commands, const std::string& options = "") const;

 private:
  DamagedDump() = default;
  std::filesystem::path dir_;  // empty once moved from
  std::filesystem::path copy_;
  std::filesystem::path original_;
  std::filesystem::path vmlinux_;
  std::unique_ptr<FileSource> original_file_;
  std::unique_ptr<ElfCore> layout_;
  std::unique_ptr<Kernel> kernel_;  // of the original, opened on the first edit
};

// Facts about a fixture's kernel objects, asked of kdive (`--json`) on the
// fixture's own ELF dump; each throws std::runtime_error with kdive's answer
// when it has none.
//
// The value of `p EXPRESSION` as a number (an integer or a pointer).
uint64_t print_value(const std::string& suite, const std::string& expression);
// The task_struct of the task (thread) with this pid, from `ps PID`.
VirtAddr task_address(const std::string& suite, int64_t pid);
// sizeof(TYPE): type_size(suite, "struct task_struct").
uint64_t type_size(const std::string& suite, const std::string& type);
// offsetof(TYPE, MEMBER), MEMBER possibly nested: member_offset(suite, "struct task_struct", "tasks.next").
uint64_t member_offset(const std::string& suite, const std::string& type, const std::string& member);
// &SYMBOL: symbol_address(suite, "init_pid_ns").
VirtAddr symbol_address(const std::string& suite, const std::string& symbol);
// per_cpu(SYMBOL, CPU): per_cpu_address(suite, "runqueues", 0) is CPU 0's struct rq.
VirtAddr per_cpu_address(const std::string& suite, const std::string& symbol, int cpu);

// The PT_LOAD segment of an ELF dump whose bytes in the file hold physical
// address `phys`, or the byte at file offset `offset`; nullptr when none does
// (a hole, or a segment's [filesz, memsz) tail, which was never written).
const ElfSegment* segment_holding_physical(const ElfCore& layout, uint64_t phys);
const ElfSegment* segment_holding_offset(const ElfCore& layout, uint64_t offset);

// The shell quoting run_kdive_args expects: 'text', with ' escaped.
std::string shell_quote(const std::string& text);

// Copies an ELF dump and renames the given notes ("VMCOREINFO", "QEMU") so
// readers no longer recognize them: a QEMU dump taken without -device
// vmcoreinfo, or a dump with no CPU state at all.
void copy_without_notes(const std::filesystem::path& from, const std::filesystem::path& to,
                        const std::vector<std::string>& names);

// Copies an ELF dump (sparse) and adds a device dump to its notes: an
// NT_VMCOREDD note named "LINUX" holding `name` (at most 43 characters) and
// `data`, as a capture kernel's driver would add it. The notes, with the new
// one last, move to the end of the copy and its PT_NOTE header points there.
// Returns the file offset of the device dump's data.
uint64_t copy_with_device_dump(const std::filesystem::path& from, const std::filesystem::path& to,
                               const std::string& name, std::span<const std::byte> data);

}  // namespace kdive::test
