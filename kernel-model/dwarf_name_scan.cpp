#include "kernel-model/dwarf_name_scan.hpp"

#include <dwarf.h>
#include <fmt/format.h>

#include <cstring>
#include <optional>

namespace kdive {

namespace {

constexpr uint64_t kFormGnuStrIndex = 0x1f02;
// Abbreviation codes are small and dense in practice; a larger one means garbage.
constexpr uint64_t kMaxAbbrevCode = 1u << 20;
// specification -> abstract_origin chains are short; a longer one is a loop.
constexpr int kMaxInheritDepth = 8;

std::optional<NameKind> kind_of(uint32_t tag) {
  switch (tag) {
    case DW_TAG_structure_type:
      return NameKind::Struct;
    case DW_TAG_union_type:
      return NameKind::Union;
    case DW_TAG_enumeration_type:
      return NameKind::Enum;
    case DW_TAG_typedef:
      return NameKind::Typedef;
    case DW_TAG_base_type:
      return NameKind::Base;
    case DW_TAG_variable:
      return NameKind::Variable;
    case DW_TAG_subprogram:
      return NameKind::Function;
    default:
      return std::nullopt;
  }
}

bool is_unit_relative_ref(uint64_t form) {
  return form == DW_FORM_ref1 || form == DW_FORM_ref2 || form == DW_FORM_ref4 || form == DW_FORM_ref8 ||
         form == DW_FORM_ref_udata;
}

}  // namespace

// One unit's header facts.
struct DwarfUnitScanner::Unit {
  uint64_t start;      // offset of the unit header
  uint64_t end;        // one past its last byte
  uint64_t die_start;  // offset of the unit DIE
  DwarfUnitShape shape;
  uint64_t str_offsets_base = 0;
};

// What the index needs from one DIE's attributes.
struct DwarfUnitScanner::DieAttrs {
  std::string_view name;
  bool has_name = false, declaration = false, location = false, low_pc = false;
  uint64_t sibling = 0;  // section offset, 0 when absent
  uint64_t inherit = 0;  // DW_AT_specification / DW_AT_abstract_origin target
  std::optional<int64_t> const_value;
  uint64_t str_offsets_base = 0;
  bool has_str_offsets_base = false;
};

std::vector<uint64_t> dwarf_unit_offsets(std::span<const uint8_t> info) {
  std::vector<uint64_t> out;
  // Never throws: a truncated or padded tail just ends the list.
  uint64_t pos = 0;
  while (info.size() - pos >= 4) {
    uint64_t start = pos;
    uint32_t length32;
    std::memcpy(&length32, info.data() + pos, 4);
    pos += 4;
    uint64_t length = length32;
    if (length32 == 0xffffffff) {
      if (info.size() - pos < 8) break;
      std::memcpy(&length, info.data() + pos, 8);
      pos += 8;
    }
    if (length == 0 || length > info.size() - pos) break;
    out.push_back(start);
    pos += length;
  }
  return out;
}

void DwarfUnitScanner::load_abbrevs(uint64_t offset, const DwarfUnitShape& shape) {
  abbrevs_.clear();
  attrs_.clear();
  abbrev_offset_ = ~uint64_t{0};
  DwarfBytes in(s_.abbrev, offset);
  for (;;) {
    uint64_t code = in.uleb();
    if (code == 0) break;
    if (code > kMaxAbbrevCode) throw DwarfFormatError(fmt::format("abbreviation code {} is too large", code));
    if (code >= abbrevs_.size()) abbrevs_.resize(code + 1);
    Abbrev& a = abbrevs_[code];
    a.tag = static_cast<uint32_t>(in.uleb());
    a.children = in.u8() != 0;
    a.first = static_cast<uint32_t>(attrs_.size());
    int64_t fixed = 0;
    for (;;) {
      uint64_t name = in.uleb(), form = in.uleb();
      if (name == 0 && form == 0) break;
      int64_t implicit = form == DW_FORM_implicit_const ? in.sleb() : 0;
      attrs_.push_back({static_cast<uint32_t>(name), static_cast<uint32_t>(form), implicit});
      unsigned size = fixed_form_size(form, shape);
      bool zero_size = form == DW_FORM_flag_present || form == DW_FORM_implicit_const;
      if (fixed >= 0 && (size > 0 || zero_size)) {
        fixed += size;
      } else {
        fixed = -1;
      }
    }
    a.count = static_cast<uint32_t>(attrs_.size()) - a.first;
    a.fixed_size = static_cast<int32_t>(fixed);
  }
  abbrev_offset_ = offset;
}

const DwarfUnitScanner::Abbrev& DwarfUnitScanner::abbrev(uint64_t code) const {
  if (code >= abbrevs_.size() || abbrevs_[code].tag == 0) {
    throw DwarfFormatError(fmt::format("undefined abbreviation code {}", code));
  }
  return abbrevs_[code];
}

void DwarfUnitScanner::skip_attrs(DwarfBytes& in, const Abbrev& a, const Unit& u) const {
  if (a.fixed_size >= 0) {
    in.skip(static_cast<uint64_t>(a.fixed_size));
    return;
  }
  for (uint32_t i = a.first; i < a.first + a.count; ++i) skip_form(in, attrs_[i].form, u.shape);
}

void DwarfUnitScanner::read_attrs(DwarfBytes& in, const Abbrev& a, const Unit& u, DieAttrs& out) const {
  for (uint32_t i = a.first; i < a.first + a.count; ++i) {
    const AttrSpec& spec = attrs_[i];
    uint64_t form = spec.form;
    if (form == DW_FORM_indirect) form = in.uleb();
    switch (spec.name) {
      case DW_AT_name:
        switch (form) {
          case DW_FORM_string:
            out.name = in.cstring();
            out.has_name = true;
            continue;
          case DW_FORM_strp:
            out.name = string_at(s_.str, in.fixed(u.shape.offset_size));
            out.has_name = true;
            continue;
          case DW_FORM_line_strp:
            out.name = string_at(s_.line_str, in.fixed(u.shape.offset_size));
            out.has_name = true;
            continue;
          case DW_FORM_strx:
          case DW_FORM_strx1:
          case DW_FORM_strx2:
          case DW_FORM_strx3:
          case DW_FORM_strx4:
          case kFormGnuStrIndex: {
            uint64_t index = (form == DW_FORM_strx || form == kFormGnuStrIndex)
                                 ? in.uleb()
                                 : in.fixed(fixed_form_size(form, u.shape));
            uint64_t at = u.str_offsets_base + index * u.shape.offset_size;
            if (at + u.shape.offset_size <= s_.str_offsets.size()) {
              DwarfBytes offsets(s_.str_offsets, at);
              out.name = string_at(s_.str, offsets.fixed(u.shape.offset_size));
              out.has_name = true;
            }
            continue;
          }
          default:
            break;  // a name in a form we cannot resolve (e.g. a dwz alternate file): none
        }
        break;
      case DW_AT_declaration:
        out.declaration = true;
        break;
      case DW_AT_location:
        out.location = true;
        break;
      case DW_AT_low_pc:
        out.low_pc = true;
        break;
      case DW_AT_sibling:
      case DW_AT_specification:
      case DW_AT_abstract_origin: {
        uint64_t target;
        if (is_unit_relative_ref(form)) {
          target = u.start + (form == DW_FORM_ref_udata ? in.uleb() : in.fixed(fixed_form_size(form, u.shape)));
        } else if (form == DW_FORM_ref_addr) {
          target = in.fixed(fixed_form_size(form, u.shape));
        } else {
          break;
        }
        (spec.name == DW_AT_sibling ? out.sibling : out.inherit) = target;
        continue;
      }
      case DW_AT_const_value:
        switch (form) {
          // GCC gives non-negative constants the smallest data form and negative
          // ones sdata, so data forms are unsigned (libdw sign-extends them).
          case DW_FORM_data1:
          case DW_FORM_data2:
          case DW_FORM_data4:
          case DW_FORM_data8:
            out.const_value = static_cast<int64_t>(in.fixed(fixed_form_size(form, u.shape)));
            continue;
          case DW_FORM_udata:
            out.const_value = static_cast<int64_t>(in.uleb());
            continue;
          case DW_FORM_sdata:
            out.const_value = in.sleb();
            continue;
          case DW_FORM_implicit_const:
            out.const_value = spec.implicit_const;
            continue;
          default:
            break;
        }
        break;
      case DW_AT_str_offsets_base:
        if (form == DW_FORM_sec_offset) {
          out.str_offsets_base = in.fixed(u.shape.offset_size);
          out.has_str_offsets_base = true;
          continue;
        }
        break;
      default:
        break;
    }
    skip_form(in, form, u.shape);
  }
}

void DwarfUnitScanner::skip_children(DwarfBytes& in, const Unit& u) const {
  int depth = 1;
  while (depth > 0) {
    if (in.offset() >= u.end) throw DwarfFormatError("DIE children run past the end of their unit");
    uint64_t code = in.uleb();
    if (code == 0) {
      --depth;
      continue;
    }
    const Abbrev& a = abbrev(code);
    skip_attrs(in, a, u);
    if (a.children) ++depth;
  }
}

std::string_view DwarfUnitScanner::inherited_name(uint64_t die, const Unit& u, int depth) const {
  // Only DIEs of this unit: the abbreviations loaded are this unit's.
  if (depth > kMaxInheritDepth || die < u.die_start || die >= u.end) return {};
  DwarfBytes in(s_.info, die);
  uint64_t code = in.uleb();
  if (code == 0) return {};
  DieAttrs attrs;
  read_attrs(in, abbrev(code), u, attrs);
  if (attrs.has_name) return attrs.name;
  return attrs.inherit != 0 ? inherited_name(attrs.inherit, u, depth + 1) : std::string_view{};
}

void DwarfUnitScanner::scan_enumerators(DwarfBytes& in, const Unit& u, uint64_t enum_die, DwarfNameSink& sink) const {
  for (;;) {
    if (in.offset() >= u.end) throw DwarfFormatError("enumeration children run past the end of their unit");
    uint64_t code = in.uleb();
    if (code == 0) return;
    const Abbrev& a = abbrev(code);
    if (a.tag != DW_TAG_enumerator) {
      skip_attrs(in, a, u);
    } else {
      DieAttrs attrs;
      read_attrs(in, a, u, attrs);
      if (!attrs.name.empty() && attrs.const_value) {
        sink.add({NameKind::Enumerator, attrs.name, enum_die, *attrs.const_value, false});
      }
    }
    if (a.children) skip_children(in, u);
  }
}

void DwarfUnitScanner::scan(uint64_t unit_offset, DwarfNameSink& sink) {
  DwarfBytes in(s_.info, unit_offset);
  Unit u;
  u.start = unit_offset;
  uint64_t length = in.fixed(4);
  if (length == 0xffffffff) {
    length = in.fixed(8);
    u.shape.offset_size = 8;
  }
  if (length > s_.info.size() - in.offset()) throw DwarfFormatError("unit runs past the end of .debug_info");
  u.end = in.offset() + length;
  u.shape.version = static_cast<unsigned>(in.fixed(2));
  if (u.shape.version < 2 || u.shape.version > 5) {
    throw DwarfFormatError(
        fmt::format("unit at {:#x}: DWARF version {} is not supported", unit_offset, u.shape.version));
  }
  uint64_t abbrev_offset;
  if (u.shape.version >= 5) {
    uint8_t unit_type = in.u8();
    u.shape.address_size = in.u8();
    abbrev_offset = in.fixed(u.shape.offset_size);
    switch (unit_type) {
      case DW_UT_compile:
      case DW_UT_partial:
        break;
      case DW_UT_type:
        in.skip(8 + u.shape.offset_size);  // type signature, type offset
        break;
      case DW_UT_skeleton:
      case DW_UT_split_compile:
      case DW_UT_split_type:
        return;  // the names live in a separate .dwo file
      default:
        throw DwarfFormatError(fmt::format("unit at {:#x}: unknown unit type {}", unit_offset, unit_type));
    }
  } else {
    abbrev_offset = in.fixed(u.shape.offset_size);
    u.shape.address_size = in.u8();
  }
  u.die_start = in.offset();
  if (abbrev_offset != abbrev_offset_) load_abbrevs(abbrev_offset, u.shape);

  uint64_t code = in.uleb();
  if (code == 0) return;
  const Abbrev& unit_die = abbrev(code);
  DieAttrs unit_attrs;
  read_attrs(in, unit_die, u, unit_attrs);
  // DWARF 5 string offsets start after the contribution's 8-byte header by default.
  u.str_offsets_base = unit_attrs.has_str_offsets_base ? unit_attrs.str_offsets_base : 8;
  if (!unit_die.children) return;

  while (in.offset() < u.end) {
    uint64_t die = in.offset();
    code = in.uleb();
    if (code == 0) break;  // end of the unit's children
    const Abbrev& a = abbrev(code);
    auto kind = kind_of(a.tag);
    if (!kind) {
      skip_attrs(in, a, u);
      if (a.children) skip_children(in, u);
      continue;
    }
    DieAttrs attrs;
    read_attrs(in, a, u, attrs);
    if (a.children) {
      if (*kind == NameKind::Enum) {
        scan_enumerators(in, u, die, sink);
      } else if (attrs.sibling > in.offset() && attrs.sibling <= u.end) {
        in.seek(attrs.sibling);
      } else {
        skip_children(in, u);
      }
    }
    std::string_view name = attrs.name;
    if (!attrs.has_name && attrs.inherit != 0) name = inherited_name(attrs.inherit, u, 0);
    if (name.empty()) continue;
    bool declaration = attrs.declaration || (*kind == NameKind::Variable && !attrs.location) ||
                       (*kind == NameKind::Function && !attrs.low_pc);
    sink.add({*kind, name, die, 0, declaration});
  }
}

}  // namespace kdive
