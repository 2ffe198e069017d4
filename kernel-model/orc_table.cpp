// ORC tables and orc_entry decoding; see orc_table.hpp.
#include "kernel-model/orc_table.hpp"

#include <cstring>

#include "kernel-model/errors.hpp"
#include "kernel-model/type.hpp"
#include "kernel-model/type_system.hpp"

namespace kdive {

namespace {

uint64_t bits(std::span<const uint8_t, kOrcEntrySize> bytes, OrcLayout::Field f) {
  if (f.width == 0) return 0;
  uint64_t word = 0;
  for (size_t i = 0; i < kOrcEntrySize; ++i) word |= uint64_t{bytes[i]} << (8 * i);
  return (word >> f.bit) & ((uint64_t{1} << f.width) - 1);
}

}  // namespace

OrcLayout OrcLayout::since_6_4() {
  OrcLayout l;
  l.type = {40, 3};
  l.signal = {43, 1};
  l.end = {};
  return l;
}

OrcLayout OrcLayout::probe(TypeSystem& types) {
  OrcLayout l;
  try {
    const Type* t = types.lookup("struct orc_entry");
    if (!t || t->strip().size() != kOrcEntrySize) return l;
    auto field = [&](const char* name) -> Field {
      auto m = t->strip().member(name);
      if (!m) return {};
      uint32_t width = m->bit_size ? m->bit_size : static_cast<uint32_t>(8 * m->type->size());
      return {static_cast<uint32_t>(m->offset * 8 + m->bit_offset), width};
    };
    OrcLayout probed;
    probed.sp_offset = field("sp_offset");
    probed.bp_offset = field("bp_offset");
    probed.sp_reg = field("sp_reg");
    probed.bp_reg = field("bp_reg");
    probed.type = field("type");
    probed.end = field("end");
    probed.signal = field("signal");
    if (probed.sp_reg.width == 0 || probed.bp_reg.width == 0 || probed.type.width == 0) return l;
    return probed;
  } catch (const std::exception&) {
    return l;
  }
}

OrcEntry decode(std::span<const uint8_t, kOrcEntrySize> bytes, const OrcLayout& layout) {
  OrcEntry e;
  e.sp_offset = static_cast<int16_t>(bits(bytes, layout.sp_offset));
  e.bp_offset = static_cast<int16_t>(bits(bytes, layout.bp_offset));
  e.sp_reg = static_cast<uint8_t>(bits(bytes, layout.sp_reg));
  e.bp_reg = static_cast<uint8_t>(bits(bytes, layout.bp_reg));
  e.raw_type = static_cast<uint8_t>(bits(bytes, layout.type));
  e.signal = bits(bytes, layout.signal) != 0;
  if (layout.has_end_bit()) {
    // Up to 6.3 an undefined sp_reg is the end of the stack with `end`, an
    // error without (unwind_next_frame() of those kernels).
    if (e.sp_reg == static_cast<uint8_t>(OrcReg::Undefined)) {
      e.type = bits(bytes, layout.end) ? OrcType::EndOfStack : OrcType::Undefined;
      return e;
    }
    static constexpr OrcType kOld[] = {OrcType::Call, OrcType::Regs, OrcType::RegsPartial};
    e.type = e.raw_type < 3 ? kOld[e.raw_type] : OrcType::Invalid;
    return e;
  }
  static constexpr OrcType kNew[] = {OrcType::Undefined, OrcType::EndOfStack, OrcType::Call, OrcType::Regs,
                                     OrcType::RegsPartial};
  e.type = e.raw_type < 5 ? kNew[e.raw_type] : OrcType::Invalid;
  return e;
}

const char* orc_type_name(OrcType type) {
  switch (type) {
    case OrcType::Undefined:
      return "undefined";
    case OrcType::EndOfStack:
      return "end of stack";
    case OrcType::Call:
      return "call";
    case OrcType::Regs:
      return "regs";
    case OrcType::RegsPartial:
      return "partial regs";
    case OrcType::Invalid:
      break;
  }
  return "invalid";
}

const char* orc_reg_name(uint8_t reg) {
  static constexpr const char* kNames[] = {"undefined", "prev_sp", "dx",  "di",          "bp",
                                           "sp",        "r10",     "r13", "bp_indirect", "sp_indirect"};
  return reg < 10 ? kNames[reg] : "invalid";
}

OrcTable OrcTable::in_place(std::span<const uint8_t> ips, std::span<const uint8_t> entries, VirtAddr ips_address) {
  OrcTable t;
  t.bind(ips, entries, ips_address);
  return t;
}

OrcTable OrcTable::owned(std::vector<uint8_t> ips, std::vector<uint8_t> entries, VirtAddr ips_address) {
  OrcTable t;
  t.owned_ips_ = std::move(ips);
  t.owned_entries_ = std::move(entries);
  t.bind(t.owned_ips_, t.owned_entries_, ips_address);
  return t;
}

OrcTable::OrcTable(OrcTable&& o) noexcept { *this = std::move(o); }

OrcTable& OrcTable::operator=(OrcTable&& o) noexcept {
  if (this == &o) return *this;
  bool owned = !o.owned_ips_.empty() || !o.owned_entries_.empty();
  owned_ips_ = std::move(o.owned_ips_);
  owned_entries_ = std::move(o.owned_entries_);
  // Moving a vector keeps its buffer, so pointers into it stay valid.
  ips_ = owned ? owned_ips_.data() : o.ips_;
  entries_ = owned ? owned_entries_.data() : o.entries_;
  count_ = o.count_;
  ips_address_ = o.ips_address_;
  o.count_ = 0;
  return *this;
}

void OrcTable::bind(std::span<const uint8_t> ips, std::span<const uint8_t> entries, VirtAddr ips_address) {
  ips_ = ips.data();
  entries_ = entries.data();
  count_ = std::min(ips.size() / 4, entries.size() / kOrcEntrySize);
  ips_address_ = ips_address;
}

VirtAddr OrcTable::ip_at(size_t i) const {
  int32_t rel;
  std::memcpy(&rel, ips_ + 4 * i, 4);
  return VirtAddr{ips_address_.value() + 4 * i + static_cast<uint64_t>(static_cast<int64_t>(rel))};
}

std::optional<size_t> OrcTable::index_of(VirtAddr ip) const {
  if (count_ == 0 || ip < ip_at(0)) return std::nullopt;
  size_t lo = 0, hi = count_;  // invariant: ip_at(lo) <= ip, answer in [lo, hi)
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (ip_at(mid) <= ip) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::span<const uint8_t, kOrcEntrySize> OrcTable::entry_at(size_t i) const {
  return std::span<const uint8_t, kOrcEntrySize>(entries_ + kOrcEntrySize * i, kOrcEntrySize);
}

std::optional<std::span<const uint8_t, kOrcEntrySize>> OrcTable::find(VirtAddr ip) const {
  auto i = index_of(ip);
  if (!i) return std::nullopt;
  return entry_at(*i);
}

}  // namespace kdive
