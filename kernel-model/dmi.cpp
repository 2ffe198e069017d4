#include "kernel-model/dmi.hpp"

#include <algorithm>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"

namespace kdive {

std::vector<DmiString> read_dmi_strings(const Kernel& k) {
  if (k.symbols().find("dmi_ident") == nullptr) {
    throw Error(Error::Kind::Lookup, "dmi_ident does not exist in this kernel (no DMI support)");
  }
  const Type* fields = k.types().find(NameKind::Enum, "dmi_field");
  if (fields == nullptr) throw Error(Error::Kind::Lookup, "enum dmi_field is not in the vmlinux's debuginfo");
  Object ident = k.object("dmi_ident");  // static const char *dmi_ident[DMI_STRING_MAX]
  const uint64_t count = ident.type().strip().count().value_or(0);

  std::vector<Enumerator> order(fields->enumerators());
  std::sort(order.begin(), order.end(), [](const Enumerator& a, const Enumerator& b) { return a.value < b.value; });
  std::vector<DmiString> out;
  for (const Enumerator& e : order) {
    // DMI_NONE (0) is no field, and DMI_STRING_MAX and later ones (DMI_OEM_STRING)
    // have no slot in dmi_ident.
    if (e.value <= 0 || static_cast<uint64_t>(e.value) >= count) continue;
    Object slot = ident.at(static_cast<uint64_t>(e.value));
    if (slot.is_null()) continue;
    out.push_back({e.name, slot.string(256)});
  }
  return out;
}

}  // namespace kdive
