// Reading pages out of a DumpSource in reader unit tests, and looking at them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "readers/dump_source.hpp"

namespace kdive::test {

struct Read {
  PageState state;
  std::vector<std::byte> bytes;
};

// Reads `len` bytes (a page by default) into a buffer pre-filled with junk, so
// a reader that forgets to clear it is caught.
inline Read read_page(DumpSource& d, uint64_t paddr, size_t len = 4096) {
  Read r{PageState::Missing, std::vector<std::byte>(len, std::byte{0xcc})};
  r.state = d.read_phys(PhysAddr{paddr}, r.bytes);
  return r;
}

inline uint64_t u64_at(const std::vector<std::byte>& b, size_t off) {
  uint64_t v;
  std::memcpy(&v, b.data() + off, 8);
  return v;
}

inline bool all_are(const std::vector<std::byte>& b, int value) {
  return std::all_of(b.begin(), b.end(), [&](std::byte x) { return x == static_cast<std::byte>(value); });
}

}  // namespace kdive::test
