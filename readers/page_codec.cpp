#include "readers/page_codec.hpp"

#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

namespace kdive {
namespace {

// DUMP_DH_COMPRESSED_* in makedumpfile's diskdump_mod.h; QEMU's dump.h uses the
// same values. 0x8 (INCOMPLETE) and 0x10 (EXCLUDED_VMEMMAP) share this word in
// the header's status but never appear in a page descriptor.
constexpr uint32_t kFlagZlib = 0x1;
constexpr uint32_t kFlagLzo = 0x2;
constexpr uint32_t kFlagSnappy = 0x4;
constexpr uint32_t kFlagZstd = 0x20;

// Writers use the fastest level: makedumpfile and QEMU both pick Z_BEST_SPEED,
// and makedumpfile uses zstd level 1.
constexpr int kZlibLevel = Z_BEST_SPEED;
constexpr int kZstdLevel = 1;

bool lzo_ready() {
  // lzo_init() checks the library/ABI once; calling it per page is wasteful.
  static const bool ok = lzo_init() == LZO_E_OK;
  return ok;
}

const unsigned char* uchars(std::span<const std::byte> s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* uchars(std::span<std::byte> s) { return reinterpret_cast<unsigned char*>(s.data()); }
const char* chars(std::span<const std::byte> s) { return reinterpret_cast<const char*>(s.data()); }
char* chars(std::span<std::byte> s) { return reinterpret_cast<char*>(s.data()); }

bool zlib_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
  uLongf out_len = out.size();
  int rc = ::uncompress(uchars(out), &out_len, uchars(in), in.size());
  return rc == Z_OK && out_len == out.size();
}

bool lzo_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
  if (!lzo_ready()) return false;
  lzo_uint out_len = out.size();
  // The _safe variant bounds-checks both buffers; the plain one trusts the
  // input.
  int rc = lzo1x_decompress_safe(uchars(in), in.size(), uchars(out), &out_len, nullptr);
  return rc == LZO_E_OK && out_len == out.size();
}

bool snappy_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
  size_t expect = 0;
  if (snappy_uncompressed_length(chars(in), in.size(), &expect) != SNAPPY_OK) return false;
  if (expect != out.size()) return false;
  size_t out_len = out.size();
  return snappy_uncompress(chars(in), in.size(), chars(out), &out_len) == SNAPPY_OK && out_len == out.size();
}

bool zstd_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
  size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  return !ZSTD_isError(n) && n == out.size();
}

}  // namespace

std::string_view to_string(PageCodec codec) {
  switch (codec) {
    case PageCodec::Raw:
      return "raw";
    case PageCodec::Zlib:
      return "zlib";
    case PageCodec::Lzo:
      return "lzo";
    case PageCodec::Snappy:
      return "snappy";
    case PageCodec::Zstd:
      return "zstd";
  }
  return "unknown";
}

std::optional<PageCodec> codec_from_name(std::string_view name) {
  for (PageCodec c : {PageCodec::Raw, PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd}) {
    if (to_string(c) == name) return c;
  }
  return std::nullopt;
}

uint32_t kdump_codec_flag(PageCodec codec) {
  switch (codec) {
    case PageCodec::Raw:
      return 0;
    case PageCodec::Zlib:
      return kFlagZlib;
    case PageCodec::Lzo:
      return kFlagLzo;
    case PageCodec::Snappy:
      return kFlagSnappy;
    case PageCodec::Zstd:
      return kFlagZstd;
  }
  return 0;
}

std::optional<PageCodec> codec_from_kdump_flags(uint32_t flags) {
  switch (flags) {
    case 0:
      return PageCodec::Raw;
    case kFlagZlib:
      return PageCodec::Zlib;
    case kFlagLzo:
      return PageCodec::Lzo;
    case kFlagSnappy:
      return PageCodec::Snappy;
    case kFlagZstd:
      return PageCodec::Zstd;
    default:
      return std::nullopt;
  }
}

bool decompress_page(PageCodec codec, std::span<const std::byte> in, std::span<std::byte> out) {
  switch (codec) {
    case PageCodec::Raw:
      if (in.size() != out.size()) return false;
      std::memcpy(out.data(), in.data(), out.size());
      return true;
    case PageCodec::Zlib:
      return zlib_decompress(in, out);
    case PageCodec::Lzo:
      return lzo_decompress(in, out);
    case PageCodec::Snappy:
      return snappy_decompress(in, out);
    case PageCodec::Zstd:
      return zstd_decompress(in, out);
  }
  return false;
}

std::optional<std::vector<std::byte>> compress_page(PageCodec codec, std::span<const std::byte> in) {
  std::vector<std::byte> out;
  size_t n = 0;
  switch (codec) {
    case PageCodec::Raw:
      return std::nullopt;
    case PageCodec::Zlib: {
      uLongf len = ::compressBound(in.size());
      out.resize(len);
      if (::compress2(uchars(std::span(out)), &len, uchars(in), in.size(), kZlibLevel) != Z_OK) return std::nullopt;
      n = len;
      break;
    }
    case PageCodec::Lzo: {
      if (!lzo_ready()) return std::nullopt;
      // LZO1X can expand incompressible input by up to len/16 + 64 + 3 bytes.
      out.resize(in.size() + in.size() / 16 + 64 + 3);
      std::vector<std::byte> work(LZO1X_1_MEM_COMPRESS);
      lzo_uint len = out.size();
      if (lzo1x_1_compress(uchars(in), in.size(), uchars(std::span(out)), &len, work.data()) != LZO_E_OK) {
        return std::nullopt;
      }
      n = len;
      break;
    }
    case PageCodec::Snappy: {
      size_t len = snappy_max_compressed_length(in.size());
      out.resize(len);
      if (snappy_compress(chars(in), in.size(), chars(std::span(out)), &len) != SNAPPY_OK) return std::nullopt;
      n = len;
      break;
    }
    case PageCodec::Zstd: {
      out.resize(ZSTD_compressBound(in.size()));
      n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), kZstdLevel);
      if (ZSTD_isError(n)) return std::nullopt;
      break;
    }
  }
  if (n >= in.size()) return std::nullopt;
  out.resize(n);
  return out;
}

}  // namespace kdive
