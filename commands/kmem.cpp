// kmem: the options of every kmem report, and which report each one asks for
// (see kmem.hpp); the reports themselves live in kmem_slab.cpp and
// kmem_memory.cpp.
#include "commands/kmem.hpp"

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"

namespace kdive {
namespace {

bool wants_slabs(const ParsedArgs& args) { return args.has('s') || args.has('S') || args.has('I'); }

void run_kmem(Session& session, const ParsedArgs& args, Output& out) {
  if (wants_slabs(args)) {
    kmem_slab_report(session, args, out);
  } else {
    kmem_memory_report(session, args, out);
  }
}

const CommandRegistrar registrar{
    {.name = "kmem",
     .summary = "kernel memory: usage, slab caches, free pages, zones, vmalloc",
     .usage = "kmem [-i|-f|-F|-z|-V|-n|-v|-h|-o] [-p|-g [flags]|-m member[,member]] | [-s|-S] [-I cache[,cache]] "
              "[cache]",
     .description = "Reports on the kernel's memory, each option one report:\n"
                    "\n"
                    "  -i  memory usage in pages, bytes and percentages, as /proc/meminfo counts it\n"
                    "  -s  the slab caches, one line each; -S each slab of a cache with its objects",
     .examples = "  kdive> kmem -i",
     .options = {{'i', "", "memory usage summary"},
                 {'f', "", "the buddy allocator's free lists, counted"},
                 {'F', "", "the free lists, with every free block"},
                 {'z', "", "each zone's statistics"},
                 {'V', "", "the kernel's vm_stat, vm_node_stat and vm_event counters"},
                 {'n', "", "memory sections and nodes"},
                 {'p', "", "the page structs of all memory"},
                 {'g', "", "decode page flags (of a value, or list them)"},
                 {'m', "member", "the page structs, showing these members"},
                 {'v', "", "the vmalloc areas"},
                 {'h', "", "the huge page pools"},
                 {'o', "", "each CPU's per-CPU offset"},
                 {'s', "", "the slab caches"},
                 {'S', "", "the slab caches, each slab and its objects"},
                 {'I', "cache", "skip these caches (comma-separated)"}},
     .aliases = {},
     .json = {.kind = JsonShape::Kind::Object, .keys = {}, .notes = "", .example = "kmem -i"}},
    run_kmem};

}  // namespace
}  // namespace kdive
