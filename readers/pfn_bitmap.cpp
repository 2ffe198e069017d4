#include "readers/pfn_bitmap.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace kdive {
namespace {

// The on-disk bitmaps are byte arrays with PFN n at bit n%8 of byte n/8; on a
// little-endian host a memcpy into 64-bit words keeps PFN order bit for bit.
static_assert(std::endian::native == std::endian::little, "PfnBitmap assumes a little-endian host");

uint64_t low_bits(uint64_t n) { return n >= 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1; }

}  // namespace

PfnBitmap PfnBitmap::from_bytes(std::span<const std::byte> bytes, uint64_t first, uint64_t end) {
  PfnBitmap b;
  b.base_ = first & ~uint64_t{7};
  b.first_ = first;
  b.end_ = std::max(first, end);
  uint64_t bits = b.end_ - b.base_;
  b.words_.assign((bits + 63) / 64, 0);
  size_t n = std::min<uint64_t>(bytes.size(), (bits + 7) / 8);
  if (n != 0) std::memcpy(b.words_.data(), bytes.data(), n);
  if (!b.words_.empty()) {
    b.words_.front() &= ~low_bits(first - b.base_);
    uint64_t tail = bits % 64;
    if (tail != 0) b.words_.back() &= low_bits(tail);
  }
  b.build_rank();
  return b;
}

void PfnBitmap::build_rank() {
  rank_.assign(words_.size() / kWordsPerRankBlock + 1, 0);
  uint64_t running = 0;
  for (size_t i = 0; i < words_.size(); ++i) {
    if (i % kWordsPerRankBlock == 0) rank_[i / kWordsPerRankBlock] = running;
    running += std::popcount(words_[i]);
  }
  if (words_.size() % kWordsPerRankBlock == 0) rank_.back() = running;
}

uint64_t PfnBitmap::rank(uint64_t pfn) const {
  pfn = std::clamp(pfn, first_, end_);
  uint64_t bit = pfn - base_;
  uint64_t w = bit / 64;
  uint64_t block = w / kWordsPerRankBlock;
  uint64_t r = rank_[block];
  for (uint64_t i = block * kWordsPerRankBlock; i < w; ++i) r += std::popcount(words_[i]);
  if (w < words_.size()) r += std::popcount(words_[w] & low_bits(bit % 64));
  return r;
}

void PfnBitmap::for_each_run(const std::function<void(uint64_t, uint64_t)>& f) const {
  uint64_t total = end_ - base_;
  uint64_t bit = first_ - base_;
  // Next bit at or after `from` whose value is `want`, or `total`.
  auto next = [&](uint64_t from, bool want) {
    while (from < total) {
      uint64_t word = want ? words_[from / 64] : ~words_[from / 64];
      word &= ~low_bits(from % 64);
      if (word != 0) return std::min(total, (from & ~uint64_t{63}) + std::countr_zero(word));
      from = (from & ~uint64_t{63}) + 64;
    }
    return total;
  };
  while (bit < total) {
    uint64_t start = next(bit, true);
    if (start >= total) break;
    uint64_t stop = next(start, false);
    f(base_ + start, base_ + stop);
    bit = stop;
  }
}

PfnBitmap PfnBitmap::either(const PfnBitmap& a, const PfnBitmap& b) {
  if (a.first_ != b.first_ || a.end_ != b.end_) throw std::logic_error("PfnBitmap::either: ranges differ");
  PfnBitmap out = a;
  for (size_t i = 0; i < out.words_.size(); ++i) out.words_[i] |= b.words_[i];
  out.build_rank();
  return out;
}

}  // namespace kdive
