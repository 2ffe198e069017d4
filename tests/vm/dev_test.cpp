// dev on real crashed kernels, against the guest's own /proc: every
// /proc/devices entry (truth `devices`) is a major of `dev` with its name,
// and no other; vda's /proc/diskstats counters (truth `diskstats`) are the
// ones `dev -d` reads; `dev -i` shows the PC's standard ports and `dev -p`
// the virtio devices QEMU gave the guest; the JSON of each form says the
// same; a damaged chrdevs chain is marked and the other majors still listed;
// dev -V says a fixture has no device dumps, and lists, shows and writes the
// one added to a copy of the dump; and on bullseye the text matches the crash
// utility line by line.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "crash_compare.hpp"
#include "dump_edit.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

// (block, major, name) of each entry, as a sorted list (a major may appear
// under several names and a name under several majors).
using Majors = std::vector<std::tuple<bool, int, std::string>>;

Majors truth_majors(const Truth& t) {
  Majors out;
  for (const TruthDevice& d : t.devices) out.emplace_back(d.block, d.major, d.name);
  std::sort(out.begin(), out.end());
  return out;
}

Majors json_majors(const json& r) {
  Majors out;
  for (const json& d : r["chrdevs"]) out.emplace_back(false, d["major"].get<int>(), d["name"].get<std::string>());
  for (const json& d : r["blkdevs"]) out.emplace_back(true, d["major"].get<int>(), d["name"].get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("dev: exactly the majors of /proc/devices, each with its name", "[dev]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (t.devices.empty()) KDIVE_SKIP("this fixture's truth has no /proc/devices lines (built before they were added)");
  const json r = json_result_of(suite(), "dev");
  // /proc/devices prints every char_device_struct of chrdevs[] and every
  // blk_major_name of major_names[] once (fs/char_dev.c chrdev_show,
  // block/genhd.c blkdev_show), as dev does.
  CHECK(json_majors(r) == truth_majors(t));
  for (const json& d : r["chrdevs"]) {
    INFO(d.dump());
    CHECK_FALSE(d.contains("error"));
    // A cdev found has its file_operations, and they are a symbol.
    CHECK(d["cdev"].is_null() == d["operations"].is_null());
    if (!d["operations"].is_null()) CHECK_FALSE(d["operations_symbol"].get<std::string>().empty());
  }
  // The text names each on a row of its own, major first.
  const std::string text = kdive_ok("dev");
  const std::vector<std::string> lines = lines_of(text);
  for (const TruthDevice& d : t.devices) {
    INFO((d.block ? "block " : "char ") << d.major << " " << d.name);
    const std::string head = fmt::format(" {:3}      {:<13} ", d.major, d.name);
    CHECK(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(head, 0) == 0; }));
  }
  // The virtio disk's major has its gendisk, and the disk is vda.
  bool virtblk = false;
  for (const json& d : r["blkdevs"]) {
    if (d["name"] != "virtblk") continue;
    virtblk = true;
    REQUIRE(d["gendisk"].is_string());
    CHECK(d["operations_symbol"] == "virtblk_fops");
    const json disks = json_result_of(suite(), "dev -d")["disks"];
    bool found = false;
    for (const json& disk : disks) found = found || (disk["gendisk"] == d["gendisk"] && disk["name"] == "vda");
    CHECK(found);
  }
  CHECK(virtblk);
}

