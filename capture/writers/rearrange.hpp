// rearrange_flattened: `kdive-dump -R` — turns a flattened stream (the -F
// output, read from a pipe such as ssh's stdin) back into the dump file it
// encodes, by writing each record's data at its offset. A stream that stops
// before its end marker (the sender died, the connection dropped) still gives
// a valid dump: its kdump header is marked INCOMPLETE, and the result says so.
//
//   FileSink out(fd, "vmcore");
//   RearrangeResult r = rearrange_flattened(STDIN_FILENO, "<stdin>", out);
//   if (!r.complete) ... r.problem ...
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "capture/writers/output_sink.hpp"

namespace kdive::capture {

struct RearrangeResult {
  bool complete = false;  // the end marker arrived
  uint64_t records = 0;
  uint64_t bytes = 0;   // data bytes written
  std::string problem;  // why the stream ended early, one line
  // The dump's own header says INCOMPLETE: the sender was cut short (ENOSPC,
  // a signal) though its stream ended properly, or the stream broke here.
  bool dump_incomplete = false;
  int stopped_by = 0;  // the stop flag's value when a stop request ended it
};

// Throws FormatError when the input does not start as a flattened stream (so
// nothing is worth keeping), WriteError when the output fails.
// `stop` (a signal handler's flag) ends the copy when a read is interrupted
// and the flag is set: the dump is kept as incomplete.
RearrangeResult rearrange_flattened(int in_fd, const std::string& in_name, OutputSink& out,
                                    const std::atomic<int>* stop = nullptr);

}  // namespace kdive::capture
