#include "readers/page_codec.hpp"

#include <zlib.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <vector>

#include "tests/dumpgen/page_content.hpp"

using namespace kdive;

namespace {

constexpr size_t kPage = 4096;

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(static_cast<std::byte>(b));
  return out;
}

std::vector<std::byte> repeat(std::vector<std::byte> head, std::initializer_list<int> unit, int times,
                              std::initializer_list<int> tail) {
  for (int i = 0; i < times; ++i) {
    for (int b : unit) head.push_back(static_cast<std::byte>(b));
  }
  for (int b : tail) head.push_back(static_cast<std::byte>(b));
  return head;
}

bool all_ab(const std::vector<std::byte>& page) {
  return std::all_of(page.begin(), page.end(), [](std::byte b) { return b == std::byte{0xab}; });
}

}  // namespace

// Streams written by hand from each format's specification (or by Python's
// zlib), so decoding is checked against the formats, not against the same
// library's compressor.
TEST_CASE("decompress_page decodes known streams of a 0xab page", "[page_codec]") {
  std::vector<std::byte> page(kPage);

  SECTION("zlib (python zlib.compress level 1)") {
    auto z = bytes({0x78, 0x01, 0xed, 0xd0, 0x81, 0x10, 0x00, 0x00, 0x00, 0x03, 0x21, 0x7f, 0x96, 0x97,
                    0x9c, 0xc7, 0xae, 0x10, 0x2a, 0x0c, 0x18, 0x30, 0x60, 0xc0, 0x80, 0x01, 0x03, 0x06,
                    0x0c, 0x18, 0x30, 0x60, 0xc0, 0x80, 0x81, 0xf7, 0x81, 0x01, 0x6b, 0x16, 0xb0, 0x97});
    REQUIRE(decompress_page(PageCodec::Zlib, z, page));
    CHECK(all_ab(page));
  }
  SECTION("snappy: literal 0xab, then 2-byte-offset copies at distance 1") {
    auto s = repeat(bytes({0x80, 0x20, 0x00, 0xab}), {0xfe, 0x01, 0x00}, 63, {0xfa, 0x01, 0x00});
    REQUIRE(decompress_page(PageCodec::Snappy, s, page));
    CHECK(all_ab(page));
  }
  SECTION("zstd: single-segment frame with one RLE block") {
    auto z = bytes({0x28, 0xb5, 0x2f, 0xfd, 0x60, 0x00, 0x0f, 0x03, 0x80, 0x00, 0xab});
    REQUIRE(decompress_page(PageCodec::Zstd, z, page));
    CHECK(all_ab(page));
  }
  SECTION("lzo: one literal, an M3 match of 4095 at distance 1, end marker") {
    auto l = repeat(bytes({0x12, 0xab, 0x20}), {0x00}, 15, {0xed, 0x00, 0x00, 0x11, 0x00, 0x00});
    REQUIRE(decompress_page(PageCodec::Lzo, l, page));
    CHECK(all_ab(page));
  }
}

TEST_CASE("every codec round-trips a page and rejects damage", "[page_codec]") {
  auto codec = GENERATE(PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd);
  CAPTURE(to_string(codec));
  auto page = dumpgen::pattern_page(0x123000, kPage);
  auto packed = compress_page(codec, page);
  REQUIRE(packed);
  CHECK(packed->size() < kPage);

  std::vector<std::byte> out(kPage);
  REQUIRE(decompress_page(codec, *packed, out));
  CHECK(out == page);

  SECTION("cut short") {
    std::span<const std::byte> half(packed->data(), packed->size() / 2);
    CHECK_FALSE(decompress_page(codec, half, out));
  }
  SECTION("empty input") { CHECK_FALSE(decompress_page(codec, {}, out)); }
  SECTION("decompresses to the wrong size") {
    std::vector<std::byte> bigger(kPage * 2);
    CHECK_FALSE(decompress_page(codec, *packed, bigger));
    std::vector<std::byte> smaller(kPage / 2);
    CHECK_FALSE(decompress_page(codec, *packed, smaller));
  }
  SECTION("garbage") {
    auto junk = dumpgen::random_page(1, 2, 300);
    CHECK_FALSE(decompress_page(codec, junk, out));
  }
}

