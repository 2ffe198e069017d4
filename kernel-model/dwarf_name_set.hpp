// DwarfNameSet: the names a DWARF scan found, one entry per kind and name. A
// definition beats a declaration and, among equals, the lowest DIE offset wins:
// every unit that includes a header repeats its types identically, and this
// rule makes the result independent of the order units were scanned in — so
// several threads can each fill a set and merge them, and get what one would.
//
//   DwarfNameSet set;  scanner.scan(unit, set);   // set is a DwarfNameSink
//   other.merge_into(set);
//   set.for_each(NameKind::Struct, [](const DwarfNameSet::Entry& e) { ... });
//
// Kept small on purpose: a scan adds millions of names, and every megabyte of
// fresh memory costs page faults that show in the start-up time.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "kernel-model/dwarf_name_scan.hpp"
#include "kernel-model/name_hash.hpp"

namespace kdive {

class DwarfNameSet : public DwarfNameSink {
 public:
  struct Entry {
    const char* name_data;  // into the scanned sections
    uint32_t name_length : 31;
    uint32_t declaration : 1;
    uint32_t hash;  // low bits of name_hash(name)
    uint64_t die;
    int64_t value;
    std::string_view name() const { return {name_data, name_length}; }
  };

  void add(const DwarfName& n) override;
  void merge_into(DwarfNameSet& target) const;
  size_t size(NameKind kind) const { return tables_[static_cast<size_t>(kind)].entries.size(); }

  template <typename F>
  void for_each(NameKind kind, F&& f) const {
    for (const Entry& e : tables_[static_cast<size_t>(kind)].entries) f(e);
  }

 private:
  struct Table {
    std::vector<Entry> entries;
    std::vector<uint32_t> slots;  // open addressing over entries: index + 1, 0 = free
  };
  static void insert(Table& t, const Entry& e);
  static void grow(Table& t);
  std::array<Table, kNameKinds> tables_;
};

}  // namespace kdive
