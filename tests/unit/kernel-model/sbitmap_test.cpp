// The bit counts of an sbitmap_queue's words, and the memlock estimate of a
// BPF map whose kernel no longer records it: pure computations on values the
// readers filled in, checked on hand-built words and maps.
#include "kernel-model/sbitmap.hpp"

#include <catch2/catch.hpp>

#include "kernel-model/bpf_objects.hpp"

using kdive::BpfMap;
using kdive::estimated_map_memory;
using kdive::SbitmapQueue;
using kdive::SbitmapWord;

namespace {

SbitmapWord word(uint32_t depth, uint64_t bits, uint64_t cleared = 0) {
  SbitmapWord w;
  w.depth = depth;
  w.word = bits;
  w.cleared = cleared;
  return w;
}

}  // namespace

TEST_CASE("sbitmap: busy bits are set in word and not deferred-cleared", "[sbitmap]") {
  SbitmapQueue q;
  q.shift = 6;
  q.depth = 70;
  q.map_nr = 2;
  q.has_cleared = true;
  // Word 0: bits 0, 1, 5 set, bit 1 already freed into cleared.
  q.words.push_back(word(64, 0b100011, 0b10));
  // Word 1 holds 6 bits: bit 3 (index 67) set, and a stray bit 10 past its
  // depth that must not count.
  q.words.push_back(word(6, (1ULL << 3) | (1ULL << 10)));
  CHECK(q.set_bits() == 4);
  CHECK(q.cleared_bits() == 1);
  CHECK(q.busy() == 3);
  CHECK(q.busy_bits() == std::vector<uint32_t>{0, 5, 67});
  CHECK(q.bits_per_word() == 64);
}

TEST_CASE("sbitmap: narrow words index by their shift", "[sbitmap]") {
  SbitmapQueue q;
  q.shift = 2;  // 4 bits a word
  q.depth = 10;
  q.map_nr = 3;
  q.words = {word(4, 0b1001), word(4, 0), word(2, 0b11)};
  CHECK(q.busy() == 4);
  CHECK(q.busy_bits() == std::vector<uint32_t>{0, 3, 8, 9});
}

TEST_CASE("bpf: a map's memory estimate rounds key plus value to 8 and the total to pages", "[sbitmap]") {
  BpfMap array;
  array.type = 2;  // BPF_MAP_TYPE_ARRAY
  array.key_size = 4;
  array.value_size = 8;
  array.max_entries = 4;
  CHECK(estimated_map_memory(array, 2, 4096) == 4096);
  array.max_entries = 1000;  // 1000 * 16 bytes = 16000 -> 4 pages
  CHECK(estimated_map_memory(array, 2, 4096) == 16384);
  BpfMap percpu = array;
  percpu.type = 6;  // BPF_MAP_TYPE_PERCPU_ARRAY: one 8-byte value per CPU
  percpu.value_size = 5;
  percpu.max_entries = 512;  // (4 + 8 * 4) rounded to 40 bytes, * 512 = 20480
  CHECK(estimated_map_memory(percpu, 4, 4096) == 20480);
  BpfMap prog_array = array;
  prog_array.type = 3;  // BPF_MAP_TYPE_PROG_ARRAY: a u32 per entry
  prog_array.value_size = 64;
  prog_array.max_entries = 1024;  // 8 bytes each
  CHECK(estimated_map_memory(prog_array, 4, 4096) == 8192);
}
