#include "kernel-model/dwarf_bytes.hpp"

#include <dwarf.h>
#include <fmt/format.h>

namespace kdive {

namespace {

// GNU extensions a GCC toolchain may emit (dwz and split DWARF before DWARF 5).
constexpr uint64_t kFormGnuAddrIndex = 0x1f01;
constexpr uint64_t kFormGnuStrIndex = 0x1f02;
constexpr uint64_t kFormGnuRefAlt = 0x1f20;
constexpr uint64_t kFormGnuStrpAlt = 0x1f21;

}  // namespace

unsigned fixed_form_size(uint64_t form, const DwarfUnitShape& unit) {
  switch (form) {
    case DW_FORM_flag_present:
    case DW_FORM_implicit_const:
      return 0;
    case DW_FORM_addr:
      return unit.address_size;
    case DW_FORM_data1:
    case DW_FORM_ref1:
    case DW_FORM_flag:
    case DW_FORM_strx1:
    case DW_FORM_addrx1:
      return 1;
    case DW_FORM_data2:
    case DW_FORM_ref2:
    case DW_FORM_strx2:
    case DW_FORM_addrx2:
      return 2;
    case DW_FORM_strx3:
    case DW_FORM_addrx3:
      return 3;
    case DW_FORM_data4:
    case DW_FORM_ref4:
    case DW_FORM_strx4:
    case DW_FORM_addrx4:
    case DW_FORM_ref_sup4:
      return 4;
    case DW_FORM_data8:
    case DW_FORM_ref8:
    case DW_FORM_ref_sig8:
    case DW_FORM_ref_sup8:
      return 8;
    case DW_FORM_data16:
      return 16;
    case DW_FORM_strp:
    case DW_FORM_line_strp:
    case DW_FORM_sec_offset:
    case DW_FORM_strp_sup:
    case kFormGnuRefAlt:
    case kFormGnuStrpAlt:
      return unit.offset_size;
    case DW_FORM_ref_addr:
      // DWARF 2 made ref_addr address-sized; DWARF 3 made it offset-sized.
      return unit.version <= 2 ? unit.address_size : unit.offset_size;
    default:
      return 0;
  }
}

void skip_form(DwarfBytes& in, uint64_t form, const DwarfUnitShape& unit) {
  switch (form) {
    case DW_FORM_flag_present:
    case DW_FORM_implicit_const:
      return;
    case DW_FORM_string:
      in.cstring();
      return;
    case DW_FORM_block1:
      in.skip(in.fixed(1));
      return;
    case DW_FORM_block2:
      in.skip(in.fixed(2));
      return;
    case DW_FORM_block4:
      in.skip(in.fixed(4));
      return;
    case DW_FORM_block:
    case DW_FORM_exprloc:
      in.skip(in.uleb());
      return;
    case DW_FORM_sdata:
    case DW_FORM_udata:
    case DW_FORM_ref_udata:
    case DW_FORM_strx:
    case DW_FORM_addrx:
    case DW_FORM_loclistx:
    case DW_FORM_rnglistx:
    case kFormGnuAddrIndex:
    case kFormGnuStrIndex:
      in.uleb();
      return;
    case DW_FORM_indirect:
      skip_form(in, in.uleb(), unit);
      return;
    default:
      break;
  }
  unsigned size = fixed_form_size(form, unit);
  if (size == 0) throw DwarfFormatError(fmt::format("unknown attribute form {:#x}", form));
  in.skip(size);
}

std::string_view string_at(std::span<const uint8_t> section, uint64_t offset) {
  if (offset >= section.size()) return {};
  const char* start = reinterpret_cast<const char*>(section.data() + offset);
  const void* nul = std::memchr(start, 0, section.size() - offset);
  if (nul == nullptr) return {};
  return {start, static_cast<size_t>(static_cast<const char*>(nul) - start)};
}

}  // namespace kdive
