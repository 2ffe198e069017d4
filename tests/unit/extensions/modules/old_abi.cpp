// Broken on purpose: built with libstdc++'s pre-C++11 std::string
// (-D_GLIBCXX_USE_CXX11_ABI=0), whose layout differs from kdive's. It uses
// nothing of kdive's whose mangled name would tell (no std::string crosses in
// a signature here), so dlopen succeeds and only the toolchain check refuses it.
#include "extensions/kdive_extension.hpp"

namespace {
void run(kdive::Session&, const kdive::ParsedArgs&, kdive::Output& out) { out.write("old string\n"); }
}  // namespace

KDIVE_EXTENSION("old-abi", "built with the pre-C++11 std::string") {
  host.add_command({.name = "ext-old-abi",
                    .summary = "",
                    .usage = "",
                    .description = "",
                    .examples = "",
                    .options = {},
                    .aliases = {},
                    .json = {}},
                   run);
}
