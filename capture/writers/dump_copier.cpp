#include "capture/writers/dump_copier.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include "capture/writers/elf_writer.hpp"
#include "capture/writers/kdump_writer.hpp"
#include "capture/writers/worker_pool.hpp"
#include "readers/byte_reader.hpp"

namespace kdive::capture {
namespace {

// The PFNs of damaged source pages named in the message; the count says the rest.
constexpr size_t kUnreadableListed = 8;

// A frame the dump keeps: the classifier said Kept, or named a class this
// level does not exclude.
bool keeps(int level, PageClass c) { return c == PageClass::Kept || !level_excludes(level, c); }

bool all_zero(std::span<const std::byte> page) {
  const std::byte* p = page.data();
  size_t n = page.size();
  // Compare 64 bytes at a time: most non-zero pages differ in the first line.
  static const std::byte zeros[64] = {};
  for (size_t i = 0; i + 64 <= n; i += 64) {
    if (std::memcmp(p + i, zeros, 64) != 0) return false;
  }
  return std::memcmp(p + n - n % 64, zeros, n % 64) == 0;
}

struct Plan {
  uint64_t max_pfn = 0;
  std::vector<uint64_t> kept_per_window;
  std::vector<PfnRun> runs;  // ELF only
  uint64_t kept = 0;
};

Plan count_kept(PageClassifier& c, const CopyOptions& o, size_t window) {
  Plan plan;
  plan.max_pfn = c.max_pfn();
  std::vector<PageClass> cls(window);
  for (uint64_t pfn = 0; pfn < plan.max_pfn; pfn += window) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(window, plan.max_pfn - pfn));
    c.decide(pfn, std::span(cls).first(n));
    uint64_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!keeps(o.dump_level, cls[i])) continue;
      ++kept;
      if (o.format == OutputFormat::Elf) {
        if (!plan.runs.empty() && plan.runs.back().end == pfn + i) {
          ++plan.runs.back().end;
        } else {
          plan.runs.push_back({pfn + i, pfn + i + 1});
        }
      }
    }
    plan.kept_per_window.push_back(kept);
    plan.kept += kept;
  }
  return plan;
}

// Part boundaries on window boundaries, each part about kept/parts pages.
std::vector<std::pair<uint64_t, uint64_t>> split_parts(const Plan& plan, size_t parts, size_t window) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  uint64_t start = 0, seen = 0;
  size_t w = 0;
  for (size_t k = 1; k < parts; ++k) {
    uint64_t goal = plan.kept * k / parts;
    while (w < plan.kept_per_window.size() && seen + plan.kept_per_window[w] <= goal) seen += plan.kept_per_window[w++];
    // Take the window that crosses the goal when that lands closer to it.
    if (w < plan.kept_per_window.size() && goal - seen > seen + plan.kept_per_window[w] - goal) {
      seen += plan.kept_per_window[w++];
    }
    uint64_t end = std::min<uint64_t>(plan.max_pfn, static_cast<uint64_t>(w) * window);
    end = std::max(end, start);
    out.emplace_back(start, end);
    start = end;
  }
  out.emplace_back(start, plan.max_pfn);
  return out;
}

// One window of page frames in one part of the output.
struct Step {
  size_t part = 0;
  uint64_t pfn = 0;
  size_t n = 0;
};

// The buffers of a window in flight: read, compressed, written.
struct Window {
  Window(size_t pages, uint64_t page_size)
      : raw(pages * page_size), packed(pages * page_size), slots(pages), read_ok(pages), packed_size(pages) {}
  Step step;
  std::vector<std::byte> raw, packed;
  std::vector<PageSlot> slots;
  std::vector<uint8_t> read_ok;
  std::vector<std::optional<uint32_t>> packed_size;  // nullopt: zero page
};

uint64_t kept_in(const Plan& plan, std::pair<uint64_t, uint64_t> range, size_t window) {
  uint64_t sum = 0;
  for (uint64_t w = range.first / window; w < (range.second + window - 1) / window; ++w) {
    sum += plan.kept_per_window[w];
  }
  return sum;
}

}  // namespace

