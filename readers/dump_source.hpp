// DumpSource: one opened dump (or live memory), seen as physical memory plus the
// dump's notes. Every format reader implements it, and nothing above readers/
// knows which format it reads.
//
//   auto dump = open_dump("vmcore");            // sniffs the format, throws FormatError
//   std::array<std::byte, 64> buf;
//   PageState s = dump->read_phys(PhysAddr{0x1000}, buf);
//   if (s == PageState::Excluded) ...           // filtered out by makedumpfile -d
//
// Each reader states its rules explicitly in its header: what a hole reads as
// and what counts as missing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "readers/address.hpp"
#include "readers/dump_notes.hpp"

namespace kdive {

enum class PageState {
  Present,   // the bytes were read from the dump
  Zero,      // the dump records the page as all zeros; `out` is zero-filled
  Excluded,  // the page existed but was filtered out when the dump was made
  Missing,   // not in the dump: a hole, beyond the dumped ranges, or lost (incomplete dump);
             // DumpSource::lost_from_file tells the lost apart
};

std::string_view to_string(PageState s);

struct PhysRange {
  PhysAddr start;
  uint64_t size;
};

class DumpSource {
 public:
  virtual ~DumpSource() = default;

  // A short format name: "elf", "kdump-zlib", "kdump-flattened-zlib", "kcore", ...
  virtual std::string format() const = 0;
  virtual uint64_t page_size() const { return 4096; }

  // Reads `out.size()` bytes at `addr`. The range must not cross a page boundary
  // (callers translate page by page anyway); that is checked and a violation throws
  // std::logic_error. Bytes of a page that is not Present/Zero are left zero.
  virtual PageState read_phys(PhysAddr addr, std::span<std::byte> out) = 0;

  // For an address read_phys calls Missing: true when the dump's own layout
  // has it (inside an ELF segment, a kdump PFN that is no hole) and only the
  // file lacks its bytes — a truncated file, an incomplete dump — false for a
  // hole between or past the dumped ranges. The distinction is crash's: with
  // `set zero_excluded on` it reads the first as zeros (a short read of a
  // segment is zero-filled) and still refuses the second.
  virtual bool lost_from_file(PhysAddr addr) const {
    (void)addr;
    return false;
  }

  // The physical ranges the dump covers (including excluded pages inside them).
  virtual std::vector<PhysRange> ranges() const = 0;

  virtual const DumpNotes& notes() const = 0;

  // Files behind this source, for messages ("DUMPFILE: ...").
  virtual std::vector<std::string> files() const = 0;

  // Problems found while opening that do not stop the dump from being used
  // ("truncated: 312 of 512 MiB present"), one line each.
  virtual std::vector<std::string> warnings() const { return {}; }
};

// Throws std::logic_error when [addr, addr+len) crosses a page.
void check_within_page(PhysAddr addr, size_t len, uint64_t page_size);

}  // namespace kdive
