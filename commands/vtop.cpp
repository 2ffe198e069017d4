// vtop: translate virtual addresses to physical, showing each page-table level.
// ptov: the reverse, for the direct map.
#include <fmt/format.h>

#include <algorithm>

#include "commands/address_arg.hpp"
#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "kernel-model/errors.hpp"

namespace kdive {
namespace {

constexpr uint64_t kUserSpaceEnd = 0x0100000000000000ull;

std::string entry_flags(uint64_t e, bool leaf_level) {
  struct Bit {
    uint64_t mask;
    const char* name;
  };
  static const Bit bits[] = {{1ull << 0, "PRESENT"}, {1ull << 1, "RW"},       {1ull << 2, "USER"},  {1ull << 3, "PWT"},
                             {1ull << 4, "PCD"},     {1ull << 5, "ACCESSED"}, {1ull << 6, "DIRTY"}, {1ull << 7, "PSE"},
                             {1ull << 8, "GLOBAL"},  {1ull << 63, "NX"}};
  std::string out;
  for (const auto& b : bits) {
    // Bit 7 is PAT, not PSE, in a 4 KiB PTE.
    if (b.mask == (1ull << 7) && leaf_level) continue;
    if (e & b.mask) out += fmt::format("{}{}", out.empty() ? "" : "|", b.name);
  }
  return out;
}

std::string page_size_note(uint64_t size) {
  if (size == (1ull << 30)) return "  (1GB)";
  if (size == (2ull << 20)) return "  (2MB)";
  return "";
}

void show(Kernel& k, uint64_t vaddr, bool user, Output& out) {
  std::optional<PhysAddr> pgd;
  if (user) {
    pgd = k.cpu_page_table(k.panic_cpu().value_or(0));
    if (!pgd) {
      throw CommandError(
          "no user address space for the current context: the dump has no CPU control "
          "registers (CR3) for the panic CPU");
    }
  }
  const KernelMemory& mem = k.memory();
  Translation t = mem.translate(VirtAddr{vaddr}, pgd);
  std::optional<PhysAddr> phys = t.phys;
  const int width = user ? 10 : 16;
  out.print("{:<{}}  {:<16}\n", "VIRTUAL", width, "PHYSICAL");
  out.print("{:<{}x}  {:<16}\n\n", vaddr, width, phys ? fmt::format("{:x}", phys->value()) : "(not mapped)");

  PhysAddr top = pgd.value_or(k.layout().kernel_pgd);
  if (!user) {
    out.print("PGD DIRECTORY: {:x}\n", mem.to_direct(top).value());
  }
  for (size_t i = 0; i < t.levels.size(); ++i) {
    const auto& level = t.levels[i];
    if (i == 0 && !user) {
      out.print("PAGE DIRECTORY: {:x}\n", level.entry);
    } else {
      out.print("{:>6}: {:x} => {:x}\n", level.level, level.entry_address.value(), level.entry);
    }
  }
  if (t.phys) {
    out.print("  PAGE: {:x}{}\n", t.phys->value() & ~(t.page_size - 1), page_size_note(t.page_size));
    const auto& leaf = t.levels.back();
    std::string page = fmt::format("{:x}", t.phys->value() & ~(t.page_size - 1));
    const int phys_width = std::max<int>(8, static_cast<int>(page.size()));
    out.print("\n{:>9}{:7}  {:>{}}  FLAGS\n", leaf.level, "", "PHYSICAL", phys_width);
    out.print("{:>16x}  {:>{}}  ({})\n", leaf.entry, page, phys_width, entry_flags(leaf.entry, leaf.level == "PTE"));
  } else {
    out.print("\n{}: {}\n", fmt::format("{:x}", vaddr), t.fault);
  }
}

void run_vtop(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.positional().empty()) throw CommandError("an address is needed (see 'help vtop')");
  if (args.has('u') && args.has('k')) throw CommandError("-u and -k exclude each other");
  bool first = true;
  for (const auto& word : args.positional()) {
    uint64_t vaddr = parse_address(&k, word);
    bool user = args.has('u') || (!args.has('k') && vaddr < kUserSpaceEnd);
    if (!first) out.print("\n");
    show(k, vaddr, user, out);
    first = false;
  }
}

void run_ptov(Session& session, const ParsedArgs& args, Output& out) {
  Kernel& k = session.kernel();
  if (args.positional().empty()) throw CommandError("a physical address is needed (see 'help ptov')");
  bool first = true;
  for (const auto& word : args.positional()) {
    auto p = parse_number(word, 16);
    if (!p) throw CommandError(fmt::format("invalid physical address: '{}'", word));
    out.print("{}{:<16}  {:<16}\n", first ? "" : "\n", "VIRTUAL", "PHYSICAL");
    out.print("{:<16x}  {:<16x}\n", k.memory().to_direct(PhysAddr{*p}).value(), *p);
    first = false;
  }
}

const CommandRegistrar vtop_registrar{
    {.name = "vtop",
     .summary = "virtual to physical address translation",
     .usage = "vtop [-u|-k] address ...",
     .description = "Translates each virtual address through the page tables and shows every\n"
                    "level visited (PGD, P4D with 5-level paging, PUD, PMD, PTE), the physical\n"
                    "page, its size for 2 MB and 1 GB mappings, and the last entry's flags.\n"
                    "Kernel addresses use the kernel's page table (init_top_pgt); user\n"
                    "addresses (-u, or any address below the kernel half) use the page table\n"
                    "the panic CPU was running on.",
     .examples = "A kernel text address, mapped by a 2 MB page:\n"
                 "\n"
                 "  kdive> vtop linux_banner\n"
                 "  VIRTUAL           PHYSICAL\n"
                 "  ffffffffabe00200  1be00200\n"
                 "\n"
                 "  PGD DIRECTORY: ffff8bd69a20a000\n"
                 "  PAGE DIRECTORY: 1a20e067\n"
                 "     PUD: 1a20eff0 => 1a20f063\n"
                 "     PMD: 1a20f6f8 => 8000000001be001e1\n"
                 "    PAGE: 1be00000  (2MB)",
     .options = {{'u', "", "the addresses are user virtual addresses"},
                 {'k', "", "the addresses are kernel virtual addresses"}},
     .aliases = {}},
    run_vtop};

const CommandRegistrar ptov_registrar{
    {.name = "ptov",
     .summary = "physical to virtual address translation",
     .usage = "ptov physical-address ...",
     .description = "Shows the kernel's direct-map (page_offset_base) virtual address of each\n"
                    "physical address. Addresses are hex.",
     .examples = "  kdive> ptov 1000000 2000\n"
                 "  VIRTUAL           PHYSICAL\n"
                 "  ffff8bd681000000  1000000\n"
                 "\n"
                 "  VIRTUAL           PHYSICAL\n"
                 "  ffff8bd680002000  2000",
     .options = {},
     .aliases = {}},
    run_ptov};

}  // namespace
}  // namespace kdive
