// Placeholder on the kmem work branch: replaced by the real report.
#include "commands/api/command.hpp"
#include "commands/kmem.hpp"

namespace kdive {

void kmem_slab_report(Session&, const ParsedArgs&, Output&) { throw CommandError("kmem: this report is being built"); }

}  // namespace kdive
