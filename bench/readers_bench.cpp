// Reader throughput on one dump: random 4 KiB page reads per second with a cold
// and a warm page cache, and sequential throughput over all of physical memory.
// Prints "name value unit" lines that bench/run-readers puts next to crash's
// numbers. Not a test: timings never decide pass or fail.
//
//   readers_bench DUMP [random-pages]
//   readers_bench --pages DUMP N      (just print N random page addresses, hex)
#include <fmt/format.h>

#include <chrono>
#include <random>
#include <vector>

#include "readers/open_dump.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<uint64_t> random_pages(const kdive::DumpSource& dump, size_t count) {
  std::mt19937_64 rng(42);
  auto ranges = dump.ranges();
  std::vector<uint64_t> pages;
  while (pages.size() < count) {
    const auto& r = ranges[rng() % ranges.size()];
    if (r.size < 4096) continue;
    pages.push_back((r.start.value() + rng() % r.size) & ~0xfffull);
  }
  return pages;
}

// Reads every page in `pages`; returns pages per second.
double read_pages(kdive::DumpSource& dump, const std::vector<uint64_t>& pages) {
  std::vector<std::byte> buf(4096);
  auto start = Clock::now();
  for (uint64_t p : pages) dump.read_phys(kdive::PhysAddr{p}, buf);
  return static_cast<double>(pages.size()) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: readers_bench DUMP [random-pages] | --pages DUMP N\n");
    return 2;
  }
  if (std::string_view(argv[1]) == "--pages" && argc == 4) {
    auto dump = kdive::open_dump({argv[2]});
    for (uint64_t p : random_pages(*dump, std::stoul(argv[3]))) fmt::print("{:x}\n", p);
    return 0;
  }
  const size_t count = argc > 2 ? std::stoul(argv[2]) : 20000;
  try {
    auto start = Clock::now();
    auto dump = kdive::open_dump({argv[1]}, {.cache_pages = 4096});
    fmt::print("open_seconds {:.4f} s\n", seconds_since(start));
    auto pages = random_pages(*dump, count);
    fmt::print("random_cold {:.0f} pages/s\n", read_pages(*dump, pages));
    // Warm: the same pages again; those still in the 16 MiB cache are hits.
    std::vector<uint64_t> warm(pages.begin(), pages.begin() + std::min<size_t>(pages.size(), 4096));
    read_pages(*dump, warm);
    fmt::print("random_warm {:.0f} pages/s\n", read_pages(*dump, warm));

    uint64_t bytes = 0;
    std::vector<uint64_t> all;
    for (const auto& r : dump->ranges()) {
      for (uint64_t a = (r.start.value() + 4095) & ~0xfffull; a + 4096 <= r.start.value() + r.size; a += 4096) {
        all.push_back(a);
      }
    }
    auto seq = Clock::now();
    std::vector<std::byte> buf(4096);
    for (uint64_t a : all) {
      dump->read_phys(kdive::PhysAddr{a}, buf);
      bytes += 4096;
    }
    fmt::print("sequential {:.1f} MiB/s\n", static_cast<double>(bytes) / (1 << 20) / seconds_since(seq));
  } catch (const std::exception& e) {
    fmt::print(stderr, "readers_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