TEST_CASE("dev -d: vda's counters are /proc/diskstats'", "[dev]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  if (!t.diskstats) KDIVE_SKIP("this fixture's truth has no /proc/diskstats line for vda");
  const TruthDiskstats& truth = *t.diskstats;
  REQUIRE(truth.counters.size() >= 8);
  const json r = json_result_of(suite(), "dev -d");
  for (const char* key : {"chrdevs", "blkdevs", "disks", "ioports", "iomem", "pci_buses"}) REQUIRE(r.contains(key));
  const json* vda = nullptr;
  for (const json& d : r["disks"]) {
    if (d["name"] == truth.name) vda = &d;
  }
  REQUIRE(vda != nullptr);
  INFO(vda->dump());
  CHECK_FALSE(vda->contains("error"));
  CHECK((*vda)["major"].get<int>() == truth.major);
  CHECK((*vda)["first_minor"].get<int>() == truth.minor);
  CHECK((*vda)["mq"] == true);
  // The counters only grow: the truth was printed before the crash, and
  // whatever the guest did in between (its shell, the sysrq write) can only
  // have added completed I/O. Nothing the truth counted can be missing.
  // /proc/diskstats fields: reads, reads merged, sectors read, ms, writes,
  // writes merged, sectors written.
  CHECK((*vda)["ios"]["read"].get<uint64_t>() >= truth.counters[0]);
  CHECK((*vda)["merges"]["read"].get<uint64_t>() >= truth.counters[1]);
  CHECK((*vda)["sectors"]["read"].get<uint64_t>() >= truth.counters[2]);
  CHECK((*vda)["ios"]["write"].get<uint64_t>() >= truth.counters[4]);
  CHECK((*vda)["merges"]["write"].get<uint64_t>() >= truth.counters[5]);
  CHECK((*vda)["sectors"]["write"].get<uint64_t>() >= truth.counters[6]);
  // The workload did I/O on the disk: a dump reading zeros would fail above
  // only if the truth had none, so say it had some.
  REQUIRE(truth.counters[0] > 0);
  REQUIRE((*vda)["in_flight"].is_object());

  // The text row: major, gendisk, name, queue and the in-flight counts
  // (total, reads, writes) of the JSON.
  const json& in_flight = (*vda)["in_flight"];
  const uint64_t reads = in_flight["read"].get<uint64_t>(), writes = in_flight["write"].get<uint64_t>();
  const std::string row = fmt::format(
      "{:>5} {:<16}   {:<10} {:<16}   {:5} {:5} {:5}", truth.major, (*vda)["gendisk"].get<std::string>().substr(2),
      truth.name, (*vda)["request_queue"].get<std::string>().substr(2), reads + writes, reads, writes);
  const std::vector<std::string> lines = trimmed_lines(kdive_ok("dev -d"));
  CHECK(std::find(lines.begin(), lines.end(), row) != lines.end());
  CHECK(lines.at(0).rfind("MAJOR GENDISK            NAME       REQUEST_QUEUE      TOTAL ", 0) == 0);
  // -D lists vda exactly when it has requests in flight.
  const std::vector<std::string> busy = trimmed_lines(kdive_ok("dev -D"));
  CHECK((std::find(busy.begin(), busy.end(), row) != busy.end()) == (reads + writes > 0));
}

TEST_CASE("dev -i: the PC's standard I/O ports, and the memory map", "[dev]") {
  const json r = json_result_of(suite(), "dev -i");
  REQUIRE_FALSE(r["ioports"].empty());
  REQUIRE_FALSE(r["iomem"].empty());
  // The roots: the whole 16-bit port space, and all of physical memory.
  CHECK(r["ioports"][0]["name"] == "PCI IO");
  CHECK(json_hex(r["ioports"][0]["start"]) == 0);
  CHECK(json_hex(r["ioports"][0]["end"]) == 0xffff);
  CHECK(r["iomem"][0]["name"] == "PCI mem");
  // The 16550 UART at COM1 (the guest's console) and the i8042 keyboard
  // controller's data port, as every PC has them.
  auto has = [&](const json& list, uint64_t start, uint64_t end, const std::string& name) {
    return std::any_of(list.begin(), list.end(), [&](const json& e) {
      return json_hex(e["start"]) == start && json_hex(e["end"]) == end && e["name"] == name;
    });
  };
  CHECK(has(r["ioports"], 0x3f8, 0x3ff, "serial"));
  CHECK(has(r["ioports"], 0x60, 0x60, "keyboard"));
  // Every child lies inside its parent (kernel/resource.c rejects others),
  // which a wrong member offset or a wrong link would not keep.
  std::vector<const json*> stack;
  for (const json& e : r["iomem"]) {
    const int depth = e["depth"].get<int>();
    while (static_cast<int>(stack.size()) > depth) stack.pop_back();
    if (!stack.empty()) {
      INFO(e.dump() << " under " << stack.back()->dump());
      CHECK(json_hex(e["start"]) >= json_hex((*stack.back())["start"]));
      CHECK(json_hex(e["end"]) <= json_hex((*stack.back())["end"]));
    }
    stack.push_back(&e);
  }
  bool ram = false, code = false;
  for (const json& e : r["iomem"]) {
    ram = ram || e["name"] == "System RAM";
    code = code || e["name"] == "Kernel code";
  }
  CHECK(ram);
  CHECK(code);
  const std::vector<std::string> lines = trimmed_lines(kdive_ok("dev -i"));
  const std::regex serial("^[0-9a-f]{16}  03f8-03ff  serial$");
  CHECK(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return std::regex_match(l, serial); }));
}

