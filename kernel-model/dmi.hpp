// The firmware's identity strings (SMBIOS/DMI) as the kernel kept them in
// dmi_ident[], indexed by enum dmi_field: BIOS vendor and version, system
// vendor and product, chassis... QEMU fills these in; some platforms have none.
//
//   for (const DmiString& d : read_dmi_strings(kernel)) d.field, d.value;
#pragma once

#include <string>
#include <vector>

namespace kdive {

class Kernel;

struct DmiString {
  std::string field;  // the enumerator's name: "DMI_BIOS_VENDOR"
  std::string value;  // may be empty: the firmware gave an empty string
};

// Fields the firmware provided, in enum dmi_field order; a NULL entry (never
// provided) is left out. Throws Error(Lookup) when the kernel has no dmi_ident
// (CONFIG_DMI off) or its enum is not in the debuginfo.
std::vector<DmiString> read_dmi_strings(const Kernel& kernel);

}  // namespace kdive
