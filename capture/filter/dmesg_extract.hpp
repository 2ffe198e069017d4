// The kernel log of a dump without a vmlinux (kdive-dump --dump-dmesg): the
// printk buffer found through VMCOREINFO alone — SYMBOL(prb) and the
// printk_ringbuffer / prb_desc / printk_info offsets the kernel exports since
// 5.10, or SYMBOL(log_buf) and the printk_log offsets before — read through
// the kernel's page tables (a layout from VMCOREINFO), by the same reader the
// shell's `log` uses.
//
//   DmesgText log = extract_dmesg(*open_dump("vmcore"));   // throws FilterError
//   for (const std::string& line : log.lines) out << line << '\n';
//   log.lost;   // records that could not be read, one line each
#pragma once

#include <string>
#include <vector>

#include "readers/dump_source.hpp"

namespace kdive::capture {

struct DmesgText {
  // What `dmesg` prints: "[    1.234567] text", one line per line of each
  // record (a record with embedded newlines gives several, each stamped).
  std::vector<std::string> lines;
  // Records lost to damage, one line each (also marked in `lines` where
  // they were, so the reader sees the gap).
  std::vector<std::string> lost;
};

// Throws FilterError when the dump has no VMCOREINFO or it lacks the keys
// the log needs (naming the first missing key).
DmesgText extract_dmesg(DumpSource& source);

// One record as dmesg shows it: "[%5llu.%06llu] " then each line of `text`.
std::vector<std::string> dmesg_lines(uint64_t ts_nsec, const std::string& text);

}  // namespace kdive::capture
