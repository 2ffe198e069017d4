// kmem: one command name for several independent memory reports, each in a
// file of its own; kmem.cpp parses the options and sends each report to the
// function below that makes it.
//
//   kmem -s | -S | -I NAME | -s NAME     kmem_slab_report (kmem_slab.cpp)
//   kmem -i | -f | -F | -z | -V | -v ... kmem_memory_report (kmem_memory.cpp)
#pragma once

namespace kdive {

class Session;
class ParsedArgs;
class Output;

// The slab allocator's caches: -s (one line per cache), -S (each slab and
// its objects), -I (caches to skip), a positional cache name.
void kmem_slab_report(Session& session, const ParsedArgs& args, Output& out);

// Memory-wide reports: -i (usage summary), -f/-F (buddy free lists), -z
// (zones), -V (vm_stat counters), -n (sections and nodes), -p (page structs),
// -g (page flags), -m (page members), -v (vmalloc areas), -h (huge pages),
// -o (per-CPU offsets).
void kmem_memory_report(Session& session, const ParsedArgs& args, Output& out);

}  // namespace kdive
