// The printk ring with one record's descriptor zeroed in a copy of the dump
// (dump_edit.hpp): `log` prints every other record as in the original, marks
// the lost one in its place, and batch mode says data was lost.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "dump_edit.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using kdive::VirtAddr;

TEST_CASE("one zeroed printk descriptor loses that record only, marked in its place", "[log_damage]") {
  KdiveRun before = run_kdive(suite(), "elf", "log");
  REQUIRE(before.status == 0);
  const std::vector<std::string> lines = lines_of(before.out);
  nlohmann::json records = nlohmann::json::parse(
      run_kdive_args("--json -b -c log " + DamagedDump::copy_of(suite()).kdive_files()).out)["result"];
  REQUIRE(records.size() > 10);
  // A one-line record in the middle of the log.
  size_t victim = records.size() / 2;
  while (records[victim]["text"].get<std::string>().find('\n') != std::string::npos) ++victim;
  const uint64_t seq = records[victim]["seq"].get<uint64_t>();
  // A record's descriptor and info sit at index seq mod the ring's size: ids
  // and sequence numbers advance together from index 0 (kernel/printk/printk_ringbuffer.c).
  const uint64_t count = uint64_t{1} << print_value(suite(), "prb->desc_ring.count_bits");
  const uint64_t index = seq & (count - 1);
  REQUIRE(print_value(suite(), fmt::format("prb->desc_ring.infos[{}].seq", index)) == seq);
  const VirtAddr desc{print_value(suite(), fmt::format("&prb->desc_ring.descs[{}]", index))};

  DamagedDump d = DamagedDump::copy_of(suite());
  d.zero(desc, type_size(suite(), "struct prb_desc"));
  KdiveRun after = d.run("log");
  CHECK(after.status == 3);
  // Its line in the text: a record of n lines prints n lines.
  size_t line = 0;
  for (size_t i = 0; i < victim; ++i) {
    const std::string text = records[i]["text"].get<std::string>();
    line += 1 + static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }
  std::vector<std::string> expected = lines;
  expected.at(line) = fmt::format("(damaged: record {} missing: its descriptor is not a committed record)", seq);
  expected.push_back("log: 1 record(s) could not be read (marked above)");  // the closing summary
  CHECK(lines_of(after.out) == expected);

  nlohmann::json j = nlohmann::json::parse(d.run("log", "--json").out);
  REQUIRE(j["result"].size() == records.size());
  CHECK(j["result"][victim].contains("error"));
  CHECK(j["result"][victim - 1] == records[victim - 1]);
  CHECK(j["result"][victim + 1] == records[victim + 1]);
}
