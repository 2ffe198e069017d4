// PfnBitmap: one bit per page frame, as kdump-compressed dumps store them (bit
// pfn%8 of byte pfn/8, least significant first), with rank queries — "how many
// set bits before this PFN" — in O(1)-ish time. The kdump reader uses rank on
// the 2nd bitmap to find a page's descriptor without scanning the bitmap.
//
//   PfnBitmap b = PfnBitmap::from_bytes(bytes, /*first=*/0, /*end=*/max_mapnr);
//   b.test(pfn);       // bit set?
//   b.rank(pfn);       // set bits in [first, pfn)
//   b.for_each_run(...);
//
// A bitmap covers PFNs [first, end) only (a split dump part keeps its own
// range); bits outside read as clear, whatever the file held there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace kdive {

class PfnBitmap {
 public:
  PfnBitmap() = default;

  // `bytes` holds the bitmap from the byte containing PFN `first` on:
  // bytes[0] is byte first/8 of the on-disk bitmap. It must hold at least
  // ceil(end/8) - first/8 bytes (fewer: the missing bits read as clear).
  static PfnBitmap from_bytes(std::span<const std::byte> bytes, uint64_t first, uint64_t end);

  uint64_t first() const { return first_; }
  uint64_t end() const { return end_; }
  bool test(uint64_t pfn) const {
    if (pfn < first_ || pfn >= end_) return false;
    uint64_t bit = pfn - base_;
    return (words_[bit / 64] >> (bit % 64)) & 1;
  }
  // Set bits in [first, pfn); pfn is clamped to [first, end].
  uint64_t rank(uint64_t pfn) const;
  uint64_t count() const { return rank(end_); }

  // Calls f(start, end) for each maximal run of set bits, in PFN order.
  void for_each_run(const std::function<void(uint64_t, uint64_t)>& f) const;

  // A bitmap with the bits of both (same range required).
  static PfnBitmap either(const PfnBitmap& a, const PfnBitmap& b);

 private:
  static constexpr uint64_t kWordsPerRankBlock = 8;  // one rank entry per 512 PFNs

  void build_rank();

  uint64_t base_ = 0;  // PFN of bit 0 of words_[0]: first_ rounded down to 64
  uint64_t first_ = 0;
  uint64_t end_ = 0;
  std::vector<uint64_t> words_;
  std::vector<uint64_t> rank_;  // set bits before words_[i * kWordsPerRankBlock]
};

}  // namespace kdive