TEST_CASE("compress_page gives up on incompressible pages", "[page_codec]") {
  auto codec = GENERATE(PageCodec::Raw, PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd);
  CAPTURE(to_string(codec));
  CHECK_FALSE(compress_page(codec, dumpgen::random_page(9, 9, kPage)));
}

// Pages of every kind a kernel dump holds: text-like (the pattern), sparse
// (mostly zero with a few words), a fill, a half-random page, an
// incompressible one.
std::vector<std::vector<std::byte>> mixed_pages() {
  std::vector<std::vector<std::byte>> pages;
  for (uint64_t i = 0; i < 6; ++i) {
    pages.push_back(dumpgen::pattern_page(0x100000 + i * kPage, kPage));
    auto sparse = dumpgen::fill_page(0, kPage);
    sparse[i * 100] = std::byte{0x42};
    sparse[kPage - 1 - i] = std::byte{0x17};
    pages.push_back(sparse);
    pages.push_back(dumpgen::fill_page(static_cast<uint8_t>(0x11 * i), kPage));
    auto half = dumpgen::random_page(5, i, kPage);
    std::fill(half.begin(), half.begin() + kPage / 2, std::byte{0});
    pages.push_back(half);
    pages.push_back(dumpgen::random_page(6, i, kPage));
  }
  return pages;
}

// The zlib streams kdive writes (through libdeflate) are read by crash and
// makedumpfile with zlib's own uncompress(): check them with zlib itself, not
// with kdive's reader.
TEST_CASE("zlib pages a PageCompressor writes decompress with zlib's uncompress", "[page_codec][zlib]") {
  PageCompressor z(PageCodec::Zlib);
  size_t compressed = 0;
  for (const auto& page : mixed_pages()) {
    std::vector<std::byte> packed(kPage, std::byte{0xee});
    auto n = z.compress(page, packed);
    if (!n) {
      // Only a page that really does not shrink is stored raw: zlib's own
      // best effort is not smaller either.
      uLongf len = ::compressBound(kPage);
      std::vector<unsigned char> ref(len);
      REQUIRE(::compress2(ref.data(), &len, reinterpret_cast<const unsigned char*>(page.data()), kPage, 9) == Z_OK);
      CHECK(len >= kPage - 16);
      continue;
    }
    ++compressed;
    REQUIRE(*n < kPage);
    // A zlib header: deflate, 32 KiB window at most, header check multiple of 31.
    auto cmf = std::to_integer<unsigned>(packed[0]), flg = std::to_integer<unsigned>(packed[1]);
    CHECK((cmf & 0x0f) == 8);
    CHECK((cmf >> 4) <= 7);
    CHECK((cmf * 256 + flg) % 31 == 0);
    CHECK((flg & 0x20) == 0);  // no preset dictionary
    std::vector<std::byte> back(kPage);
    uLongf back_len = kPage;
    REQUIRE(::uncompress(reinterpret_cast<unsigned char*>(back.data()), &back_len,
                         reinterpret_cast<const unsigned char*>(packed.data()), *n) == Z_OK);
    CHECK(back_len == kPage);
    CHECK(back == page);
    // And through kdive's reader path.
    std::vector<std::byte> back2(kPage);
    REQUIRE(decompress_page(PageCodec::Zlib, std::span(packed).first(*n), back2));
    CHECK(back2 == page);
  }
  // Everything but the random pages shrinks.
  CHECK(compressed == 4 * 6);
}

// Dumps from makedumpfile and QEMU hold pages zlib itself wrote (Z_BEST_SPEED,
// but any level is valid): kdive's reader decodes them all, and still
// refuses a stream with a broken checksum.
TEST_CASE("decompress_page reads the zlib streams zlib writes, at every level", "[page_codec][zlib]") {
  int level = GENERATE(1, 6, 9);
  CAPTURE(level);
  for (const auto& page : mixed_pages()) {
    uLongf len = ::compressBound(kPage);
    std::vector<std::byte> packed(len);
    REQUIRE(::compress2(reinterpret_cast<unsigned char*>(packed.data()), &len,
                        reinterpret_cast<const unsigned char*>(page.data()), kPage, level) == Z_OK);
    packed.resize(len);
    std::vector<std::byte> back(kPage);
    REQUIRE(decompress_page(PageCodec::Zlib, packed, back));
    CHECK(back == page);
    // The adler32 trailer is checked: a flipped bit there is damage.
    packed.back() ^= std::byte{1};
    CHECK_FALSE(decompress_page(PageCodec::Zlib, packed, back));
  }
}

