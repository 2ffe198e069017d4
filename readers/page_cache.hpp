// PageCache: decompressed pages kept by page frame number, least recently used
// evicted first. Compressed dump readers put it between the file and callers so
// that reading a structure field by field decompresses its page once.
//
//   PageCache cache(4096, 4096);                  // 4096 pages of 4 KiB (16
//   MiB) auto page = cache.get_or_load(pfn, [&](std::span<std::byte> buf) {
//     decompress_into(buf);                        // may throw: nothing is
//     cached then
//   });
//   cache.hits(); cache.misses();                  // for benchmarks
//
// Not thread-safe: one cache belongs to one reader, used from one thread.
// A span returned by find()/insert()/get_or_load() stays valid until the next
// call that may insert or evict (insert, get_or_load, set_capacity, clear).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace kdive {

class PageCache {
 public:
  using Loader = std::function<void(std::span<std::byte>)>;

  // capacity_pages 0 disables caching (every get_or_load loads).
  PageCache(size_t capacity_pages, size_t page_size);

  // The cached page for pfn (counts a hit or a miss).
  std::optional<std::span<const std::byte>> find(uint64_t pfn);

  // Fills a page with `load` and caches it as pfn (replacing any cached copy);
  // no hit or miss is counted. If `load` throws, the exception propagates and
  // nothing is cached.
  std::span<const std::byte> insert(uint64_t pfn, const Loader& load);

  // find(), then insert() on a miss.
  std::span<const std::byte> get_or_load(uint64_t pfn, const Loader& load);

  // Shrinking evicts least recently used pages.
  void set_capacity(size_t capacity_pages);
  size_t capacity() const { return capacity_; }
  size_t size() const { return index_.size(); }
  size_t page_size() const { return page_size_; }
  bool contains(uint64_t pfn) const { return index_.count(pfn) != 0; }

  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  void reset_stats() { hits_ = misses_ = 0; }
  void clear();

 private:
  struct Entry {
    uint64_t pfn;
    std::vector<std::byte> data;
  };
  using List = std::list<Entry>;  // front = most recently used

  void evict_to(size_t limit);

  size_t capacity_;
  size_t page_size_;
  List lru_;
  std::unordered_map<uint64_t, List::iterator> index_;
  std::vector<std::vector<std::byte>> spare_;  // buffers of evicted pages, reused
  std::vector<std::byte> scratch_;             // the page when caching is off
  uint64_t hits_ = 0;
  uint64_t misses_ = 0;
};

}  // namespace kdive