TEST_CASE("dev -p: the guest's PCI devices, virtio among them", "[dev]") {
  const json r = json_result_of(suite(), "dev -p");
  REQUIRE_FALSE(r["pci_buses"].empty());
  CHECK(r["pci_buses"][0]["root"] == true);
  CHECK(r["pci_buses"][0]["name"] == "0000:00");
  // The host bridge of QEMU's PC is 00:00.0 (Intel, class 0600), and the
  // fixture's disk is a virtio block device (Red Hat's vendor id 1af4, mass
  // storage class 01xx).
  bool host_bridge = false, virtio_disk = false;
  std::set<std::string> names;
  for (const json& bus : r["pci_buses"]) {
    for (const json& d : bus["devices"]) {
      INFO(d.dump());
      CHECK_FALSE(d.contains("error"));
      CHECK(
          std::regex_match(d["name"].get<std::string>(), std::regex("^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$")));
      CHECK(names.insert(d["name"].get<std::string>()).second);
      if (d["name"] == "0000:00:00.0" && d["class"] == "0600" && d["vendor"] == "8086") host_bridge = true;
      if (d["vendor"] == "1af4" && d["class"].get<std::string>().rfind("01", 0) == 0) virtio_disk = true;
    }
  }
  CHECK(host_bridge);
  CHECK(virtio_disk);
  const std::vector<std::string> lines = trimmed_lines(kdive_ok("dev -p"));
  const std::regex virtio(R"(^  [0-9a-f]{16} 0000:00:[0-9a-f]{2}\.[0-7]  01[0-9a-f]{2}  1af4:[0-9a-f]+ .*$)");
  CHECK(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return std::regex_match(l, virtio); }));
}

