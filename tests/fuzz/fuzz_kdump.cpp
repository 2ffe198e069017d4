// libFuzzer target: the kdump-compressed reader (flattened or not) from
// arbitrary bytes — header, sub-header, notes and bitmap parsing at open, then
// descriptor lookup and decompression for a few pages. Any exception other
// than FormatError, any sanitizer report, or a huge allocation is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "readers/byte_reader.hpp"
#include "readers/byte_source.hpp"
#include "readers/kdump_compressed.hpp"

using namespace kdive;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::byte> bytes(size);
  if (size != 0) std::memcpy(bytes.data(), data, size);
  std::vector<std::unique_ptr<ByteSource>> parts;
  parts.push_back(std::make_unique<MemorySource>(std::move(bytes), "fuzz"));
  try {
    auto dump = open_kdump(std::move(parts), {.cache_pages = 8});
    (void)dump->format();
    (void)dump->warnings();
    const uint64_t ps = dump->page_size();
    std::vector<std::byte> page(ps);
    int budget = 64;
    auto touch = [&](uint64_t paddr) {
      try {
        dump->read_phys(PhysAddr{paddr}, page);
        dump->read_phys(PhysAddr{paddr + ps / 2},
                        std::span(page).first(ps / 2));  // a cache hit
      } catch (const FormatError&) {
        // corrupt page data: reported per page
      }
    };
    for (uint64_t pfn = 0; pfn < 8; ++pfn) touch(pfn * ps);
    for (const PhysRange& r : dump->ranges()) {
      for (uint64_t off = 0; off < r.size && budget > 0; off += ps, --budget) touch(r.start.value() + off);
      if (budget <= 0) break;
    }
    touch(UINT64_MAX & ~(ps - 1));
  } catch (const FormatError&) {
    // not a (valid) kdump file
  }
  return 0;
}
