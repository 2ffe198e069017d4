// name_hash: a fast, stable 64-bit hash of a short string (a symbol or type
// name). Stable because the DWARF index cache file stores tables built with
// it; fast because start-up hashes hundreds of thousands of names and a scan
// millions.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace kdive {

inline uint64_t name_hash(std::string_view name) {
  constexpr uint64_t kMul = 0x9e3779b97f4a7c15ull;
  uint64_t h = name.size() * kMul;
  const char* p = name.data();
  size_t n = name.size();
  while (n >= 8) {  // eight bytes at a time
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  if (n != 0) std::memcpy(&tail, p, n);  // p may be null for an empty name
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  h *= kMul;
  h ^= h >> 29;
  return h;
}

}  // namespace kdive
