// pte: decode page-table entry values: the physical page and flag bits of a
// present entry, the swap device and offset of a swap entry.
#include <fmt/format.h>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/json_values.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/vma_rows.hpp"
#include "kernel-model/address_space.hpp"
#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/page_location.hpp"
#include "kernel-model/swap.hpp"

namespace kdive {
namespace {

std::string flags_text(const std::vector<std::string_view>& flags) {
  std::string out;
  for (std::string_view f : flags) out += fmt::format("{}{}", out.empty() ? "" : "|", f);
  return out;
}

void run(Session& session, const ParsedArgs& args, Output& out) {
  if (args.positional().empty()) throw CommandError("a PTE value is needed (see 'help pte')");
  std::vector<SwapDevice> devices;
  try {
    devices = read_swap_devices(session.kernel());
  } catch (const ModelError&) {
    // No swap table: a swap entry is still decoded, its device unnamed.
  }
  Json rows = Json::array();
  bool first = true;
  for (const std::string& word : args.positional()) {
    auto value = parse_number(word, 16);
    if (!value) throw CommandError(fmt::format("invalid PTE value: '{}'", word));
    const uint64_t pte = *value;
    if (!first) out.print("\n");
    first = false;
    Json row = {{"pte", json_hex(pte)}};
    if (pte & kPtePresent) {
      // A value alone has no level: bit 7 is shown as PSE, as crash does (a
      // huge page's PUD or PMD; PAT in a 4 KiB page's PTE).
      const PageTableEntry entry{(pte & kPteHuge) ? "PMD" : "PTE", PhysAddr{0}, pte};
      const auto flags = entry_flag_names(entry);
      const uint64_t physical = pte & kPteAddressMask;
      const std::string phys_text = fmt::format("{:x}", physical);
      const int width = std::max<int>(8, static_cast<int>(phys_text.size()));
      out.print("{:>9}{:7}  {:>{}}  FLAGS\n", "PTE", "", "PHYSICAL", width);
      out.print("{:>16x}  {:>{}}  ({})\n", pte, phys_text, width, flags_text(flags));
      row["physical"] = json_hex(physical);
      row["flags"] = flags;
    } else if (auto swap = decode_swap_pte(pte)) {
      PageLocation at;
      at.swap = swap;
      at.entry = pte;
      for (const SwapDevice& d : devices) {
        if (d.type == swap->type) at.swap_device = d.path;
      }
      out.print("{}\n", swap_pte_lines(at));
      row["physical"] = nullptr;
      row["swap"] = swap_json(at);
    } else {
      out.print("{:>9}{:7}  {:>8}  FLAGS\n", "PTE", "", "PHYSICAL");
      out.print("{:>16x}  {:>8}  (no mapping)\n", pte, 0);
      row["physical"] = nullptr;
    }
    rows.push_back(std::move(row));
  }
  out.result(std::move(rows));
}

const CommandRegistrar registrar{
    {.name = "pte",
     .summary = "translate a page table entry",
     .usage = "pte value ...",
     .description = "Decodes each x86_64 page-table entry value (hex): a present entry's physical\n"
                    "page and the names of its flag bits; a swap entry's swap device (from\n"
                    "swap_info[]) and page offset on it; or no mapping.",
     .examples = "  kdive> pte 80000000055d0867\n"
                 "          PTE         PHYSICAL  FLAGS\n"
                 "  80000000055d0867   55d0000  (PRESENT|RW|USER|ACCESSED|DIRTY|NX)\n"
                 "\n"
                 "  kdive> pte 7fffffffffffc02\n"
                 "        PTE          SWAP    OFFSET\n"
                 "  7fffffffffffc02  /dev/vda     1",
     .options = {},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::List,
              .keys = {"pte", "physical"},
              .notes = "One object per value: pte, physical (null unless present), flags (the names of\n"
                       "the bits of a present entry), and for a swap entry swap {device (null when\n"
                       "swap_info[] has no such device), type, offset}.",
              .example = "pte 80000000055d0867"}},
    run};

}  // namespace
}  // namespace kdive
