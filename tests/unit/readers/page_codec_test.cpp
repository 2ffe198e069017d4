#include "readers/page_codec.hpp"

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
