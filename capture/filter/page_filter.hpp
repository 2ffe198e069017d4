// PageFilter: decides, page frame by page frame, what a dump at a given dump
// level keeps — from VMCOREINFO and the source dump's own mem_map (struct
// page), with no vmlinux and no DWARF, as makedumpfile does. Memory stays
// bounded: the caller asks for one window of PFNs at a time (cyclic), and the
// filter reads that window's struct pages in big batches.
//
//   PageFilter filter(source, 31);           // throws FilterError, one line
//   std::vector<PageClass> window(1 << 20);
//   for (uint64_t pfn = 0; pfn < filter.max_pfn(); pfn += window.size()) {
//     size_t n = std::min<uint64_t>(window.size(), filter.max_pfn() - pfn);
//     filter.decide(pfn, std::span(window).first(n));
//   }
//   filter.counts()[PageClass::Free];        // pages excluded as free so far
//
// Zero pages are the writer's call (it reads the content anyway): decide()
// never returns Zero; the writer reports them back with count_zero().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "capture/filter/page_class.hpp"
#include "readers/dump_source.hpp"

namespace kdive::capture {

class FilterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PageFilter {
 public:
  // dump_level 0..31; anything else throws FilterError. Level 0 and 1 need no
  // struct page at all (everything the source holds is kept). A source without
  // the VMCOREINFO keys a level needs throws FilterError naming the key.
  // `vmcoreinfo` serves a source that has no VMCOREINFO note (text built from
  // its vmlinux, vmlinux_vmcoreinfo.hpp); the source's own note wins.
  PageFilter(DumpSource& source, int dump_level, std::string vmcoreinfo = {});
  ~PageFilter();
  PageFilter(const PageFilter&) = delete;
  PageFilter& operator=(const PageFilter&) = delete;

  int dump_level() const;
  // One past the highest page frame of the source's memory.
  uint64_t max_pfn() const;

  // Classifies PFNs [first_pfn, first_pfn + out.size()). Windows are asked
  // for in increasing order (a window that starts before the previous one's
  // end is a caller's bug: std::logic_error); a free block that runs past a
  // window's end is remembered for the next one, and a compound tail whose
  // head lies in an earlier window reads that head again. A page the source
  // holds but whose struct page is not in any section is Kept (nothing says
  // it may go; makedumpfile keeps these too). The struct pages are read
  // 8192 at a time whatever the window, so memory stays bounded. Never throws for damaged struct pages: a page
  // whose struct page cannot be read is Kept (when in doubt, keep).
  void decide(uint64_t first_pfn, std::span<PageClass> out);

  // The writer found kept pages to be all zeros and excluded them (level bit
  // 1): they move from Kept to Zero in counts().
  void count_zero(uint64_t pages = 1);

  // Pages per class decided so far (Kept counts pages written).
  const PageClassCounts& counts() const;

  // Pages kept only because their struct page could not be read (or made no
  // sense), so far: the summary says so rather than hiding it.
  uint64_t unreadable_pages() const;
  // What the filter could not see on this dump, one line each: VMCOREINFO
  // keys a level would use and the kernel lacks, section-table roots that
  // could not be read (their pages are kept).
  std::vector<std::string> warnings() const;

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace kdive::capture
