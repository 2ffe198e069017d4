#include "kernel-model/vma_flag_names.hpp"

#include <cctype>

#include "kernel-model/errors.hpp"
#include "kernel-model/kernel.hpp"
#include "kernel-model/object.hpp"

namespace kdive {
namespace {

// More entries than any kernel's table has (5.10: 32, 6.12: 33): a table
// without its NULL end is not read past this.
constexpr uint64_t kMaxEntries = 128;

}  // namespace

VmaFlagNames::VmaFlagNames(const Kernel& k) {
  if (!k.symbols().address("vmaflag_names")) {
    throw Error(Error::Kind::Lookup, "this kernel has no vmaflag_names table (mm/debug.c)");
  }
  Object table = k.object("vmaflag_names");
  uint64_t count = table.type().strip().count().value_or(kMaxEntries);
  for (uint64_t i = 0; i < std::min(count, kMaxEntries); ++i) {
    Object entry = table.at(i);
    if (entry["name"].is_null()) break;
    VmaFlagName n{entry["mask"].as_u64(), entry["name"].string(64)};
    for (char& c : n.name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // An architecture's unused flag is VM_NONE (0), which would match anything.
    if (n.mask != 0) table_.push_back(std::move(n));
  }
}

DecodedVmaFlags VmaFlagNames::describe(uint64_t flags) const {
  DecodedVmaFlags d;
  uint64_t named = 0;
  for (const VmaFlagName& n : table_) {
    if ((flags & n.mask) != n.mask) continue;
    d.names.push_back(n.name);
    named |= n.mask;
  }
  d.unknown = flags & ~named;
  return d;
}

}  // namespace kdive
