// Output sinks and checks for the dump-writer tests: a sink in memory with an
// optional size limit (a full filesystem) or an injected error, a classifier
// that leaves out chosen frames, and a page-by-page comparison of a written
// dump against its source.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "capture/writers/dump_copier.hpp"
#include "capture/writers/output_sink.hpp"
#include "capture/writers/page_classifier.hpp"
#include "readers/dump_source.hpp"

namespace kdive::test {

// A file in memory. `capacity`: writes past it fail with ENOSPC after writing
// what fits, as a full filesystem does. `fail_write`: the n-th data write
// (1-based, counting every write_at) fails with EIO, writing nothing.
class MemorySink : public capture::OutputSink {
 public:
  uint64_t capacity = UINT64_MAX;
  int fail_write = 0;
  std::function<void()> after_write;  // called after each successful write_at
  std::vector<std::byte> bytes;
  int writes = 0;

  void write_at(uint64_t offset, std::span<const std::byte> data) override {
    ++writes;
    if (fail_write != 0 && writes == fail_write) throw capture::WriteError("injected: Input/output error", EIO, 0);
    uint64_t fits = offset >= capacity ? 0 : std::min<uint64_t>(data.size(), capacity - offset);
    if (offset + fits > bytes.size()) bytes.resize(offset + fits);
    std::copy_n(data.begin(), fits, bytes.begin() + static_cast<ptrdiff_t>(offset));
    if (fits < data.size()) throw capture::WriteError("memory: No space left on device", ENOSPC, fits);
    if (after_write) after_write();
  }
  void reserve(uint64_t offset, uint64_t size) override {
    if (offset + size > capacity) throw capture::WriteError("memory: No space left on device", ENOSPC, 0);
  }
  void finish() override {}
  const std::string& name() const override { return name_; }

 private:
  std::string name_ = "memory";
};

// Keeps what the source holds, but for the frames named in `classes`.
class ChosenClassifier : public capture::PageClassifier {
 public:
  ChosenClassifier(const DumpSource& source, std::map<uint64_t, capture::PageClass> classes)
      : all_(source), classes_(std::move(classes)) {}
  uint64_t max_pfn() const override { return all_.max_pfn(); }
  void decide(uint64_t first_pfn, std::span<capture::PageClass> out) override {
    all_.decide(first_pfn, out);
    for (auto it = classes_.lower_bound(first_pfn); it != classes_.end() && it->first < first_pfn + out.size(); ++it) {
      out[it->first - first_pfn] = it->second;
    }
  }

 private:
  capture::SourceRangeClassifier all_;
  std::map<uint64_t, capture::PageClass> classes_;
};

inline capture::ClassifierFactory keep_all(DumpSource& source) {
  return [&source] { return std::make_unique<capture::SourceRangeClassifier>(source); };
}

// What a page of the written dump should be, given the source page.
struct PageCheck {
  uint64_t compared = 0;  // pages whose bytes were compared
  std::vector<std::string> problems;
};

// Every page frame of the source's ranges: the output holds the same bytes,
// or says the page was left out when `left_out(pfn, source bytes)` says so.
inline PageCheck compare_pages(DumpSource& source, DumpSource& output,
                               const std::function<bool(uint64_t, const std::vector<std::byte>&)>& left_out) {
  PageCheck c;
  std::vector<std::byte> a(4096), b(4096);
  for (const PhysRange& r : source.ranges()) {
    for (uint64_t p = r.start.value() & ~0xfffull; p < r.start.value() + r.size; p += 4096) {
      std::fill(a.begin(), a.end(), std::byte{0});
      std::fill(b.begin(), b.end(), std::byte{0x5a});
      PageState sa = source.read_phys(PhysAddr{p}, a);
      PageState sb = output.read_phys(PhysAddr{p}, b);
      if (sa == PageState::Excluded || sa == PageState::Missing) {
        if (sb != sa) c.problems.push_back(fmt::format("{:#x}: source {} output {}", p, to_string(sa), to_string(sb)));
        continue;
      }
      bool out = left_out(p / 4096, a);
      if (out) {
        // A dump of level 1 left out only zero pages, so its reader says Zero.
        PageState want = output.notes().dump_level == 1 ? PageState::Zero : PageState::Excluded;
        if (sb != want) c.problems.push_back(fmt::format("{:#x}: should be left out, is {}", p, to_string(sb)));
        continue;
      }
      if (sb != PageState::Present && sb != PageState::Zero) {
        c.problems.push_back(fmt::format("{:#x}: kept page reads {}", p, to_string(sb)));
      } else if (a != b) {
        c.problems.push_back(fmt::format("{:#x}: bytes differ", p));
      } else {
        ++c.compared;
      }
    }
  }
  return c;
}

inline bool is_zero_page(const std::vector<std::byte>& b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

}  // namespace kdive::test
