#include "readers/page_codec.hpp"

#include <libdeflate.h>
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zstd.h>

#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace kdive {
namespace {

// DUMP_DH_COMPRESSED_* in makedumpfile's diskdump_mod.h; QEMU's dump.h uses the
// same values. 0x8 (INCOMPLETE) and 0x10 (EXCLUDED_VMEMMAP) share this word in
// the header's status but never appear in a page descriptor.
constexpr uint32_t kFlagZlib = 0x1;
constexpr uint32_t kFlagLzo = 0x2;
constexpr uint32_t kFlagSnappy = 0x4;
constexpr uint32_t kFlagZstd = 0x20;

// zlib streams are written by libdeflate, 1.5-2× faster per page than zlib.
// makedumpfile and QEMU write them with zlib at Z_BEST_SPEED (1). libdeflate's
// level 1 is faster still, but larger than that: over the non-zero pages of
// the 5.10, 6.1 and 6.12 guests' vmcores +5.3%, +3.4%, +1.8%. Level 2 is the
// lowest that is no larger (-1.0%, -0.9%, -1.2%): kdive-dump's output is no
// bigger than makedumpfile's of the same pages (tests/vm/capture_interop_test
// compares the two files).
constexpr int kDeflateLevel = 2;
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

// zlib pages are read through libdeflate too: about twice as fast per page as
// zlib's uncompress(), which sets up and frees an inflate state (and its 32
// KiB window) for every call. One decompressor per thread, made on first use:
// a reader is used by one thread at a time, but several readers may run at
// once.
bool zlib_decompress(std::span<const std::byte> in, std::span<std::byte> out) {
  struct Free {
    void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
  };
  thread_local std::unique_ptr<libdeflate_decompressor, Free> d(libdeflate_alloc_decompressor());
  if (!d) throw std::bad_alloc();
  // A null actual-size pointer: success only when the stream (its adler32
  // checked) yields exactly out.size() bytes.
  return libdeflate_zlib_decompress(d.get(), in.data(), in.size(), out.data(), out.size(), nullptr) ==
         LIBDEFLATE_SUCCESS;
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
  std::vector<std::byte> out(in.size());
  auto n = PageCompressor(codec).compress(in, out);
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

PageCompressor::PageCompressor(PageCodec codec) : codec_(codec) {
  switch (codec) {
    case PageCodec::Raw:
      break;
    case PageCodec::Zlib:
      deflate_ = libdeflate_alloc_compressor(kDeflateLevel);
      if (deflate_ == nullptr) throw std::bad_alloc();
      break;
    case PageCodec::Lzo:
      work_.resize(LZO1X_1_MEM_COMPRESS);
      break;
    case PageCodec::Snappy:
      break;
    case PageCodec::Zstd:
      zstd_ = ZSTD_createCCtx();
      if (zstd_ == nullptr) throw std::bad_alloc();
      // The page size is known up front: zstd sizes its tables for it.
      ZSTD_CCtx_setParameter(zstd_, ZSTD_c_compressionLevel, kZstdLevel);
      break;
  }
}

PageCompressor::PageCompressor(PageCompressor&& other) noexcept
    : codec_(other.codec_),
      deflate_(std::exchange(other.deflate_, nullptr)),
      zstd_(std::exchange(other.zstd_, nullptr)),
      work_(std::move(other.work_)),
      scratch_(std::move(other.scratch_)) {}

PageCompressor::~PageCompressor() {
  if (deflate_ != nullptr) libdeflate_free_compressor(deflate_);
  ZSTD_freeCCtx(zstd_);
}

std::optional<size_t> PageCompressor::compress(std::span<const std::byte> in, std::span<std::byte> out) {
  if (in.empty() || out.size() < in.size()) return std::nullopt;
  // Room for one byte less than the input: whatever does not fit there would
  // be stored raw anyway.
  const size_t room = in.size() - 1;
  size_t n = 0;
  switch (codec_) {
    case PageCodec::Raw:
      return std::nullopt;
    case PageCodec::Zlib:
      // 0: did not fit in `room`.
      n = libdeflate_zlib_compress(deflate_, in.data(), in.size(), out.data(), room);
      if (n == 0) return std::nullopt;
      return n;
    case PageCodec::Zstd:
      n = ZSTD_compress2(zstd_, out.data(), room, in.data(), in.size());
      if (ZSTD_isError(n)) return std::nullopt;  // dstSize_tooSmall: incompressible
      return n;
    case PageCodec::Lzo: {
      if (!lzo_ready()) return std::nullopt;
      // LZO1X does not bound its output: it can expand incompressible input by
      // up to len/16 + 64 + 3 bytes.
      scratch_.resize(in.size() + in.size() / 16 + 64 + 3);
      lzo_uint len = scratch_.size();
      if (lzo1x_1_compress(uchars(in), in.size(), uchars(std::span(scratch_)), &len, work_.data()) != LZO_E_OK) {
        return std::nullopt;
      }
      n = len;
      break;
    }
    case PageCodec::Snappy: {
      size_t len = snappy_max_compressed_length(in.size());
      scratch_.resize(len);
      if (snappy_compress(chars(in), in.size(), chars(std::span(scratch_)), &len) != SNAPPY_OK) return std::nullopt;
      n = len;
      break;
    }
  }
  if (n >= in.size()) return std::nullopt;
  std::memcpy(out.data(), scratch_.data(), n);
  return n;
}

}  // namespace kdive