// A compressor reused for many pages (the copier keeps one per thread) must
// give each page the same bytes a fresh one gives it: no state leaks from one
// page into the next.
TEST_CASE("a reused PageCompressor writes what a fresh one writes", "[page_codec]") {
  auto codec = GENERATE(PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd);
  CAPTURE(to_string(codec));
  PageCompressor reused(codec);
  CHECK(reused.codec() == codec);
  auto pages = mixed_pages();
  size_t i = 0;
  for (const auto& page : pages) {
    CAPTURE(i++);
    std::vector<std::byte> a(kPage), b(kPage);
    auto n = reused.compress(page, a);
    auto m = PageCompressor(codec).compress(page, b);
    REQUIRE(n == m);
    if (!n) continue;
    CHECK(std::equal(a.begin(), a.begin() + static_cast<ptrdiff_t>(*n), b.begin()));
    std::vector<std::byte> back(kPage);
    REQUIRE(decompress_page(codec, std::span(a).first(*n), back));
    CHECK(back == page);
    // compress_page (one-off) is the same compressor.
    auto one = compress_page(codec, page);
    REQUIRE(one);
    CHECK(std::equal(one->begin(), one->end(), a.begin()));
  }
}

TEST_CASE("PageCompressor never writes past its output", "[page_codec]") {
  auto codec = GENERATE(PageCodec::Raw, PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd);
  CAPTURE(to_string(codec));
  PageCompressor c(codec);
  // An incompressible page into a buffer of exactly one page with guard bytes
  // after it: every codec gives up, none touches the guard.
  std::vector<std::byte> buf(kPage + 64, std::byte{0xcd});
  CHECK_FALSE(c.compress(dumpgen::random_page(9, 9, kPage), std::span(buf).first(kPage)));
  CHECK(std::all_of(buf.begin() + kPage, buf.end(), [](std::byte b) { return b == std::byte{0xcd}; }));
  // Too small an output for the input: refused, not overrun.
  std::vector<std::byte> small(kPage / 2);
  CHECK_FALSE(c.compress(dumpgen::fill_page(0, kPage), small));
}

TEST_CASE("raw pages copy exactly one page", "[page_codec]") {
  auto page = dumpgen::fill_page(0x5a, kPage);
  std::vector<std::byte> out(kPage);
  CHECK(decompress_page(PageCodec::Raw, page, out));
  CHECK(out == page);
  std::span<const std::byte> short_page(page.data(), kPage - 1);
  CHECK_FALSE(decompress_page(PageCodec::Raw, short_page, out));
}

TEST_CASE("kdump flag bits map to codecs and back", "[page_codec]") {
  CHECK(codec_from_kdump_flags(0) == PageCodec::Raw);
  CHECK(codec_from_kdump_flags(0x1) == PageCodec::Zlib);
  CHECK(codec_from_kdump_flags(0x2) == PageCodec::Lzo);
  CHECK(codec_from_kdump_flags(0x4) == PageCodec::Snappy);
  CHECK(codec_from_kdump_flags(0x20) == PageCodec::Zstd);
  CHECK_FALSE(codec_from_kdump_flags(0x3));   // two codecs at once
  CHECK_FALSE(codec_from_kdump_flags(0x8));   // INCOMPLETE is a header flag
  CHECK_FALSE(codec_from_kdump_flags(0x40));  // unknown
  for (auto c : {PageCodec::Raw, PageCodec::Zlib, PageCodec::Lzo, PageCodec::Snappy, PageCodec::Zstd}) {
    CHECK(codec_from_kdump_flags(kdump_codec_flag(c)) == c);
    CHECK(codec_from_name(to_string(c)) == c);
  }
  CHECK_FALSE(codec_from_name("lz4"));
}
