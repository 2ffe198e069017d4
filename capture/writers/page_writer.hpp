// PageWriter: the format side of making a dump. The copier (dump_copier.hpp)
// reads, filters and compresses pages; a PageWriter lays them out as one dump
// format on an OutputSink, a window of page frames at a time, in PFN order.
// Writers never hold more than one window: memory stays bounded.
//
//   KdumpWriter w(sink, info);                 // kdump_writer.hpp, elf_writer.hpp
//   w.begin();
//   w.write_window(first_pfn, slots);          // throws WriteError (whole pages kept)
//   w.finish(/*complete=*/true);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "readers/dump_notes.hpp"
#include "readers/page_codec.hpp"

namespace kdive::capture {

// What becomes of one page frame in the output.
enum class SlotState : uint8_t {
  Hole,      // not RAM, or not in the source: in no bitmap
  Excluded,  // RAM left out (dump level, or already filtered in the source)
  Zero,      // kept, all zeros: kdump points it at the shared zero page
  Stored,    // kept: `size` bytes at `data`, compressed with `codec` (Raw: a page)
};

struct PageSlot {
  SlotState state = SlotState::Hole;
  PageCodec codec = PageCodec::Raw;
  uint32_t size = 0;
  const std::byte* data = nullptr;
};

// What every format's header says, from the source dump.
struct DumpInfo {
  uint64_t page_size = 4096;
  uint64_t max_pfn = 0;  // one past the highest page frame
  const DumpNotes* notes = nullptr;
  int dump_level = 0;
  PageCodec codec = PageCodec::Raw;  // the status word's compression flag
  // A split part holds PFNs [start_pfn, end_pfn); a whole dump 0..max_pfn.
  bool split = false;
  uint64_t start_pfn = 0;
  uint64_t end_pfn = 0;
  // Kept pages before zero detection, from the filter's counting pass: room
  // for this many page descriptors is set aside (single-pass writing).
  uint64_t reserved_pages = 0;
};

class PageWriter {
 public:
  virtual ~PageWriter() = default;
  // Writes the headers and sets aside the metadata areas. Throws WriteError.
  virtual void begin() = 0;
  // `slots[i]` is page frame first_pfn + i; windows come in increasing order,
  // start on a multiple of 8 frames, and stay inside [start_pfn, end_pfn).
  // On WriteError the pages whose data was written whole are recorded first.
  virtual void write_window(uint64_t first_pfn, std::span<const PageSlot> slots) = 0;
  // Completes the metadata. complete=false marks the dump INCOMPLETE (kdump)
  // or trims the segments to what was written (ELF). Throws WriteError.
  virtual void finish(bool complete) = 0;
  virtual uint64_t pages_written() const = 0;
};

// The ELF note stream to carry into a new dump: the source's notes, padded to
// 4 bytes, with a VMCOREINFO note added when the source had only the text.
std::vector<std::byte> notes_for_output(const DumpNotes& notes);

}  // namespace kdive::capture
