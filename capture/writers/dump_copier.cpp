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
  WorkerPool pool(options.threads);
  std::vector<PageClass> cls(window);
  std::vector<std::byte> raw(window * ps), packed(window * ps);
  std::vector<PageSlot> slots(window);
  std::vector<uint8_t> read_ok(window);
  std::vector<std::optional<uint32_t>> packed_size(window);  // nullopt: zero page
  // Zero pages leave the dump only at level 1 exactly, where readers know a
  // left-out page was zeros. At any other level with bit 1 (31 above all) a
  // left-out page could have been free or user memory too, so a zero page
  // inside a live kernel object (a task_struct's last page) would read as
  // lost; it is stored as a reference to the one shared zero page instead (24
  // bytes), as makedumpfile 1.7.2 does. ELF has no way to say "zero page":
  // there they are kept, as file holes.
  const bool drop_zero = options.dump_level == 1 && options.format == OutputFormat::Kdump;

  auto stop_requested = [&] { return options.stop && options.stop->load() != 0; };
  bool stopped = false;
  for (size_t k = 0; k < writers.size() && !stopped; ++k) {
    auto [part_start, part_end] = result.parts[k];
    for (uint64_t pfn = part_start; pfn < part_end; pfn += window) {
      if (stop_requested()) {
        result.stopped_by = options.stop->load();
        stopped = true;
        break;
      }
      size_t n = static_cast<size_t>(std::min<uint64_t>(window, part_end - pfn));
      copier->decide(pfn, std::span(cls).first(n));
      // Reading stays on this thread: sources are not thread-safe.
      for (size_t i = 0; i < n; ++i) {
        slots[i] = PageSlot{};
        read_ok[i] = 0;
        if (!keeps(options.dump_level, cls[i])) {
          slots[i].state = cls[i] == PageClass::Hole ? SlotState::Hole : SlotState::Excluded;
          ++result.counts[cls[i]];
          continue;
        }
        std::span<std::byte> page(raw.data() + i * ps, ps);
        PageState st;
        try {
          st = source.read_phys(PhysAddr{(pfn + i) * ps}, page);
        } catch (const FormatError&) {
          // Damaged data in the source: RAM the dump cannot hold. Said at the end.
          if (result.unreadable_pfns.size() < kUnreadableListed) result.unreadable_pfns.push_back(pfn + i);
          ++result.unreadable;
          slots[i].state = SlotState::Excluded;
          continue;
        }
        if (st == PageState::Present || st == PageState::Zero) {
          read_ok[i] = 1;
        } else if (st == PageState::Excluded) {
          ++result.source_excluded;
          slots[i].state = SlotState::Excluded;
        } else {
          ++result.source_missing;
          slots[i].state = SlotState::Hole;
        }
      }
      pool.run(n, [&](size_t i) {
        if (!read_ok[i]) return;
        std::span<const std::byte> page(raw.data() + i * ps, ps);
        if (all_zero(page)) {
          packed_size[i].reset();
          return;
        }
        std::optional<std::vector<std::byte>> c;
        if (codec != PageCodec::Raw) c = compress_page(codec, page);
        if (c) {
          std::memcpy(packed.data() + i * ps, c->data(), c->size());
          packed_size[i] = static_cast<uint32_t>(c->size());
        } else {
          packed_size[i] = static_cast<uint32_t>(ps);  // stored raw: compression did not shrink it
        }
      });
      for (size_t i = 0; i < n; ++i) {
        if (!read_ok[i]) continue;
        if (!packed_size[i]) {
          if (drop_zero) {
            slots[i].state = SlotState::Excluded;
            ++result.counts[PageClass::Zero];
            copier->count_zero(1);
          } else {
            slots[i].state = SlotState::Zero;
          }
          continue;
        }
        slots[i].state = SlotState::Stored;
        slots[i].size = *packed_size[i];
        // A page that did not shrink is stored raw even in a compressed dump.
        bool is_raw = codec == PageCodec::Raw || *packed_size[i] == ps;
        slots[i].codec = is_raw ? PageCodec::Raw : codec;
        slots[i].data = is_raw ? raw.data() + i * ps : packed.data() + i * ps;
      }
      try {
        writers[k]->write_window(pfn, std::span(slots).first(n));
      } catch (const WriteError& e) {
        result.error = e.what();
        stopped = true;
        break;
      }
      if (options.progress) options.progress(std::min(pfn + n, plan.max_pfn), plan.max_pfn);
    }
  }
  for (const auto& w : writers) result.counts[PageClass::Kept] += w->pages_written();
  result.complete = finish_all(!stopped);
  return result;
}

}  // namespace kdive::capture
