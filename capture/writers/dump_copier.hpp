// DumpCopier: makes a dump from a source in one pass over its memory, as
// makedumpfile does: a counting pass asks the classifier which page frames to
// keep (no page is read), then the copy pass reads the kept pages a window at
// a time, drops zero pages at dump level bit 1, compresses on worker threads
// (reading the next window and writing the last meanwhile) and hands each
// window to the format writer in PFN order. Memory is bounded by the windows
// (window_pages × page size, four times), whatever the source's size.
//
// Stopping early is not losing data silently: a write error (ENOSPC) or a stop
// request (SIGINT, SIGTERM) finishes every part as an incomplete dump holding
// what was written, and the result says so.
//
//   SourceRangeClassifier::... or the page filter, through a factory:
//   CopyOptions opt{.dump_level = 31, .codec = PageCodec::Zstd};
//   FileSink sink(fd, "vmcore");
//   CopyResult r = copy_dump(*source, factory, {&sink}, opt);
//   if (!r.complete) ... r.error ...
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "capture/filter/page_class.hpp"
#include "capture/writers/output_sink.hpp"
#include "capture/writers/page_classifier.hpp"
#include "readers/dump_source.hpp"
#include "readers/page_codec.hpp"

namespace kdive::capture {

enum class OutputFormat { Kdump, Elf };

struct CopyOptions {
  int dump_level = 0;
  PageCodec codec = PageCodec::Zlib;  // kdump only; ELF pages are raw
  OutputFormat format = OutputFormat::Kdump;
  unsigned threads = 1;  // compressing threads, the caller included
  // Rounded up to a multiple of 8. Two windows are in flight (one read or
  // written while the other is compressed), each with a raw and a packed
  // buffer: 512 pages is 8 MiB of buffers at 4 KiB pages, small beside the
  // ~25 MiB a 96 MiB capture reservation leaves free, large enough that the
  // threads rarely wait on each other.
  size_t window_pages = 512;
  // Set (to the signal number, or any non-zero value) to stop after the
  // current window; the dump is finished as incomplete.
  const std::atomic<int>* stop = nullptr;
  // Called after each window: PFNs done and in all.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct CopyResult {
  bool complete = false;
  PageClassCounts counts;                            // per class; Kept = pages written
  uint64_t source_excluded = 0;                      // kept frames the source had already filtered out
  uint64_t source_missing = 0;                       // kept frames the source does not hold (truncated, lost)
  uint64_t unreadable = 0;                           // kept frames whose data in the source is damaged
  std::vector<uint64_t> unreadable_pfns;             // the first few of them, for the message
  int stopped_by = 0;                                // the stop flag's value when a stop request ended the copy
  std::string error;                                 // the write error that ended the copy, one line
  std::vector<std::pair<uint64_t, uint64_t>> parts;  // each output's PFN range
};

// Writes the dump of `source` to `sinks`: one sink for a whole dump, several
// for a split dump (each a PFN range holding about the same number of kept
// pages). Throws only for what happens before anything is written (no
// memory in the source, a bad option); write errors and stops end up in the
// result, with every part finished as a valid (incomplete) dump.
CopyResult copy_dump(DumpSource& source, const ClassifierFactory& classifier, std::span<OutputSink* const> sinks,
                     const CopyOptions& options);

}  // namespace kdive::capture