TEST_CASE("dev: a broken chrdevs chain is marked, the other majors still listed", "[dev]") {
  if (suite() != "bookworm" && suite() != "bullseye" && suite() != "trixie") {
    KDIVE_SKIP("one dump edit per kernel family is enough");
  }
  const json before = json_result_of(suite(), "dev");
  // Major 4's slot chains /dev/vc/0, tty and ttyS (one struct each, the
  // kernel keeps them sorted by minor): break the link after the first.
  std::vector<json> slot4;
  for (const json& d : before["chrdevs"]) {
    if (d["major"] == 4) slot4.push_back(d);
  }
  REQUIRE(slot4.size() >= 2);
  DamagedDump dump = DamagedDump::copy_of(suite());
  const uint64_t next = member_offset(suite(), "struct char_device_struct", "next");
  // A non-canonical address: no page of any kernel maps it.
  dump.write_u64(kdive::VirtAddr{json_hex(slot4[0]["char_device_struct"]) + next}, 0xdead000000001000);
  KdiveRun text = dump.run("dev");
  INFO(text.out << text.err);
  CHECK(text.status == kDataLost);
  CHECK(text.out.find("(damaged: ") != std::string::npos);
  KdiveRun j = dump.run("dev", "--json");
  CHECK(j.status == kDataLost);
  const json parsed = json::parse(j.out, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  const json after = parsed["result"];
  // Everything outside the broken chain is as before; the first of the chain
  // too; only what hung behind the broken link is gone.
  size_t lost = 0;
  for (const json& d : before["chrdevs"]) {
    const bool behind = d["major"] == 4 && d["char_device_struct"] != slot4[0]["char_device_struct"];
    const bool listed = std::find(after["chrdevs"].begin(), after["chrdevs"].end(), d) != after["chrdevs"].end();
    INFO(d.dump());
    CHECK(listed != behind);
    lost += behind ? 1 : 0;
  }
  CHECK(after["chrdevs"].size() == before["chrdevs"].size() - lost);
  CHECK(after["blkdevs"] == before["blkdevs"]);
}

// No deliberate difference shows in these outputs on bullseye. Where kdive
// does otherwise than crash, it does not change them there:
//  * a block major of 255 and up (blkext, 259) is looked up in bdev_map under
//    its own major in slot major % 255; crash looks for major 4 in slot 4.
//    Neither finds a gendisk for blkext (extended partitions are not in
//    bdev_map), so both print (none).
//  * dev -p TYPE: a conventional PCI device's PCIe flags are 0, which crash
//    decodes as ENDPOINT; kdive prints the same and says `pcie: false` in
//    its JSON.
//  * dev -d: crash heads the two counts ASYNC/SYNC while the kernel has
//    BLK_RW_SYNC but counts reads and writes in them; kdive prints the same
//    heads and counts, and names them read/write in its JSON.
TEST_CASE("dev matches crash line by line", "[dev]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  compare_with_crash({"dev", "dev -d", "dev -D", "dev -i", "dev -p"});
}

TEST_CASE("dev -d/-D: a request put in flight in a copy of the dump is counted", "[dev]") {
  // Every fixture's vda is idle at the crash, so the tag walk is made to find
  // something: in a copy, tag 0 of vda's first hardware queue is marked busy
  // and its request made an in-flight write of this queue (what blk-mq does
  // when it starts a request: a bit in the tag bitmap, tags->rqs[tag], and
  // the request's q, state and cmd_flags).
  if (suite() != "bookworm" && suite() != "bullseye" && suite() != "trixie") {
    KDIVE_SKIP("one dump edit per kernel family is enough");
  }
  const json before = json_result_of(suite(), "dev -d");
  const json* vda = nullptr;
  for (const json& d : before["disks"]) {
    if (d["name"] == "vda") vda = &d;
  }
  REQUIRE(vda != nullptr);
  REQUIRE((*vda)["in_flight"] == json({{"read", 0}, {"write", 0}}));
  const uint64_t q = json_hex((*vda)["request_queue"]);
  const uint64_t tags = print_value(suite(), fmt::format("((struct request_queue *){:#x})->tag_set->tags[0]", q));
  // The bitmap is behind a pointer in 5.10 and embedded in 6.1.
  const std::string sbq = suite() == "bullseye" ? "->bitmap_tags->" : "->bitmap_tags.";
  const uint64_t map = print_value(suite(), fmt::format("((struct blk_mq_tags *){:#x}){}sb.map", tags, sbq));
  const uint64_t reserved = print_value(suite(), fmt::format("((struct blk_mq_tags *){:#x})->nr_reserved_tags", tags));
  const uint64_t rq =
      print_value(suite(), fmt::format("((struct blk_mq_tags *){:#x})->static_rqs[{}]", tags, reserved));
  const uint64_t rqs = print_value(suite(), fmt::format("((struct blk_mq_tags *){:#x})->rqs", tags));
  REQUIRE(rq != 0);

  DamagedDump dump = DamagedDump::copy_of(suite());
  dump.write_u64(kdive::VirtAddr{map + member_offset(suite(), "struct sbitmap_word", "word")}, 1);
  dump.write_u64(kdive::VirtAddr{map + member_offset(suite(), "struct sbitmap_word", "cleared")}, 0);
  dump.write_u64(kdive::VirtAddr{rqs + reserved * 8}, rq);
  dump.write_u64(kdive::VirtAddr{rq + member_offset(suite(), "struct request", "q")}, q);
  // state (enum mq_rq_state) and cmd_flags are 4 bytes each: MQ_RQ_IN_FLIGHT
  // and REQ_OP_WRITE are both 1.
  const std::array<std::byte, 4> one{std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};
  dump.write(kdive::VirtAddr{rq + member_offset(suite(), "struct request", "state")}, one);
  dump.write(kdive::VirtAddr{rq + member_offset(suite(), "struct request", "cmd_flags")}, one);

  KdiveRun j = dump.run("dev -d", "--json");
  INFO(j.out << j.err);
  REQUIRE(j.status == 0);
  const json after = json::parse(j.out, nullptr, false);
  REQUIRE_FALSE(after.is_discarded());
  bool found = false;
  for (const json& d : after["result"]["disks"]) {
    if (d["name"] != "vda") continue;
    found = true;
    CHECK(d["in_flight"] == json({{"read", 0}, {"write", 1}}));
  }
  CHECK(found);
  // -D now lists vda, with total 1: 0 reads and 1 write.
  KdiveRun busy = dump.run("dev -D");
  INFO(busy.out << busy.err);
  REQUIRE(busy.status == 0);
  const std::vector<std::string> lines = trimmed_lines(busy.out);
  REQUIRE(lines.size() == 2);
  CHECK(std::regex_match(lines[1], std::regex("^  254 [0-9a-f]{16}   vda        [0-9a-f]{16}       1     0     1$")));
}

TEST_CASE("dev -i: a long name is wrapped, a looping tree is marked", "[dev]") {
  if (suite() != "bookworm" && suite() != "bullseye") KDIVE_SKIP("one dump edit per kernel family is enough");
  const json before = json_result_of(suite(), "dev -i");
  uint64_t serial = 0;
  for (const json& e : before["ioports"]) {
    if (e["name"] == "serial") serial = json_hex(e["resource"]);
  }
  REQUIRE(serial != 0);
  // The kernel command line is a long name with blanks in it.
  const uint64_t cmdline = print_value(suite(), "saved_command_line");
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  DamagedDump dump = DamagedDump::copy_of(suite());
  dump.write_u64(kdive::VirtAddr{serial + member_offset(suite(), "struct resource", "name")}, cmdline);
  {
    KdiveRun r = dump.run("dev -i");
    INFO(r.out << r.err);
    REQUIRE(r.status == 0);
    const std::vector<std::string> lines = lines_of(r.out);
    // The row's range, then as much of the name as fits in 80 columns, broken
    // at a blank; the rest under the name column (16 + 2 + 9 + 2).
    const std::string head = fmt::format("{:16x}  03f8-03ff  ", serial);
    auto row = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(head, 0) == 0; });
    REQUIRE(row != lines.end());
    REQUIRE(row + 1 != lines.end());
    const std::string first = row->substr(head.size());
    const std::string indent(29, ' ');
    REQUIRE(row[1].rfind(indent, 0) == 0);
    CHECK(row->size() <= 80);
    CHECK(first + " " + row[1].substr(indent.size()) == t.cmdline);
  }
  // The serial port's sibling made the root: the walk comes back to it.
  dump.write_u64(kdive::VirtAddr{serial + member_offset(suite(), "struct resource", "sibling")},
                 symbol_address(suite(), "ioport_resource").value());
  KdiveRun r = dump.run("dev -i");
  INFO(r.out << r.err);
  CHECK(r.status == kDataLost);
  CHECK(r.out.find(fmt::format("(damaged: {:x}: resource reached twice",
                               symbol_address(suite(), "ioport_resource").value())) != std::string::npos);
  // The memory tree after it is whole.
  const json after = json::parse(dump.run("dev -i", "--json").out, nullptr, false);
  REQUIRE_FALSE(after.is_discarded());
  CHECK(after["result"]["iomem"] == before["iomem"]);
}

