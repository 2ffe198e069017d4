// DwarfNameScan: the names a DWARF unit defines at its top level — types,
// variables, functions, and the enumerators of its enums — read straight from
// the section bytes. Each unit is independent, so units can be scanned on
// several threads at once (one DwarfUnitScanner per thread).
//
//   DwarfSections s = ...;                         // spans over the ELF sections
//   DwarfUnitScanner scanner(s);
//   for (uint64_t off : dwarf_unit_offsets(s.info)) scanner.scan(off, sink);
//
// Names match what libdw's dwarf_diename gives for the same DIE, including a
// name inherited through DW_AT_specification / DW_AT_abstract_origin.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "kernel-model/dwarf_bytes.hpp"

namespace kdive {

enum class NameKind { Struct, Union, Enum, Typedef, Base, Variable, Function, Enumerator, Count };
constexpr size_t kNameKinds = static_cast<size_t>(NameKind::Count);

struct DwarfSections {
  std::span<const uint8_t> info, abbrev, str, line_str, str_offsets;
  // Where the ELF section of this name goes (nullptr: not one the scan reads).
  std::span<const uint8_t>* slot(std::string_view section_name) {
    if (section_name == ".debug_info") return &info;
    if (section_name == ".debug_abbrev") return &abbrev;
    if (section_name == ".debug_str") return &str;
    if (section_name == ".debug_line_str") return &line_str;
    if (section_name == ".debug_str_offsets") return &str_offsets;
    return nullptr;
  }
};

struct DwarfName {
  NameKind kind;
  std::string_view name;  // points into the sections
  uint64_t die;           // .debug_info offset; for an enumerator, its enum's DIE
  int64_t value;          // enumerators: the constant
  // Only declares the name: DW_AT_declaration, a variable without a location,
  // a function without code.
  bool declaration;
};

class DwarfNameSink {
 public:
  virtual ~DwarfNameSink() = default;
  virtual void add(const DwarfName& name) = 0;
};

// Offsets of the unit headers in .debug_info, in section order.
std::vector<uint64_t> dwarf_unit_offsets(std::span<const uint8_t> info);

class DwarfUnitScanner {
 public:
  explicit DwarfUnitScanner(const DwarfSections& sections) : s_(sections) {}
  // Reports the unit's names to `sink`. Throws DwarfFormatError on malformed data
  // (names reported before the error stay reported).
  void scan(uint64_t unit_offset, DwarfNameSink& sink);

  struct AttrSpec {
    uint32_t name;
    uint32_t form;
    int64_t implicit_const;
  };
  struct Abbrev {
    uint32_t tag = 0;
    bool children = false;
    uint32_t first = 0, count = 0;  // its AttrSpecs in attrs_
    int32_t fixed_size = -1;        // bytes of all attributes when no form varies
  };

 private:
  struct Unit;
  struct DieAttrs;
  void load_abbrevs(uint64_t offset, const DwarfUnitShape& shape);
  const Abbrev& abbrev(uint64_t code) const;
  void read_attrs(DwarfBytes& in, const Abbrev& a, const Unit& u, DieAttrs& out) const;
  void skip_attrs(DwarfBytes& in, const Abbrev& a, const Unit& u) const;
  void skip_children(DwarfBytes& in, const Unit& u) const;
  std::string_view inherited_name(uint64_t die, const Unit& u, int depth) const;
  void scan_enumerators(DwarfBytes& in, const Unit& u, uint64_t enum_die, DwarfNameSink& sink) const;

  DwarfSections s_;
  uint64_t abbrev_offset_ = ~uint64_t{0};  // the table loaded now (units often share none, sometimes all)
  std::vector<Abbrev> abbrevs_;            // by code
  std::vector<AttrSpec> attrs_;
};

}  // namespace kdive
