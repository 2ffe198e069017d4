#include "readers/page_cache.hpp"

#include <utility>

namespace kdive {

PageCache::PageCache(size_t capacity_pages, size_t page_size) : capacity_(capacity_pages), page_size_(page_size) {
  index_.reserve(capacity_pages);
}

std::optional<std::span<const std::byte>> PageCache::find(uint64_t pfn) {
  auto it = index_.find(pfn);
  if (it == index_.end()) {
    ++misses_;
    return std::nullopt;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return std::span<const std::byte>(it->second->data);
}

std::span<const std::byte> PageCache::insert(uint64_t pfn, const Loader& load) {
  if (capacity_ == 0) {
    scratch_.resize(page_size_);
    load(scratch_);
    return scratch_;
  }
  if (auto it = index_.find(pfn); it != index_.end()) {
    // Reload in place: the old copy is dropped first so a throwing load leaves
    // no stale page behind.
    spare_.push_back(std::move(it->second->data));
    lru_.erase(it->second);
    index_.erase(it);
  }
  evict_to(capacity_ - 1);

  std::vector<std::byte> buf;
  if (!spare_.empty()) {
    buf = std::move(spare_.back());
    spare_.pop_back();
  }
  buf.resize(page_size_);
  try {
    load(buf);
  } catch (...) {
    spare_.push_back(std::move(buf));
    throw;
  }
  lru_.push_front(Entry{pfn, std::move(buf)});
  index_[pfn] = lru_.begin();
  return lru_.front().data;
}

std::span<const std::byte> PageCache::get_or_load(uint64_t pfn, const Loader& load) {
  if (auto hit = find(pfn)) return *hit;
  return insert(pfn, load);
}

void PageCache::set_capacity(size_t capacity_pages) {
  capacity_ = capacity_pages;
  evict_to(capacity_);
  spare_.clear();
  spare_.shrink_to_fit();
}

void PageCache::clear() {
  lru_.clear();
  index_.clear();
  spare_.clear();
}

void PageCache::evict_to(size_t limit) {
  while (index_.size() > limit) {
    Entry& victim = lru_.back();
    index_.erase(victim.pfn);
    if (spare_.size() < 2) spare_.push_back(std::move(victim.data));  // one reused on the next insert
    lru_.pop_back();
  }
}

}  // namespace kdive
