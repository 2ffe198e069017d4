// ORC unwind tables (x86_64): the kernel's sorted table of text addresses
// (.orc_unwind_ip, each a signed 32-bit offset from its own address) and the
// orc_entry for each (.orc_unwind), which says how to find the caller's stack
// pointer, frame pointer and return address at that address. The vmlinux's
// table is used in place from the mapped file (relocated by the KASLR offset:
// the entries are position-relative, so only the table's own address moves);
// a module's table is read from the dump (mod->arch.orc_unwind_ip ...).
//
// struct orc_entry changed over time, so its bitfields are probed from DWARF
// (OrcLayout::probe), never chosen by version:
//  - up to 6.2: sp_reg:4 bp_reg:4 type:2 end:1, types CALL 0, REGS 1,
//    REGS_PARTIAL 2; an entry with sp_reg UNDEFINED ends the stack when `end`
//    is set and is an error otherwise.
//  - 6.3 ("x86/unwind/orc: Add 'signal' field to ORC metadata") added a
//    signal:1 bit beside `end`.
//  - 6.4 ("x86,objtool: Split UNWIND_HINT_EMPTY in two") dropped `end`, widened
//    type to 3 bits and renumbered: UNDEFINED 0, END_OF_STACK 1, CALL 2,
//    REGS 3, REGS_PARTIAL 4.
// decode() turns either form into one OrcEntry.
//
//   OrcLayout layout = OrcLayout::probe(types);
//   OrcTable table = OrcTable::in_place(ips, entries, VirtAddr{ip_section_address + kaslr});
//   if (auto e = table.find(ip)) decode(*e, layout).type ...
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "readers/address.hpp"

namespace kdive {

class TypeSystem;

inline constexpr size_t kOrcEntrySize = 6;

// The registers an orc_entry names (ORC_REG_*; unchanged since 4.14).
enum class OrcReg : uint8_t {
  Undefined = 0,
  PrevSp = 1,
  Dx = 2,
  Di = 3,
  Bp = 4,
  Sp = 5,
  R10 = 6,
  R13 = 7,
  BpIndirect = 8,
  SpIndirect = 9,
};

enum class OrcType { Undefined, EndOfStack, Call, Regs, RegsPartial, Invalid };

struct OrcEntry {
  int16_t sp_offset = 0;
  int16_t bp_offset = 0;
  uint8_t sp_reg = 0;  // an OrcReg value (a corrupt entry may hold others)
  uint8_t bp_reg = 0;
  OrcType type = OrcType::Invalid;
  bool signal = false;
  uint8_t raw_type = 0;  // the type bits as stored, for messages
};

// Where each member of struct orc_entry sits: bit position from the start of
// the 6-byte entry and width in bits (width 0: the member does not exist).
struct OrcLayout {
  struct Field {
    uint32_t bit = 0;
    uint32_t width = 0;
  };
  Field sp_offset{0, 16}, bp_offset{16, 16}, sp_reg{32, 4}, bp_reg{36, 4};
  Field type{40, 2}, end{42, 1}, signal{};
  // The entry carries an `end` bit (up to 6.3) and the old type numbers.
  bool has_end_bit() const { return end.width != 0; }

  // From the DWARF of struct orc_entry; without it (no DWARF for the type),
  // the pre-6.3 layout. Throws nothing.
  static OrcLayout probe(TypeSystem& types);
  static OrcLayout before_6_3() { return OrcLayout{}; }
  static OrcLayout since_6_4();
};

OrcEntry decode(std::span<const uint8_t, kOrcEntrySize> bytes, const OrcLayout& layout);
const char* orc_type_name(OrcType type);
const char* orc_reg_name(uint8_t reg);

// One sorted ORC table: the vmlinux's (in place) or a module's (owned).
class OrcTable {
 public:
  OrcTable() = default;
  // `ips` and `entries` outlive the table; `ips_address` is where ips[0] sits at run time.
  static OrcTable in_place(std::span<const uint8_t> ips, std::span<const uint8_t> entries, VirtAddr ips_address);
  static OrcTable owned(std::vector<uint8_t> ips, std::vector<uint8_t> entries, VirtAddr ips_address);
  OrcTable(OrcTable&&) noexcept;
  OrcTable& operator=(OrcTable&&) noexcept;

  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  // The text address entry i covers from.
  VirtAddr ip_at(size_t i) const;
  // The entry for `ip`: the last one whose address is <= ip, by binary search;
  // nullopt below the first. The caller bounds the top (the end of text).
  std::optional<std::span<const uint8_t, kOrcEntrySize>> find(VirtAddr ip) const;
  // The index of the entry find() returns, and entry i itself (i < size()):
  // for walking back to the entries before an address.
  std::optional<size_t> index_of(VirtAddr ip) const;
  std::span<const uint8_t, kOrcEntrySize> entry_at(size_t i) const;
  VirtAddr first_ip() const { return count_ ? ip_at(0) : VirtAddr{}; }
  VirtAddr last_ip() const { return count_ ? ip_at(count_ - 1) : VirtAddr{}; }

 private:
  void bind(std::span<const uint8_t> ips, std::span<const uint8_t> entries, VirtAddr ips_address);
  std::vector<uint8_t> owned_ips_, owned_entries_;
  const uint8_t* ips_ = nullptr;
  const uint8_t* entries_ = nullptr;
  size_t count_ = 0;
  VirtAddr ips_address_;
};

}  // namespace kdive
