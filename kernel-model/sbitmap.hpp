// A struct sbitmap_queue — the scalable bitmap allocator behind blk-mq tags,
// SCSI target sessions and others — with its bitmap words, as crash's
// `sbitmapq` shows it: depth, bits per word, the set and cleared bits of
// every word, the per-CPU allocation hints, the wake batch and the wait
// queues.
//
// The bitmap is sb.map[0 .. map_nr), each struct sbitmap_word holding up to
// 1 << sb.shift bits (the last one depth - index << shift). A bit in use is
// set in `word`; since 5.0 ("sbitmap: use a deferred clear mechanism") a
// freed bit may first be set in `cleared` and only later taken out of `word`,
// so a bit is busy when set in word and not in cleared. Versions differ,
// probed by member, never by version number:
//  * alloc_hint (per-CPU) and round_robin moved from sbitmap_queue into
//    sbitmap in 5.13 ("sbitmap: move allocation hint into sbitmap");
//  * sbitmap_word.depth went away later: the depth of a word is then
//    computed from shift and depth, as the kernel's __map_depth() does;
//  * sbq_wait_state.wait_cnt went away with the single per-bitmap wakeup
//    counting of 6.x;
//  * ws_active (5.0) and min_shallow_depth (4.18) are newer than the struct.
//
// Nothing is trusted blindly: a shift above 6, a map_nr that does not cover
// depth, or a word that cannot be read is named in `problems`; the words
// that can be read are still returned.
//
//   SbitmapQueue q = read_sbitmap_queue(k, VirtAddr{0xffff...});
//   q.depth; q.map_nr; q.busy();
//   for (uint32_t bit : q.busy_bits()) ...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class Kernel;

struct SbitmapWord {
  VirtAddr at;         // the struct sbitmap_word
  uint32_t depth = 0;  // bits of this word in use by the bitmap
  uint64_t word = 0;
  uint64_t cleared = 0;  // 0 before 5.0
  std::string error;     // set when the word could not be read
};

struct SbqWaitState {
  VirtAddr at;                      // struct sbq_wait_state
  std::optional<int64_t> wait_cnt;  // before 6.4
  bool active = false;              // a task waits on it (its wait list is not empty)
  std::string error;
};

struct SbitmapQueue {
  VirtAddr address;  // struct sbitmap_queue
  uint32_t depth = 0;
  uint32_t shift = 0;
  uint32_t map_nr = 0;
  VirtAddr map;
  bool has_cleared = false;  // sbitmap_word.cleared exists (5.0+)
  std::vector<SbitmapWord> words;
  VirtAddr alloc_hint;                               // the per-CPU unsigned int
  std::vector<std::optional<uint32_t>> alloc_hints;  // per possible CPU
  uint32_t wake_batch = 0;
  int32_t wake_index = 0;
  std::optional<int32_t> ws_active;
  VirtAddr ws;
  std::vector<SbqWaitState> wait_states;
  std::optional<bool> round_robin;
  std::optional<uint32_t> min_shallow_depth;
  std::vector<std::string> problems;  // what is inconsistent or could not be read

  uint32_t bits_per_word() const { return 1U << shift; }
  // Bits set in word (within each word's depth), bits set in cleared, and the
  // difference — what crash prints as busy — over the words that were read.
  uint32_t set_bits() const;
  uint32_t cleared_bits() const;
  uint32_t busy() const;
  // The bitmap indexes that are set and not cleared, in order.
  std::vector<uint32_t> busy_bits() const;
};

// Reads the sbitmap_queue at `address`. Throws Fault when the structure
// itself cannot be read and Error(Lookup) when the kernel has no such type.
SbitmapQueue read_sbitmap_queue(const Kernel& k, VirtAddr address);

// The number of wait queues of every sbitmap_queue (SBQ_WAIT_QUEUES, a
// #define in include/linux/sbitmap.h that DWARF does not carry).
constexpr int kSbqWaitQueues = 8;

}  // namespace kdive
