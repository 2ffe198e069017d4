// kmem's memory-wide reports: which option asks for which report
// (kmem_memory.hpp); the reports live in files of their own.
#include "commands/kmem_memory.hpp"

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/kmem.hpp"

namespace kdive {

void kmem_memory_report(Session& session, const ParsedArgs& args, Output& out) {
  int chosen = 0;
  for (char flag : {'i', 'f', 'F', 'z', 'V', 'v', 'h', 'o', 'n', 'p', 'g'}) chosen += args.has(flag) ? 1 : 0;
  if (args.has('m') && !args.has('p')) ++chosen;  // -m is -p with other columns
  if (chosen > 1) throw CommandError("choose one of -i, -f, -F, -z, -V, -v, -h, -o, -n, -p, -m, -g");
  // Reports that take addresses or values of their own.
  if (args.has('p') || args.has('m')) return kmem_pages_report(session, args, out);
  if (args.has('g')) return kmem_page_flags_report(session, args, out);
  // kmem ADDRESS...: what each address is (kmem_address.cpp).
  if (!args.positional().empty()) {
    if (chosen > 0) throw CommandError("an address goes without -i, -f, -F, -z, -V, -v, -h, -o or -n");
    return kmem_address_report(session, args, out);
  }
  if (args.has('i')) return kmem_usage_report(session, out);
  if (args.has('f') || args.has('F')) return kmem_free_report(session, out, args.has('F'));
  if (args.has('z')) return kmem_zones_report(session, out);
  if (args.has('V')) return kmem_counters_report(session, out);
  if (args.has('v')) return kmem_vmalloc_report(session, out);
  if (args.has('h')) return kmem_huge_report(session, out);
  if (args.has('o')) return kmem_percpu_report(session, out);
  if (args.has('n')) return kmem_sections_report(session, out);
  throw CommandError("say which report: -i, -f, -F, -z, -V, -v, -h, -o, -n, -p, -m, -g, -s or -S");
}

}  // namespace kdive
