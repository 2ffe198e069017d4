// KdumpWriter: writes makedumpfile's kdump-compressed format (header_version 6)
// in one pass over the source, onto a file or a flattened stream.
//
// Layout (the format's structs: readers/kdump_format.hpp):
// block 0 disk_dump_header; block 1.. kdump_sub_header then the source's ELF
// notes; both bitmaps; the page_desc array; the shared zero page; page data in
// PFN order. The descriptor array is sized for DumpInfo::reserved_pages (the
// filter's count before zero detection) because zero pages are only found
// while copying; descriptors of the pages really written are contiguous from
// the start and unused slots stay zero — readers find a page's descriptor by
// counting set bits of the 2nd bitmap, so the slack is never indexed. The
// shared zero page follows the reserved slots; kdive's reader finds it past
// the zero slack (makedumpfile's cyclic mode leaves the same kind of slack).
// Bitmap bytes are written per window once the window's data and descriptors
// are out, so a dump cut short by ENOSPC or a signal is valid up to there.
// The header says INCOMPLETE (0x8) from the start; finish(true) clears it, so
// even a writer killed outright leaves a header that tells the truth.
//
//   FileSink sink(fd, "vmcore");
//   KdumpWriter w(sink, info);
//   w.begin();
//   for (...) w.write_window(pfn, slots);
//   w.finish(true);
#pragma once

#include <cstdint>
#include <vector>

#include "capture/writers/output_sink.hpp"
#include "capture/writers/page_writer.hpp"
#include "readers/kdump_format.hpp"

namespace kdive::capture {

class KdumpWriter : public PageWriter {
 public:
  KdumpWriter(OutputSink& sink, const DumpInfo& info);
  void begin() override;
  void write_window(uint64_t first_pfn, std::span<const PageSlot> slots) override;
  void finish(bool complete) override;
  uint64_t pages_written() const override { return desc_used_; }

 private:
  std::vector<std::byte> header_block(bool complete) const;
  void write_bitmaps(uint64_t first_pfn, std::span<const PageSlot> slots, size_t whole);

  OutputSink& sink_;
  DumpInfo info_;
  std::vector<std::byte> notes_;
  uint64_t bs_;
  uint64_t sub_hdr_blocks_ = 0;
  uint64_t bitmap_offset_ = 0;
  uint64_t bitmap_half_ = 0;  // bytes of one bitmap (block-aligned)
  uint64_t desc_offset_ = 0;
  uint64_t zero_page_offset_ = 0;
  uint64_t data_offset_ = 0;  // where the next page's data goes
  uint64_t desc_used_ = 0;
  std::vector<std::byte> scratch_;
};

}  // namespace kdive::capture
