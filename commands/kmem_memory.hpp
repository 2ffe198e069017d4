// The memory-wide kmem reports, one function per option (kmem_memory.cpp picks
// the one asked for). Each prints crash's text and gives its JSON result from
// the same values.
//
//   kmem_usage_report(session, out);          // kmem -i
//   kmem_free_report(session, out, true);     // kmem -F
#pragma once

namespace kdive {

class Session;
class Output;
class ParsedArgs;

// -i: the memory usage table (kmem_usage.cpp).
void kmem_usage_report(Session& session, Output& out);
// -f / -F: the buddy free areas, counted; -F lists every free block (kmem_free.cpp).
void kmem_free_report(Session& session, Output& out, bool every_block);
// -z: each zone's statistics; -V: the vm_stat counters by name (kmem_zones.cpp).
void kmem_zones_report(Session& session, Output& out);
void kmem_counters_report(Session& session, Output& out);
// -v: the vmalloc areas (kmem_vmalloc.cpp).
void kmem_vmalloc_report(Session& session, Output& out);
// -h: the huge page pools; -o: each CPU's per-CPU offset (kmem_pools.cpp).
void kmem_huge_report(Session& session, Output& out);
void kmem_percpu_report(Session& session, Output& out);
// -n: memory nodes, zones and sections (kmem_sections.cpp).
void kmem_sections_report(Session& session, Output& out);
// -p / -m MEMBERS [ADDRESS...]: page structs (kmem_pages.cpp).
void kmem_pages_report(Session& session, const ParsedArgs& args, Output& out);
// -g [FLAGS...]: the page flag bits, or those a flags value holds (kmem_page_flags.cpp).
void kmem_page_flags_report(Session& session, const ParsedArgs& args, Output& out);
// kmem ADDRESS...: what each address is, and its page struct (kmem_address.cpp).
void kmem_address_report(Session& session, const ParsedArgs& args, Output& out);

}  // namespace kdive
