#include "kernel-model/dwarf_name_set.hpp"

namespace kdive {

namespace {

// Whether `a` should replace `b` as the entry for their name.
bool better(const DwarfNameSet::Entry& a, const DwarfNameSet::Entry& b) {
  if (a.declaration != b.declaration) return !a.declaration;
  return a.die < b.die;
}

// A few thousand names per kind is common even in one unit.
constexpr size_t kInitialSlots = 1 << 12;

}  // namespace

void DwarfNameSet::grow(Table& t) {
  t.slots.assign(t.slots.empty() ? kInitialSlots : t.slots.size() * 2, 0);
  size_t mask = t.slots.size() - 1;
  for (size_t i = 0; i < t.entries.size(); ++i) {
    size_t b = t.entries[i].hash & mask;
    while (t.slots[b] != 0) b = (b + 1) & mask;
    t.slots[b] = static_cast<uint32_t>(i + 1);
  }
}

void DwarfNameSet::insert(Table& t, const Entry& e) {
  if ((t.entries.size() + 1) * 2 > t.slots.size()) grow(t);
  size_t mask = t.slots.size() - 1;
  for (size_t b = e.hash & mask;; b = (b + 1) & mask) {
    uint32_t slot = t.slots[b];
    if (slot == 0) {
      t.entries.push_back(e);
      t.slots[b] = static_cast<uint32_t>(t.entries.size());
      return;
    }
    Entry& old = t.entries[slot - 1];
    if (old.hash == e.hash && old.name() == e.name()) {
      if (better(e, old)) old = e;
      return;
    }
  }
}

void DwarfNameSet::add(const DwarfName& n) {
  Entry e{n.name.data(),
          static_cast<uint32_t>(n.name.size()),
          n.declaration ? 1u : 0u,
          static_cast<uint32_t>(name_hash(n.name)),
          n.die,
          n.value};
  insert(tables_[static_cast<size_t>(n.kind)], e);
}

void DwarfNameSet::merge_into(DwarfNameSet& target) const {
  for (size_t k = 0; k < kNameKinds; ++k) {
    for (const Entry& e : tables_[k].entries) insert(target.tables_[k], e);
  }
}

}  // namespace kdive
