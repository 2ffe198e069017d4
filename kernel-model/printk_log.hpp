// The kernel log (printk buffer) of a dump, as records: the lockless ring buffer of
// 5.10+ (struct printk_ringbuffer: a descriptor ring plus a text data ring) and the
// older variable-length buffer of struct printk_log records (3.5 – 5.9).
//
//   for (const LogRecord& r : read_printk_log(kernel)) ... r.text ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kdive {

class Kernel;

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

// The message that explains the crash, found in the log like crash does: the
// last "Kernel panic - not syncing" line, else the first oops-like line.
std::optional<std::string> find_panic_message(const std::vector<LogRecord>& log);

}  // namespace kdive
