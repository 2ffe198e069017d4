#include "tests/dumpgen/page_content.hpp"

#include <algorithm>
#include <cstring>

namespace kdive::dumpgen {

std::vector<std::byte> pattern_page(uint64_t paddr, size_t page_size) {
  std::vector<std::byte> out(page_size);
  for (size_t i = 0; i + 8 <= page_size; i += 8) {
    uint64_t v = paddr + i;
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

std::vector<std::byte> fill_page(uint8_t value, size_t page_size) {
  return std::vector<std::byte>(page_size, static_cast<std::byte>(value));
}

std::vector<std::byte> random_page(uint64_t seed, uint64_t pfn, size_t page_size) {
  // xorshift64*: deterministic, fast, and no compressor finds structure in it.
  uint64_t x = (seed + 1) * 0x9e3779b97f4a7c15ull ^ (pfn + 1) * 0xbf58476d1ce4e5b9ull;
  if (x == 0) x = 1;
  std::vector<std::byte> out(page_size);
  for (size_t i = 0; i < page_size; i += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    uint64_t v = x * 0x2545f4914f6cdd1dull;
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, page_size - i));
  }
  return out;
}

size_t page_size_of(const DumpDescription& d) { return d.format == Format::Kdump ? d.block_size : 4096; }

std::vector<std::byte> page_bytes(const DumpDescription& d, uint64_t pfn) {
  const size_t ps = page_size_of(d);
  const uint64_t base = pfn * ps;
  std::vector<std::byte> out;
  auto it = d.pages.find(pfn);
  PageSpec spec = it != d.pages.end() ? it->second : PageSpec{};
  if (spec.kind == PageKind::Zero) {
    out.assign(ps, std::byte{0});
  } else {
    switch (spec.content) {
      case Content::Pattern:
        out = pattern_page(base, ps);
        break;
      case Content::Fill:
        out = fill_page(spec.fill, ps);
        break;
      case Content::Random:
        out = random_page(spec.seed, pfn, ps);
        break;
    }
  }
  for (const Poke& k : d.pokes) {
    for (size_t i = 0; i < k.bytes.size(); ++i) {
      uint64_t a = k.paddr + i;
      if (a >= base && a < base + ps) out[a - base] = k.bytes[i];
    }
  }
  return out;
}

}  // namespace kdive::dumpgen
