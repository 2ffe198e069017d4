#include "readers/page_cache.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>
#include <vector>

using namespace kdive;

namespace {

constexpr size_t kPage = 64;  // small pages: the cache does not care

// A loader that fills the page with the PFN's low byte and counts its calls.
struct Loader {
  int calls = 0;
  PageCache::Loader for_pfn(uint64_t pfn) {
    return [this, pfn](std::span<std::byte> buf) {
      ++calls;
      for (auto& b : buf) b = static_cast<std::byte>(pfn & 0xff);
    };
  }
};

}  // namespace

TEST_CASE("PageCache loads once and counts hits and misses", "[page_cache]") {
  PageCache cache(4, kPage);
  Loader l;
  auto p = cache.get_or_load(7, l.for_pfn(7));
  REQUIRE(p.size() == kPage);
  CHECK(p[0] == std::byte{7});
  CHECK(p[kPage - 1] == std::byte{7});
  cache.get_or_load(7, l.for_pfn(7));
  cache.get_or_load(7, l.for_pfn(7));
  CHECK(l.calls == 1);
  CHECK(cache.hits() == 2);
  CHECK(cache.misses() == 1);
  CHECK(cache.size() == 1);
  cache.reset_stats();
  CHECK(cache.hits() == 0);
  CHECK(cache.misses() == 0);
}

TEST_CASE("PageCache evicts the least recently used page", "[page_cache]") {
  PageCache cache(3, kPage);
  Loader l;
  for (uint64_t pfn : {1, 2, 3}) cache.get_or_load(pfn, l.for_pfn(pfn));
  cache.get_or_load(1, l.for_pfn(1));  // 1 is now the most recent; 2 the least
  cache.get_or_load(4, l.for_pfn(4));  // evicts 2
  CHECK(cache.size() == 3);
  CHECK(cache.contains(1));
  CHECK_FALSE(cache.contains(2));
  CHECK(cache.contains(3));
  CHECK(cache.contains(4));
  CHECK(l.calls == 4);

  auto hit = cache.find(3);
  REQUIRE(hit);
  CHECK((*hit)[0] == std::byte{3});
  CHECK_FALSE(cache.find(2));
  // find(3) made 3 recent; 1 is now the oldest.
  cache.get_or_load(5, l.for_pfn(5));
  CHECK_FALSE(cache.contains(1));
  CHECK(cache.contains(3));
}

TEST_CASE("PageCache capacity changes", "[page_cache]") {
  PageCache cache(8, kPage);
  Loader l;
  for (uint64_t pfn = 0; pfn < 8; ++pfn) cache.get_or_load(pfn, l.for_pfn(pfn));
  cache.set_capacity(2);
  CHECK(cache.size() == 2);
  CHECK(cache.contains(6));
  CHECK(cache.contains(7));
  CHECK(cache.capacity() == 2);

  cache.clear();
  CHECK(cache.size() == 0);
  CHECK_FALSE(cache.contains(7));
}

TEST_CASE("PageCache with capacity 0 loads every time", "[page_cache]") {
  PageCache cache(0, kPage);
  Loader l;
  auto p = cache.get_or_load(9, l.for_pfn(9));
  CHECK(p[0] == std::byte{9});
  cache.get_or_load(9, l.for_pfn(9));
  CHECK(l.calls == 2);
  CHECK(cache.size() == 0);
  CHECK(cache.misses() == 2);
}

TEST_CASE("PageCache keeps nothing when the loader throws", "[page_cache]") {
  PageCache cache(2, kPage);
  Loader l;
  cache.get_or_load(1, l.for_pfn(1));
  auto failing = [](std::span<std::byte>) { throw std::runtime_error("corrupt page"); };
  CHECK_THROWS_AS(cache.get_or_load(2, failing), std::runtime_error);
  CHECK_FALSE(cache.contains(2));
  CHECK(cache.contains(1));
  // A failed reload of a cached page drops the stale copy too.
  CHECK_THROWS_AS(cache.insert(1, failing), std::runtime_error);
  CHECK_FALSE(cache.contains(1));
  // And the cache still works afterwards.
  auto p = cache.get_or_load(2, l.for_pfn(2));
  CHECK(p[0] == std::byte{2});
}

TEST_CASE("PageCache insert replaces a cached page", "[page_cache]") {
  PageCache cache(2, kPage);
  Loader l;
  cache.get_or_load(1, l.for_pfn(1));
  auto p = cache.insert(1, l.for_pfn(0x41));
  CHECK(p[0] == std::byte{0x41});
  CHECK(cache.size() == 1);
  CHECK((*cache.find(1))[0] == std::byte{0x41});
}