namespace {

// A device dump's bytes: text a reader can spot in the ASCII column, then
// every byte value, 300 bytes in all (not a whole number of 8-byte words).
std::vector<std::byte> device_dump_bytes() {
  std::vector<std::byte> out;
  for (char c : std::string("kdive device dump")) out.push_back(static_cast<std::byte>(c));
  for (size_t i = 0; out.size() < 300; ++i) out.push_back(static_cast<std::byte>(i & 0xff));
  return out;
}

std::string hex_of(const std::vector<std::byte>& bytes) {
  std::string s;
  for (std::byte b : bytes) s += fmt::format("{:02x}", static_cast<unsigned>(b));
  return s;
}

// The little-endian u64 at `at`, zero-padded past the end (as dev -v shows a
// last partial word).
uint64_t word_at(const std::vector<std::byte>& bytes, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && at + i < bytes.size(); ++i) v |= static_cast<uint64_t>(bytes[at + i]) << (8 * i);
  return v;
}

}  // namespace

TEST_CASE("dev -V: a fixture's dump has no device dumps, and says so as crash does", "[dev]") {
  const KdiveRun r = run_kdive(suite(), "elf", "dev -V");
  INFO(r.out << r.err);
  // crash: "dev: no device dumps found in this dumpfile"; an answer, not a failure.
  CHECK(r.status == 0);
  CHECK((r.out + r.err).find("dev: no device dumps found in this dumpfile") != std::string::npos);
  const KdiveRun k = run_kdive(suite(), "kdump-zlib", "dev -v 0");
  CHECK((k.out + k.err).find("dev: no device dumps found in this dumpfile") != std::string::npos);
}

