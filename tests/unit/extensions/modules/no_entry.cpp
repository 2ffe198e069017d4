// Broken on purpose: a command function but no kdive_extension entry point
// (KDIVE_EXTENSION was forgotten).
#include "extensions/kdive_extension.hpp"

void lonely(kdive::Session&, const kdive::ParsedArgs&, kdive::Output& out) { out.write("never registered\n"); }
