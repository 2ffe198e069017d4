// The kernel log (printk buffer) of a dump, as records: the lockless ring buffer of
// 5.10+ (struct printk_ringbuffer: a descriptor ring plus a text data ring) and the
// older variable-length buffer of struct printk_log records (3.5 – 5.9).
//
//   for (const LogRecord& r : read_printk_log(kernel)) ... r.text ...
//   read_printk_log(memory, StructLayout(vmcoreinfo), by_vmcoreinfo);  // no vmlinux
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;
class KernelMemory;
class StructLayout;

struct LogRecord {
  uint64_t seq = 0;
  uint64_t ts_nsec = 0;               // local_clock() when logged
  std::string text;                   // one record; may hold embedded newlines
  std::optional<int> level;           // 0..7 when known
  std::optional<uint32_t> caller_id;  // task id, or 0x80000000|cpu in interrupt context
  // The record's dictionary, "KEY=value" each: SUBSYSTEM= and DEVICE= from the
  // dev_info of the lockless ring (5.10+), or the dict text of older kernels.
  std::vector<std::string> dict;
  // Set when this record could not be read: what was wrong and where. It
  // stands in the record's place (seq: the record before it) so that a reader
  // sees the gap; its other fields are empty.
  std::string damage;
};

// All records, oldest first. Throws Error when the kernel has no known log
// buffer; a record that cannot be read is a record with `damage` in its place.
std::vector<LogRecord> read_printk_log(const Kernel& kernel);

// The same from memory, structure offsets and a symbol lookup alone — what a
// dump's VMCOREINFO gives (SYMBOL(prb) and the printk_ringbuffer offsets on
// 5.10+; SYMBOL(log_buf), log_buf_len, log_first_idx, log_next_idx and the
// printk_log offsets before), for tools that have no vmlinux.
using SymbolLookup = std::function<std::optional<VirtAddr>(std::string_view)>;
std::vector<LogRecord> read_printk_log(const KernelMemory& memory, const StructLayout& structs,
                                       const SymbolLookup& symbol);

// The message that explains the crash, found in the log like crash does: the
// last "Kernel panic - not syncing" line, else the first oops-like line.
std::optional<std::string> find_panic_message(const std::vector<LogRecord>& log);

}  // namespace kdive
