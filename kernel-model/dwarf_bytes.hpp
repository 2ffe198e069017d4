// DwarfBytes: a bounds-checked cursor over raw DWARF section bytes, and the
// sizes of attribute forms — what a reader needs to step over DIEs without
// decoding them. Used by the name scan, which reads .debug_info directly
// because walking millions of top-level DIEs through libdw costs seconds.
//
//   DwarfBytes in(section, offset);
//   uint64_t code = in.uleb();
//   skip_form(in, DW_FORM_strp, unit);      // throws DwarfFormatError past the end
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string_view>

namespace kdive {

struct DwarfFormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class DwarfBytes {
 public:
  DwarfBytes(std::span<const uint8_t> bytes, uint64_t offset) : bytes_(bytes), pos_(offset) {}

  uint64_t offset() const { return pos_; }
  void seek(uint64_t offset) { pos_ = offset; }
  bool at_end() const { return pos_ >= bytes_.size(); }

  void skip(uint64_t n) {
    need(n);
    pos_ += n;
  }
  uint8_t u8() {
    need(1);
    return bytes_[pos_++];
  }
  uint64_t fixed(unsigned size) {  // little-endian, 1..8 bytes
    need(size);
    uint64_t v = 0;
    std::memcpy(&v, bytes_.data() + pos_, size);
    pos_ += size;
    return v;
  }
  uint64_t uleb() {
    uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
      uint8_t b = u8();
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  }
  int64_t sleb() {
    uint64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
      b = u8();
      if (shift < 64) v |= static_cast<uint64_t>(b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40)) v |= ~uint64_t{0} << shift;
    return static_cast<int64_t>(v);
  }
  // A NUL-terminated string in place.
  std::string_view cstring() {
    if (pos_ >= bytes_.size()) throw DwarfFormatError("string past the end of the section");
    const char* start = reinterpret_cast<const char*>(bytes_.data() + pos_);
    const void* nul = std::memchr(start, 0, bytes_.size() - pos_);
    if (nul == nullptr) throw DwarfFormatError("unterminated string");
    size_t len = static_cast<const char*>(nul) - start;
    pos_ += len + 1;
    return {start, len};
  }

 private:
  void need(uint64_t n) const {
    if (n > bytes_.size() || pos_ > bytes_.size() - n) throw DwarfFormatError("read past the end of the section");
  }
  std::span<const uint8_t> bytes_;
  uint64_t pos_;
};

// What form sizes depend on: the unit's header.
struct DwarfUnitShape {
  unsigned version = 5;
  unsigned offset_size = 4;  // 8 in 64-bit DWARF
  unsigned address_size = 8;
};

// Bytes a form takes when they do not depend on the data (0 = variable or unknown).
unsigned fixed_form_size(uint64_t form, const DwarfUnitShape& unit);

// Steps over one attribute value of `form`. implicit_const takes no bytes.
void skip_form(DwarfBytes& in, uint64_t form, const DwarfUnitShape& unit);

// A NUL-terminated string at `offset` of a string section ("" past the end).
std::string_view string_at(std::span<const uint8_t> section, uint64_t offset);

}  // namespace kdive
