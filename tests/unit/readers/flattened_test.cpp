#include "readers/flattened.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <vector>

#include "readers/byte_reader.hpp"
#include "tests/dumpgen/flattened_writer.hpp"

using namespace kdive;
using dumpgen::FlatRecord;

namespace {

std::vector<std::byte> filled(size_t n, int value) { return std::vector<std::byte>(n, static_cast<std::byte>(value)); }

std::unique_ptr<ByteSource> open_bytes(std::vector<std::byte> stream, const std::string& name = "dump.flat") {
  return open_flattened(std::make_unique<MemorySource>(std::move(stream), name));
}

std::vector<std::byte> read_all(ByteSource& s) {
  std::vector<std::byte> out(s.size());
  REQUIRE(s.read(0, out));
  return out;
}

// What makedumpfile -R produces: each record's data written at its offset.
std::vector<std::byte> replay(const std::vector<FlatRecord>& records) {
  std::vector<std::byte> out;
  for (const auto& r : records) {
    if (r.data.empty()) continue;
    size_t end = static_cast<size_t>(r.offset) + r.data.size();
    if (out.size() < end) out.resize(end);
    std::copy(r.data.begin(), r.data.end(), out.begin() + r.offset);
  }
  return out;
}

std::string error_of(std::vector<std::byte> stream) {
  try {
    open_bytes(std::move(stream));
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("probe_flattened wants the signature and type 1", "[flattened]") {
  auto h = dumpgen::flattened_header();
  CHECK(probe_flattened(h));
  auto wrong_type = h;
  wrong_type[16 + 7] = std::byte{2};
  CHECK_FALSE(probe_flattened(wrong_type));
  auto wrong_sig = h;
  wrong_sig[0] = std::byte{'M'};
  CHECK_FALSE(probe_flattened(wrong_sig));
  CHECK_FALSE(probe_flattened(std::span(h).first(20)));
  CHECK_FALSE(probe_flattened(as_bytes("KDUMP   ")));
}

TEST_CASE("a flattened stream reads as the file it encodes", "[flattened]") {
  std::vector<FlatRecord> records = {
      {0, filled(100, 1), {}},
      {4096, filled(4096, 2), {}},
      {100, filled(50, 3), {}},
  };
  auto src = open_bytes(dumpgen::flatten_records(records));
  CHECK(src->name() == "dump.flat");
  REQUIRE(src->size() == 8192);
  auto all = read_all(*src);
  CHECK(all == replay(records));
  CHECK(all[99] == std::byte{1});
  CHECK(all[100] == std::byte{3});
  CHECK(all[149] == std::byte{3});
  CHECK(all[150] == std::byte{0});  // never written: zero
  CHECK(all[4095] == std::byte{0});
  CHECK(all[4096] == std::byte{2});

  const FlattenedStats* st = flattened_stats(*src);
  REQUIRE(st);
  CHECK(st->records == 3);
  CHECK(st->pieces == 3);
  CHECK(st->written_bytes == 100 + 4096 + 50);
  CHECK(st->complete);

  SECTION("reads spanning pieces and gaps") {
    std::vector<std::byte> buf(200);
    REQUIRE(src->read(50, buf));
    CHECK(buf[0] == std::byte{1});    // offset 50
    CHECK(buf[50] == std::byte{3});   // offset 100
    CHECK(buf[100] == std::byte{0});  // offset 150
  }
  SECTION("reads past the end fail") {
    std::vector<std::byte> buf(2);
    CHECK_FALSE(src->read(8191, buf));
    CHECK(src->read(8190, buf));
    CHECK_FALSE(src->read(UINT64_MAX, buf));
  }
  SECTION("not a flattened source") {
    MemorySource m(filled(10, 0));
    CHECK(flattened_stats(m) == nullptr);
  }
}

TEST_CASE("overlapping records: the later one wins", "[flattened]") {
  SECTION("shapes") {
    std::vector<FlatRecord> records = {
        {0, filled(1000, 1), {}},   {100, filled(100, 2), {}},   // inside
        {900, filled(200, 3), {}},                               // over the right edge
        {0, filled(10, 4), {}},                                  // left edge, same start
        {2000, filled(100, 5), {}}, {1900, filled(300, 6), {}},  // covers all of the previous one
        {1050, filled(10, 7), {}},                               // inside a piece that was itself cut
    };
    auto src = open_bytes(dumpgen::flatten_records(records));
    CHECK(read_all(*src) == replay(records));
    CHECK(src->size() == 2200);
  }
  SECTION("random records against a replay") {
    std::mt19937_64 rng(42);
    for (int round = 0; round < 20; ++round) {
      std::vector<FlatRecord> records;
      for (int i = 0; i < 200; ++i) {
        int64_t off = static_cast<int64_t>(rng() % 20000);
        size_t len = rng() % 700;
        records.push_back({off, filled(len, static_cast<int>(rng() % 255 + 1)), {}});
      }
      auto src = open_bytes(dumpgen::flatten_records(records));
      REQUIRE(read_all(*src) == replay(records));
    }
  }
}

TEST_CASE("a flattened stream cut short keeps what is there", "[flattened]") {
  std::vector<FlatRecord> records = {{0, filled(4096, 1), {}}, {4096, filled(4096, 2), {}}};
  SECTION("no end marker") {
    auto src = open_bytes(dumpgen::flatten_records(records, false));
    CHECK(src->size() == 8192);
    CHECK_FALSE(flattened_stats(*src)->complete);
  }
  SECTION("the last record's data cut") {
    auto stream = dumpgen::flatten_records(records, false);
    stream.resize(stream.size() - 1000);
    auto src = open_bytes(stream);
    CHECK(src->size() == 8192 - 1000);
    auto all = read_all(*src);
    CHECK(all[8191 - 1000] == std::byte{2});
  }
  SECTION("a record header cut") {
    auto stream = dumpgen::flatten_records(records, false);
    stream.resize(stream.size() - 4096 - 8);
    auto src = open_bytes(stream);
    CHECK(src->size() == 4096);
  }
}

TEST_CASE("zero-length records do not extend the file", "[flattened]") {
  std::vector<FlatRecord> records = {{0, filled(10, 1), {}}, {1 << 20, {}, {}}};
  auto src = open_bytes(dumpgen::flatten_records(records));
  CHECK(src->size() == 10);
}

TEST_CASE("damaged flattened streams are FormatErrors naming the file", "[flattened]") {
  SECTION("too short for the header") {
    auto h = dumpgen::flattened_header();
    h.resize(100);
    CHECK(error_of(h) == "dump.flat: too short for a flattened-format header (4096 bytes)");
  }
  SECTION("not flattened") { CHECK(error_of(filled(5000, 0)).find("dump.flat: not a flattened dump") == 0); }
  SECTION("unknown version") {
    auto s = dumpgen::flattened_header(2);
    CHECK(error_of(s) == "dump.flat: unsupported flattened-format version 2");
  }
  SECTION("negative offset") {
    auto s = dumpgen::flatten_records({{-5, filled(4, 1), {}}});
    CHECK(error_of(s) ==
          "dump.flat: record at stream offset 4096 has a negative offset (-5) "
          "or size (4)");
  }
  SECTION("negative size") {
    auto s = dumpgen::flatten_records({{0, filled(4, 1), {}}, {0, {}, -2}});
    CHECK(error_of(s) ==
          "dump.flat: record at stream offset 4116 has a negative offset (0) "
          "or size (-2)");
  }
  SECTION(
      "a record at the top of the offset space claiming more data than there "
      "is") {
    auto s = dumpgen::flatten_records({{INT64_MAX, filled(4, 1), INT64_MAX}});
    CHECK(error_of(s).find("dump.flat: records leave ") == 0);
  }
  SECTION("a huge offset declares a mostly unwritten file") {
    auto s = dumpgen::flatten_records({{0, filled(16, 1), {}}, {int64_t{1} << 40, filled(16, 2), {}}});
    auto e = error_of(s);
    CHECK(e.find("dump.flat: records leave ") == 0);
    CHECK(e.find("unwritten: damaged stream") != std::string::npos);
  }
  SECTION("messages are one line") {
    auto s = dumpgen::flatten_records({{-1, filled(4, 1), {}}});
    CHECK(error_of(s).find('\n') == std::string::npos);
  }
}

TEST_CASE("indexing many page-sized records", "[flattened]") {
  // ~130k records is a 512 MiB dump written page by page; index a tenth of that
  // with real data and check a sample.
  std::vector<FlatRecord> records;
  for (int i = 0; i < 13000; ++i) {
    // Out of order in pairs, as QEMU interleaves descriptors and data.
    int64_t slot = (i % 2 == 0) ? i + 1 : i - 1;
    std::vector<std::byte> d(4096);
    d[0] = static_cast<std::byte>(slot & 0xff);
    d[4095] = static_cast<std::byte>((slot >> 8) & 0xff);
    records.push_back({slot * 4096, std::move(d), {}});
  }
  auto src = open_bytes(dumpgen::flatten_records(records));
  CHECK(src->size() == 13000ull * 4096);
  CHECK(flattened_stats(*src)->pieces == 13000);
  std::vector<std::byte> page(4096);
  for (int64_t slot : {0, 1, 2, 777, 12999}) {
    REQUIRE(src->read(slot * 4096, page));
    CHECK(page[0] == static_cast<std::byte>(slot & 0xff));
    CHECK(page[4095] == static_cast<std::byte>((slot >> 8) & 0xff));
  }
}
