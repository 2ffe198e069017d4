#include "kernel-model/sbitmap.hpp"

#include <fmt/format.h>

#include <bit>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/task_sources.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {
namespace {

// A word is an unsigned long: at most 64 bits, so shift is at most 6.
constexpr uint32_t kMaxShift = 6;
// blk-mq tags and iSCSI sessions have at most a few thousand bits; a bitmap
// of more words than this is a damaged sbitmap, read no further.
constexpr uint32_t kMaxWords = 1 << 16;

// atomic_t { counter; } or a plain integer.
int64_t int_of(const Object& o) { return o.type().strip().is_struct_like() ? o["counter"].as_i64() : o.as_i64(); }

uint64_t depth_mask(uint32_t depth) { return depth >= 64 ? ~0ULL : ((1ULL << depth) - 1); }

void read_words(const Kernel& k, SbitmapQueue& q) {
  const Type& word_type = k.types().require("struct sbitmap_word");
  q.has_cleared = word_type.strip().member("cleared").has_value();
  const bool has_depth = word_type.strip().member("depth").has_value();
  const uint64_t size = word_type.size();
  if (q.shift > kMaxShift) {
    q.problems.push_back(fmt::format("shift {} is more than a word holds (at most {})", q.shift, kMaxShift));
    return;
  }
  const uint64_t per_word = 1ULL << q.shift;
  const uint64_t needed = (q.depth + per_word - 1) / per_word;
  if (q.map_nr != needed) {
    q.problems.push_back(fmt::format("map_nr {} does not match depth {} in words of {} bits ({} needed)", q.map_nr,
                                     q.depth, per_word, needed));
  }
  if (q.map_nr > kMaxWords) {
    q.problems.push_back(fmt::format("map_nr {} is more than {}: the words were not read", q.map_nr, kMaxWords));
    return;
  }
  for (uint32_t i = 0; i < q.map_nr; ++i) {
    SbitmapWord w;
    w.at = VirtAddr{q.map.value() + i * size};
    // The kernel's __map_depth(): every word is full but the last.
    const uint64_t before = static_cast<uint64_t>(i) << q.shift;
    w.depth = static_cast<uint32_t>(
        i + 1 == q.map_nr && q.depth >= before ? std::min<uint64_t>(q.depth - before, per_word) : per_word);
    try {
      Object o = k.object(w.at, "struct sbitmap_word");
      if (has_depth) w.depth = static_cast<uint32_t>(std::min<uint64_t>(o["depth"].as_u64(), 64));
      w.word = o["word"].as_u64();
      if (q.has_cleared) w.cleared = o["cleared"].as_u64();
    } catch (const ModelError& e) {
      w.error = e.what();
      q.problems.push_back(fmt::format("word {} at {:x}: {}", i, w.at.value(), e.what()));
    }
    q.words.push_back(std::move(w));
  }
}

void read_wait_states(const Kernel& k, SbitmapQueue& q) {
  if (q.ws.is_null()) return;
  const Type& ws_type = k.types().require("struct sbq_wait_state");
  // wait_queue_head's list was task_list before 4.13, head from it.
  const Type& wq = k.types().require("wait_queue_head_t");
  const std::string list = wq.strip().member("head") ? "head" : "task_list";
  for (int i = 0; i < kSbqWaitQueues; ++i) {
    SbqWaitState s;
    s.at = VirtAddr{q.ws.value() + static_cast<uint64_t>(i) * ws_type.size()};
    try {
      Object o = k.object(s.at, "struct sbq_wait_state");
      if (o.has_member("wait_cnt")) s.wait_cnt = int_of(o["wait_cnt"]);
      Object head = o["wait"][list];
      s.active = head["next"].pointer() != head.address();
    } catch (const ModelError& e) {
      s.error = e.what();
      q.problems.push_back(fmt::format("wait state {} at {:x}: {}", i, s.at.value(), e.what()));
    }
    q.wait_states.push_back(std::move(s));
  }
}

}  // namespace

uint32_t SbitmapQueue::set_bits() const {
  uint32_t n = 0;
  for (const SbitmapWord& w : words) n += static_cast<uint32_t>(std::popcount(w.word & depth_mask(w.depth)));
  return n;
}

uint32_t SbitmapQueue::cleared_bits() const {
  uint32_t n = 0;
  for (const SbitmapWord& w : words) n += static_cast<uint32_t>(std::popcount(w.cleared & depth_mask(w.depth)));
  return n;
}

uint32_t SbitmapQueue::busy() const {
  uint32_t n = 0;
  for (const SbitmapWord& w : words) {
    n += static_cast<uint32_t>(std::popcount(w.word & ~w.cleared & depth_mask(w.depth)));
  }
  return n;
}

std::vector<uint32_t> SbitmapQueue::busy_bits() const {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < words.size(); ++i) {
    const uint64_t bits = words[i].word & ~words[i].cleared & depth_mask(words[i].depth);
    for (uint32_t b = 0; b < 64; ++b) {
      if (bits & (1ULL << b)) out.push_back(static_cast<uint32_t>((i << shift) + b));
    }
  }
  return out;
}

SbitmapQueue read_sbitmap_queue(const Kernel& k, VirtAddr address) {
  SbitmapQueue q;
  q.address = address;
  Object sbq = k.object(address, "struct sbitmap_queue");
  Object sb = sbq["sb"];
  q.depth = static_cast<uint32_t>(sb["depth"].as_u64());
  q.shift = static_cast<uint32_t>(sb["shift"].as_u64());
  q.map_nr = static_cast<uint32_t>(sb["map_nr"].as_u64());
  q.map = sb["map"].pointer();
  q.wake_batch = static_cast<uint32_t>(sbq["wake_batch"].as_u64());
  q.wake_index = static_cast<int32_t>(int_of(sbq["wake_index"]));
  q.ws = sbq["ws"].pointer();
  if (sbq.has_member("ws_active")) q.ws_active = static_cast<int32_t>(int_of(sbq["ws_active"]));
  if (sbq.has_member("min_shallow_depth"))
    q.min_shallow_depth = static_cast<uint32_t>(sbq["min_shallow_depth"].as_u64());
  // alloc_hint and round_robin: in sbitmap_queue before 5.13, in sbitmap from it.
  if (sbq.has_member("alloc_hint")) {
    q.alloc_hint = sbq["alloc_hint"].pointer();
  } else if (sb.has_member("alloc_hint")) {
    q.alloc_hint = sb["alloc_hint"].pointer();
  }
  if (sbq.has_member("round_robin")) {
    q.round_robin = sbq["round_robin"].as_u64() != 0;
  } else if (sb.has_member("round_robin")) {
    q.round_robin = sb["round_robin"].as_u64() != 0;
  }
  if (!q.alloc_hint.is_null()) {
    const int cpus = possible_cpus(k);
    for (int cpu = 0; cpu < cpus; ++cpu) {
      try {
        q.alloc_hints.push_back(k.memory().read<uint32_t>(VirtAddr{q.alloc_hint.value() + k.per_cpu_offset(cpu)}));
      } catch (const ModelError& e) {
        q.alloc_hints.push_back(std::nullopt);
        q.problems.push_back(fmt::format("alloc_hint of CPU {}: {}", cpu, e.what()));
      }
    }
  }
  if (q.map.is_null() && q.map_nr != 0) {
    q.problems.push_back(fmt::format("map is NULL with map_nr {}", q.map_nr));
  } else {
    read_words(k, q);
  }
  read_wait_states(k, q);
  return q;
}

}  // namespace kdive
