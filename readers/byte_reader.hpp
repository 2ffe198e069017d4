// ByteReader: the one way kdive parses bytes of a file format. Every read is
// bounds-checked (with overflow-safe offset arithmetic), so a truncated or hostile
// header produces a FormatError naming what was being read, never an overrun.
//
//   ByteReader r(header_bytes, "kdump header");
//   auto version = r.get<int32_t>(8);             // throws FormatError if short
//   auto name = r.string_at(12, 65);              // NUL-terminated within 65 bytes
//   auto be = r.get_be<int64_t>(16);              // big-endian (flattened format)
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace kdive {

// A file is not in the format it claims, or is damaged. The message says what.
class FormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// a + b, or nullopt on overflow: offsets and sizes in dump headers are untrusted.
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

template <typename T>
T byteswap_integer(T v) {
  using U = std::make_unsigned_t<T>;
  U u = static_cast<U>(v);
  U r = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    r = static_cast<U>((r << 8) | (u & 0xff));
    u = static_cast<U>(u >> 8);
  }
  return static_cast<T>(r);
}

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> data, std::string_view what) : data_(data), what_(what) {}

  size_t size() const { return data_.size(); }
  std::span<const std::byte> data() const { return data_; }

  // Throws FormatError unless [offset, offset+length) lies inside the data.
  void require(uint64_t offset, uint64_t length) const {
    auto end = checked_add(offset, length);
    if (!end || *end > data_.size()) {
      throw FormatError(std::string(what_) + ": truncated (need " + std::to_string(length) + " bytes at offset " +
                        std::to_string(offset) + ", have " + std::to_string(data_.size()) + ")");
    }
  }

  // A trivially copyable value in host (little-endian) byte order.
  template <typename T>
  T get(uint64_t offset) const {
    static_assert(std::is_trivially_copyable_v<T>);
    require(offset, sizeof(T));
    T value;
    std::memcpy(&value, data_.data() + offset, sizeof(T));
    return value;
  }

  // A big-endian integer (the flattened format's record headers).
  template <typename T>
  T get_be(uint64_t offset) const {
    static_assert(std::is_integral_v<T>);
    T v = get<T>(offset);
    return std::endian::native == std::endian::little ? byteswap_integer(v) : v;
  }

  std::span<const std::byte> bytes(uint64_t offset, uint64_t length) const {
    require(offset, length);
    return data_.subspan(offset, length);
  }

  // Text of at most max_len bytes, ending at the first NUL.
  std::string string_at(uint64_t offset, uint64_t max_len) const {
    auto b = bytes(offset, max_len);
    const char* p = reinterpret_cast<const char*>(b.data());
    return std::string(p, strnlen(p, b.size()));
  }

  ByteReader sub(uint64_t offset, uint64_t length, std::string_view what) const {
    return ByteReader(bytes(offset, length), what);
  }

 private:
  std::span<const std::byte> data_;
  std::string what_;
};

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace kdive
