// Broken on purpose: an extension built against another version of the
// extension header (one version ahead of this kdive's).
#include "extensions/kdive_extension.hpp"

namespace {
void register_nothing(kdive::ExtensionHost&) {}
}  // namespace

extern "C" const kdive::ExtensionInfo* kdive_extension() {
  static constexpr kdive::ExtensionInfo info{kdive::kExtensionApiVersion + 1, kdive::this_toolchain(), "wrong-version",
                                             "built for the next API version", &register_nothing};
  return &info;
}