// No fixture has a device dump (a driver must register one in a capture
// kernel), so one is added to a copy. crash is not compared here: it looks
// for the notes only in the file's first bytes, and the copy's notes moved
// to its end.
TEST_CASE("dev -V/-v: a device dump added to a copy of the dump is listed, shown and written", "[dev]") {
  const std::filesystem::path fixture = fixture_dir(suite());
  TempDir tmp("devdump");
  const std::filesystem::path copy = tmp.path / "vmcore.elf";
  const std::vector<std::byte> data = device_dump_bytes();
  const std::string name = "kdive_test_nic";
  const uint64_t offset = copy_with_device_dump(fixture / "vmcore.elf", copy, name, data);
  auto run = [&](const std::string& commands, const std::string& options = "") {
    return run_kdive_args(options + (options.empty() ? "" : " ") + "-b -c " + shell_quote(commands) + " " +
                          shell_quote((fixture / "vmlinux").string()) + " " + shell_quote(copy.string()));
  };

  // -V: crash's table, one row.
  const KdiveRun v = run("dev -V");
  INFO(v.out << v.err);
  REQUIRE(v.status == 0);
  const std::vector<std::string> lines = lines_of(v.out);
  REQUIRE(lines.size() == 2);
  CHECK(std::regex_match(lines[0], std::regex("INDEX  OFFSET +SIZE +NAME")));
  CHECK(std::regex_match(lines[1], std::regex(fmt::format("  0    0x{:x} +{} +{}", offset, data.size(), name))));
  const KdiveRun vj = run("dev -V", "--json");
  const json rows = json::parse(lines_of(vj.out).at(0))["result"]["device_dumps"];
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["index"] == 0);
  CHECK(rows[0]["offset"] == fmt::format("0x{:x}", offset));
  CHECK(rows[0]["size"] == data.size());
  CHECK(rows[0]["name"] == name);

  // -v INDEX: its name, then two words a line at their file offsets, with
  // the bytes as ASCII; the JSON holds every byte.
  const KdiveRun shown = run("dev -v 0");
  INFO(shown.out << shown.err);
  REQUIRE(shown.status == 0);
  const std::vector<std::string> dump_lines = lines_of(shown.out);
  REQUIRE(dump_lines.size() == 1 + (data.size() + 15) / 16);
  CHECK(dump_lines[0] == "DEVICE: " + name);
  CHECK(dump_lines[1] ==
        fmt::format("{:x}:  {:016x} {:016x}  kdive device dum", offset, word_at(data, 0), word_at(data, 8)));
  // The last line: 300 = 18 * 16 + 12 bytes, a word and a half padded with zeros.
  CHECK(dump_lines.back().find(
            fmt::format("{:x}:  {:016x} {:016x}", offset + 288, word_at(data, 288), word_at(data, 296))) == 0);
  const KdiveRun sj = run("dev -v 0", "--json");
  const json one = json::parse(lines_of(sj.out).at(0))["result"]["device_dump"];
  CHECK(one["data"] == hex_of(data));
  CHECK(one["name"] == name);
  CHECK(one["file"].is_null());

  // -v INDEX FILE: the bytes, exactly; an existing file is refused and kept.
  const std::filesystem::path out = tmp.path / "nic.bin";
  const KdiveRun written = run("dev -v 0 " + out.string());
  INFO(written.err);
  CHECK(written.status == 0);
  REQUIRE(std::filesystem::exists(out));
  {
    std::ifstream in(out, std::ios::binary);
    std::vector<char> got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(got.size() == data.size());
    CHECK(std::memcmp(got.data(), data.data(), data.size()) == 0);
  }
  const auto written_at = std::filesystem::last_write_time(out);
  const KdiveRun again = run("dev -v 0 " + out.string());
  CHECK(again.status != 0);
  CHECK(lines_of(again.err).size() == 1);
  CHECK(again.err.find("file exists") != std::string::npos);
  CHECK(std::filesystem::file_size(out) == data.size());
  CHECK(std::filesystem::last_write_time(out) == written_at);
  // Nothing but the file itself was left in the directory (no temporary).
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(tmp.path)) ++entries;
  CHECK(entries == 2);  // the copy and nic.bin

  const KdiveRun bad = run("dev -v 1");
  CHECK(bad.status != 0);
  CHECK(bad.err.find("no device dump found at index: 1") != std::string::npos);
}
