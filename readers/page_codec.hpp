// PageCodec: the compressors kdump-compressed dumps use for single pages —
// zlib, lzo (LZO1X), snappy and zstd — behind one call each way. A page
// decompresses to exactly one page or it is damaged; there is no partial
// result.
//
//   std::vector<std::byte> page(4096);
//   if (!decompress_page(PageCodec::Zlib, stored, page)) ...   // corrupt data
//   auto packed = compress_page(PageCodec::Zstd, page);         // one page
//   PageCompressor z(PageCodec::Zlib);                          // per thread,
//   std::optional<size_t> n = z.compress(page, packed_slot);    // many pages
//
// The codec choice per page comes from the page descriptor's flags (the same
// bit values as the header's status word: zlib 0x1, lzo 0x2, snappy 0x4, zstd
// 0x20).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

struct libdeflate_compressor;
struct libdeflate_decompressor;
struct ZSTD_CCtx_s;

namespace kdive {

enum class PageCodec { Raw, Zlib, Lzo, Snappy, Zstd };

// "raw", "zlib", "lzo", "snappy", "zstd" (the names kdump formats use).
std::string_view to_string(PageCodec codec);
std::optional<PageCodec> codec_from_name(std::string_view name);

// kdump's flag bits (DUMP_DH_COMPRESSED_*) for a codec and back. Raw is 0.
uint32_t kdump_codec_flag(PageCodec codec);
// The codec a descriptor's flags name; nullopt when the flags name none or
// more than one (damage: makedumpfile and QEMU set exactly one bit or none).
std::optional<PageCodec> codec_from_kdump_flags(uint32_t flags);

// Decompresses `in` into `out`. True only when the data is well formed and
// yields exactly out.size() bytes. Raw copies and requires equal sizes.
// Never reads outside `in` or writes outside `out`, whatever the input.
bool decompress_page(PageCodec codec, std::span<const std::byte> in, std::span<std::byte> out);

// Compresses one page. Returns the compressed bytes, or nullopt when the result
// would not be smaller than the input — kdump writers then store the page raw.
// Makes a PageCompressor per call: for many pages keep one instead.
std::optional<std::vector<std::byte>> compress_page(PageCodec codec, std::span<const std::byte> in);

// One thread's compressor for one codec: the codec's state (libdeflate's
// compressor for zlib streams, zstd's CCtx, lzo's work memory, a scratch
// buffer) is made once and reused for every page, as makedumpfile's per-page
// calls do not. Not thread-safe: one per thread.
class PageCompressor {
 public:
  explicit PageCompressor(PageCodec codec);
  ~PageCompressor();
  PageCompressor(PageCompressor&& other) noexcept;
  PageCompressor& operator=(PageCompressor&&) = delete;
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  // Compresses `in` into `out` (out.size() >= in.size()). Returns the size
  // written, or nullopt when it would not be smaller than `in` (store raw;
  // `out` then holds nothing useful). Raw always gives nullopt.
  std::optional<size_t> compress(std::span<const std::byte> in, std::span<std::byte> out);
  PageCodec codec() const { return codec_; }

 private:
  PageCodec codec_;
  libdeflate_compressor* deflate_ = nullptr;
  ZSTD_CCtx_s* zstd_ = nullptr;
  std::vector<std::byte> work_;     // lzo's dictionary
  std::vector<std::byte> scratch_;  // lzo and snappy write past in.size() on incompressible input
};

}  // namespace kdive
