// kmem -p [ADDRESS...] and kmem -m MEMBER[,MEMBER...] [ADDRESS...]: the page
// structs of memory, one line each — crash's PAGE PHYSICAL MAPPING INDEX CNT
// FLAGS line (page_rows.hpp), or with -m the page's address and the chosen
// members of struct page. Without an address every page of every section of
// SPARSEMEM's table is listed, streamed (one read per page of the vmemmap,
// Ctrl-C honoured); with addresses only the page of each: a struct page
// address, a kernel virtual address (through the page tables) or, below the
// kernel half, a physical address — crash's rules.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/interrupt.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/kmem_memory.hpp"
#include "commands/page_rows.hpp"
#include "kernel-model/buddy.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/memory_sections.hpp"
#include "kernel-model/page_struct.hpp"

namespace kdive {
namespace {

constexpr uint64_t kPageSize = 4096;

std::vector<std::string> member_paths(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string one = list.substr(start, comma - start);
    if (one.empty() || one.back() == '.') throw CommandError(fmt::format("-m {}: an empty member name", list));
    out.push_back(std::move(one));
    start = comma + 1;
  }
  return out;
}

// crash prints counters (_count..., _mapcount...) in decimal, the rest in
// hex zero-padded to the member's size.
bool decimal_member(const PageMember& m) { return m.path.starts_with("_count") || m.path.starts_with("_mapcount"); }

// One report's way of showing a page: crash's page line, or -m's members.
class PageLines {
 public:
  PageLines(const Kernel& k, const ParsedArgs& args) : pages_(k), names_(k) {
    if (args.has('m')) members_.emplace(k, member_paths(*args.value('m')));
  }
  const PageStructReader& reader() const { return pages_; }

  std::string header() const {
    if (!members_) return page_header();
    std::string h = "      PAGE      ";
    for (const PageMember& m : members_->members()) h += "  " + m.path;
    return h + "\n";
  }
  void show(Output& out, Json& result, const PageStruct& p, std::span<const std::byte> bytes) const {
    if (!members_) {
      out.write(page_row(p, &names_));
      if (out.json()) result.push_back(page_json(p, &names_));
      return;
    }
    const std::vector<uint64_t> values = members_->values(bytes);
    std::string line = fmt::format("{:x}  ", p.page.value());
    Json j = {{"page", json_hex(p.page)}};
    Json members = Json::object();
    for (size_t i = 0; i < values.size(); ++i) {
      const PageMember& m = members_->members()[i];
      const uint64_t v = values[i];
      if (decimal_member(m)) {
        const int64_t s = m.is_signed && m.size < 8 ? static_cast<int64_t>(v << (64 - 8 * m.size)) >> (64 - 8 * m.size)
                                                    : static_cast<int64_t>(v);
        line += fmt::format("{}  ", s);
        members[m.path] = s;
      } else {
        line += fmt::format("{:0{}x}  ", v, m.pointer ? 16 : 2 * m.size);
        members[m.path] = json_hex(v);
      }
    }
    out.write(line + "\n");
    j["members"] = std::move(members);
    if (out.json()) result.push_back(std::move(j));
  }

 private:
  PageStructReader pages_;
  PageFlagNames names_;
  std::optional<PageMembers> members_;
};

// The sections' pages, every one, streamed.
void every_page(const Kernel& k, const PageLines& lines, Output& out, Json& result) {
  const MemorySections s = read_memory_sections(k);
  out.write(lines.header());
  uint64_t faults = 0;
  VirtAddr first_fault;
  std::string first_reason;
  for (size_t i = 0; i <= s.sections.size(); ++i) {
    for (const WalkBreak& b : s.breaks) {
      if (b.position != i) continue;
      out.print("(damaged: {})\n", b.describe());
      out.data_lost(fmt::format("mem_section: {}", b.describe()));
      result.push_back({{"page", nullptr}, {"error", b.describe()}});
    }
    if (i == s.sections.size() || out.closed()) break;
    const MemorySection& m = s.sections[i];
    // A page of the vmemmap at a time: check Ctrl-C and a closed pipe there.
    const uint64_t step = kPageSize;
    for (uint64_t done = 0; done < s.pages_per_section && !out.closed(); done += step) {
      throw_if_interrupted();
      const uint64_t n = std::min(step, s.pages_per_section - done);
      lines.reader().read_run(
          m.mem_map + done * lines.reader().size(), n,
          [&](const PageStruct& p, std::span<const std::byte> bytes) { lines.show(out, result, p, bytes); },
          [&](VirtAddr page, const std::string& why) {
            if (faults++ == 0) {
              first_fault = page;
              first_reason = why;
            }
            out.write(damaged_page_row(page, why));
            if (out.json()) result.push_back({{"page", json_hex(page)}, {"error", why}});
          });
    }
  }
  if (faults > 0) {
    out.data_lost(fmt::format("{} page structs could not be read, the first at {:x}: {}", faults, first_fault.value(),
                              first_reason));
  }
}

// The struct page an address argument names (crash's rules): a page struct,
// a kernel virtual address's page, or a physical address's.
VirtAddr page_for(const Kernel& k, const MemorySections& s, uint64_t page_size, const std::string& word) {
  const VirtAddr a = parse_address(&k, word);
  const VirtAddr vmemmap = k.layout().vmemmap_start;
  uint64_t pfn = 0;
  if (a.value() < kKernelHalf) {
    pfn = a.value() / kPageSize;
    if (!s.holds_pfn(pfn)) throw CommandError(fmt::format("-p {}: physical address has no page struct", word));
    return pfn_to_page(k, pfn);
  }
  if (a >= vmemmap && s.holds_pfn((a - vmemmap) / page_size)) {
    return vmemmap + (a - vmemmap) / page_size * page_size;
  }
  try {
    pfn = k.memory().to_phys(a).value() / kPageSize;
  } catch (const ModelError& e) {
    throw CommandError(fmt::format("-p {}: not mapped: {}", word, e.what()));
  }
  if (!s.holds_pfn(pfn)) throw CommandError(fmt::format("-p {}: maps memory that has no page struct", word));
  return pfn_to_page(k, pfn);
}

}  // namespace

void kmem_pages_report(Session& session, const ParsedArgs& args, Output& out) {
  const Kernel& k = session.kernel();
  const PageLines lines(k, args);
  Json result = Json::array();
  if (args.positional().empty()) {
    every_page(k, lines, out, result);
    out.result(std::move(result));
    return;
  }
  const MemorySections s = read_memory_sections(k);
  std::vector<VirtAddr> pages;
  for (const std::string& word : args.positional()) pages.push_back(page_for(k, s, lines.reader().size(), word));
  for (VirtAddr page : pages) {
    out.write(lines.header());
    lines.reader().read_run(
        page, 1, [&](const PageStruct& p, std::span<const std::byte> bytes) { lines.show(out, result, p, bytes); },
        [&](VirtAddr at, const std::string& why) {
          out.write(damaged_page_row(at, why));
          out.data_lost(fmt::format("page {:x}: {}", at.value(), why));
          result.push_back({{"page", json_hex(at)}, {"error", why}});
        });
  }
  out.result(std::move(result));
}

}  // namespace kdive
