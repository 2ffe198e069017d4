// Page contents dumpgen writes, as functions tests can call to know what a page
// must read back as. The pattern page is self-describing: each aligned u64
// holds its own physical address, so a test can check any read without a copy.
//
//   auto p = dumpgen::pattern_page(0x5000, 4096);     // u64 at +8 == 0x5008
//   auto r = dumpgen::random_page(7, 0x5, 4096);       // incompressible
//   auto bytes = dumpgen::page_bytes(desc, pfn);       // what the generator
//   wrote
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "tests/dumpgen/description.hpp"

namespace kdive::dumpgen {

std::vector<std::byte> pattern_page(uint64_t paddr, size_t page_size);
std::vector<std::byte> fill_page(uint8_t value, size_t page_size);
std::vector<std::byte> random_page(uint64_t seed, uint64_t pfn, size_t page_size);

// The page size a description uses (block_size for kdump, 4096 for ELF).
size_t page_size_of(const DumpDescription& d);

// The bytes of page `pfn` as written: its spec's content (zeros for Zero pages;
// the pattern for pages inside an ELF load that no `page` line names) with the
// description's pokes applied.
std::vector<std::byte> page_bytes(const DumpDescription& d, uint64_t pfn);

}  // namespace kdive::dumpgen
