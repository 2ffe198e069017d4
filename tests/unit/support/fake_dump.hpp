// FakeDump: a DumpSource over pages held in a map, for kernel-model unit tests
// that need "physical memory" with exact contents (page tables, kernel data).
//
//   FakeDump mem;
//   mem.put<uint64_t>(PhysAddr{0x1000}, 0x2003);      // creates the page
//   mem.exclude(PhysAddr{0x5000});                     // reads as Excluded
//   mem.remove(PhysAddr{0x6000});                      // a hole
#pragma once

#include <cstring>
#include <map>
#include <vector>

#include "readers/dump_source.hpp"

namespace kdive::test {

class FakeDump : public DumpSource {
 public:
  std::string format() const override { return "fake"; }

  PageState read_phys(PhysAddr addr, std::span<std::byte> out) override {
    check_within_page(addr, out.size(), 4096);
    std::memset(out.data(), 0, out.size());
    uint64_t page = addr.value() & ~0xfffull;
    if (excluded_.count(page)) return PageState::Excluded;
    auto it = pages_.find(page);
    if (it == pages_.end()) return PageState::Missing;
    std::memcpy(out.data(), it->second.data() + addr.offset_in(4096), out.size());
    return PageState::Present;
  }

  std::vector<PhysRange> ranges() const override {
    std::vector<PhysRange> out;
    for (const auto& [page, bytes] : pages_) out.push_back({PhysAddr{page}, 4096});
    return out;
  }
  const DumpNotes& notes() const override { return notes_; }
  std::vector<std::string> files() const override { return {"<fake>"}; }

  template <typename T>
  void put(PhysAddr at, const T& value) {
    auto& page = pages_[at.value() & ~0xfffull];
    page.resize(4096);
    std::memcpy(page.data() + at.offset_in(4096), &value, sizeof(T));
  }
  void exclude(PhysAddr page) { excluded_[page.value() & ~0xfffull] = true; }
  // Takes the page out of the dump: a hole in ranges(), Missing to read.
  void remove(PhysAddr page) { pages_.erase(page.value() & ~0xfffull); }
  DumpNotes& mutable_notes() { return notes_; }

 private:
  std::map<uint64_t, std::vector<std::byte>> pages_;
  std::map<uint64_t, bool> excluded_;
  DumpNotes notes_;
};

}  // namespace kdive::test