CopyResult copy_dump(DumpSource& source, const ClassifierFactory& classifier, std::span<OutputSink* const> sinks,
                     const CopyOptions& options) {
  if (sinks.empty()) throw std::invalid_argument("no output");
  if (options.format == OutputFormat::Elf && sinks.size() > 1) {
    throw std::invalid_argument("an ELF dump cannot be split (--split writes kdump-compressed parts)");
  }
  const size_t window = std::max<size_t>(8, (options.window_pages + 7) / 8 * 8);
  const uint64_t ps = source.page_size();
  const PageCodec codec = options.format == OutputFormat::Elf ? PageCodec::Raw : options.codec;

  Plan plan;
  {
    auto counter = classifier();
    plan = count_kept(*counter, options, window);
  }
  if (plan.max_pfn == 0) throw std::invalid_argument(fmt::format("{}: holds no memory", source.files().front()));

  CopyResult result;
  result.parts = split_parts(plan, sinks.size(), window);

  std::vector<std::unique_ptr<PageWriter>> writers;
  for (size_t k = 0; k < sinks.size(); ++k) {
    DumpInfo info;
    info.page_size = ps;
    info.max_pfn = plan.max_pfn;
    info.notes = &source.notes();
    // A source filtered before (a kdump file) keeps its own gaps: the new
    // dump says it lacks those classes too — readers take a left-out page of
    // a level-1 dump for a zero page, which would be wrong for a page the
    // source had left out as free or user memory.
    info.dump_level = options.dump_level | source.notes().dump_level.value_or(0);
    info.codec = codec;
    info.split = sinks.size() > 1;
    info.start_pfn = result.parts[k].first;
    info.end_pfn = result.parts[k].second;
    info.reserved_pages = kept_in(plan, result.parts[k], window);
    if (options.format == OutputFormat::Elf) {
      writers.push_back(std::make_unique<ElfWriter>(*sinks[k], info, std::move(plan.runs)));
    } else {
      writers.push_back(std::make_unique<KdumpWriter>(*sinks[k], info));
    }
  }

  size_t begun = 0;
  auto finish_all = [&](bool complete) {
    for (size_t k = 0; k < begun; ++k) {
      try {
        writers[k]->finish(complete);
        sinks[k]->finish();
      } catch (const WriteError& e) {
        if (result.error.empty()) result.error = e.what();
        complete = false;
      }
    }
    return complete;
  };
  try {
    for (; begun < writers.size(); ++begun) writers[begun]->begin();
  } catch (const WriteError& e) {
    result.error = e.what();
    finish_all(false);
    return result;
  }

  auto copier = classifier();
  // Zero pages leave the dump only at level 1 exactly, where readers know a
  // left-out page was zeros. At any other level with bit 1 (31 above all) a
  // left-out page could have been free or user memory too, so a zero page
  // inside a live kernel object (a task_struct's last page) would read as
  // lost; it is stored as a reference to the one shared zero page instead (24
  // bytes), as makedumpfile 1.7.2 does. ELF has no way to say "zero page":
  // there they are kept, as file holes.
  const bool drop_zero = options.dump_level == 1 && options.format == OutputFormat::Kdump;

  // Every window of every part, in output order.
  std::vector<Step> steps;
  for (size_t k = 0; k < writers.size(); ++k) {
    for (uint64_t pfn = result.parts[k].first; pfn < result.parts[k].second; pfn += window) {
      steps.push_back({k, pfn, static_cast<size_t>(std::min<uint64_t>(window, result.parts[k].second - pfn))});
    }
  }

  // Reading stays on this thread (sources are not thread-safe), and so does
  // writing (in PFN order). Both overlap the compression of the window
  // between them: while the workers compress window s, this thread writes
  // window s-1 and reads window s+1, then joins in. Two windows of buffers
  // serve the three: s-1 is written before s+1 is read into its buffers.
  Window buffers[2] = {Window(window, ps), Window(window, ps)};
  std::vector<PageClass> cls(window);
  const unsigned threads = std::max(1u, options.threads);
  // One compressor per thread, made once: the codec's state is reused for
  // every page instead of set up and torn down per page.
  std::vector<PageCompressor> compressors;
  compressors.reserve(threads);
  for (unsigned t = 0; t < threads; ++t) compressors.emplace_back(codec);
  Window* compressing = nullptr;
  const WorkerPool::Job compress = [&](size_t i, unsigned thread) {
    Window& w = *compressing;
    if (!w.read_ok[i]) return;
    std::span<const std::byte> page(w.raw.data() + i * ps, ps);
    if (all_zero(page)) {
      w.packed_size[i].reset();
      return;
    }
    // Straight into the page's slot of `packed`: no allocation, no copy.
    auto c = compressors[thread].compress(page, std::span(w.packed).subspan(i * ps, ps));
    // Stored raw when compression did not shrink it (or the codec is Raw).
    w.packed_size[i] = static_cast<uint32_t>(c.value_or(ps));
  };
  // Declared after everything its job touches: should an exception unwind
  // past a window in flight, the pool is stopped and joined first.
  WorkerPool pool(threads);

  auto read_window = [&](Window& w, const Step& step) {
    w.step = step;
    const uint64_t pfn = step.pfn;
    const size_t n = step.n;
    copier->decide(pfn, std::span(cls).first(n));
    for (size_t i = 0; i < n; ++i) {
      w.slots[i] = PageSlot{};
      w.read_ok[i] = 0;
      if (!keeps(options.dump_level, cls[i])) {
        w.slots[i].state = cls[i] == PageClass::Hole ? SlotState::Hole : SlotState::Excluded;
        ++result.counts[cls[i]];
        continue;
      }
      std::span<std::byte> page(w.raw.data() + i * ps, ps);
      PageState st;
      try {
        st = source.read_phys(PhysAddr{(pfn + i) * ps}, page);
      } catch (const FormatError&) {
        // Damaged data in the source: RAM the dump cannot hold. Said at the end.
        if (result.unreadable_pfns.size() < kUnreadableListed) result.unreadable_pfns.push_back(pfn + i);
        ++result.unreadable;
        w.slots[i].state = SlotState::Excluded;
        continue;
      }
      if (st == PageState::Present || st == PageState::Zero) {
        w.read_ok[i] = 1;
      } else if (st == PageState::Excluded) {
        ++result.source_excluded;
        w.slots[i].state = SlotState::Excluded;
      } else {
        ++result.source_missing;
        w.slots[i].state = SlotState::Hole;
      }
    }
  };
  // The window's slots from what the compressors found.
  auto settle_window = [&](Window& w) {
    for (size_t i = 0; i < w.step.n; ++i) {
      if (!w.read_ok[i]) continue;
      if (!w.packed_size[i]) {
        if (drop_zero) {
          w.slots[i].state = SlotState::Excluded;
          ++result.counts[PageClass::Zero];
          copier->count_zero(1);
        } else {
          w.slots[i].state = SlotState::Zero;
        }
        continue;
      }
      w.slots[i].state = SlotState::Stored;
      w.slots[i].size = *w.packed_size[i];
      // A page that did not shrink is stored raw even in a compressed dump.
      bool is_raw = codec == PageCodec::Raw || *w.packed_size[i] == ps;
      w.slots[i].codec = is_raw ? PageCodec::Raw : codec;
      w.slots[i].data = is_raw ? w.raw.data() + i * ps : w.packed.data() + i * ps;
    }
  };
  // False when a write error ended the copy (result.error says which).
  auto write_window = [&](const Window& w) {
    try {
      writers[w.step.part]->write_window(w.step.pfn, std::span(w.slots).first(w.step.n));
    } catch (const WriteError& e) {
      result.error = e.what();
      return false;
    }
    if (options.progress) options.progress(std::min(w.step.pfn + w.step.n, plan.max_pfn), plan.max_pfn);
    return true;
  };
  auto stop_requested = [&] {
    if (!options.stop || options.stop->load() == 0) return false;
    result.stopped_by = options.stop->load();
    return true;
  };

  bool stopped = steps.empty() ? false : stop_requested();
  if (!stopped && !steps.empty()) read_window(buffers[0], steps[0]);
  const Window* to_write = nullptr;  // compressed, not yet written
  for (size_t s = 0; s < steps.size() && !stopped; ++s) {
    Window& current = buffers[s % 2];
    compressing = &current;
    pool.start(current.step.n, compress);
    bool written = to_write == nullptr || write_window(*to_write);
    to_write = nullptr;
    // A stop request ends the copy after the window being compressed.
    bool more = written && s + 1 < steps.size() && !stop_requested();
    if (more) read_window(buffers[(s + 1) % 2], steps[s + 1]);
    pool.wait();
    if (!written) {
      stopped = true;  // the window just compressed is dropped with the rest
      break;
    }
    settle_window(current);
    to_write = &current;
    if (!more && s + 1 < steps.size()) stopped = true;
  }
  if (to_write != nullptr && !write_window(*to_write)) stopped = true;
  for (const auto& w : writers) result.counts[PageClass::Kept] += w->pages_written();
  result.complete = finish_all(!stopped);
  return result;
}

}  // namespace kdive::capture
