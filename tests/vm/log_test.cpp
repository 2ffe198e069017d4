// log on real crashed kernels: the kernel's own console output (console.log,
// printed live over the serial line) must be found in the dump's log, in order,
// with the same timestamps; the flags change only what they say they change.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "console_log.hpp"
#include "dump_edit.hpp"
#include "run_kdive.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;

namespace {

std::string run_ok(const std::string& commands) {
  KdiveRun r = run_kdive(suite(), "elf", commands);
  INFO(commands << " stderr: " << r.err);
  REQUIRE(r.status == 0);
  return r.out;
}

// `log` lines as the console would show them: each line of a record with the
// record's stamp (continuation lines are indented by the stamp's width).
std::vector<ConsoleLine> log_as_console(const std::string& out) {
  static const std::regex first(R"(^\[( *\d+\.\d{6})\] (.*)$)");
  std::vector<ConsoleLine> lines;
  for (const std::string& line : lines_of(out)) {
    std::smatch m;
    if (std::regex_match(line, m, first)) {
      lines.push_back({m[1], m[2], std::stod(m[1])});
    } else {
      REQUIRE_FALSE(lines.empty());  // the first line always has a stamp
      INFO("a continuation line must be indented by the stamp's width: '" << line << "'");
      REQUIRE(line.compare(0, 15, std::string(15, ' ')) == 0);
      lines.push_back({lines.back().stamp, line.substr(15), lines.back().seconds});
    }
  }
  return lines;
}

}  // namespace

TEST_CASE("log holds every kernel line of the console, in order, with its timestamp", "[log]") {
  auto console = console_kernel_lines(fixture_dir(suite()));
  REQUIRE(console.size() > 100);
  auto log = log_as_console(run_ok("log"));
  REQUIRE(log.size() >= console.size());

  size_t at = 0;
  for (const ConsoleLine& c : console) {
    size_t from = at;
    while (at < log.size() && !(log[at].stamp == c.stamp && log[at].text == c.text)) ++at;
    INFO("console line [" << c.stamp << "] " << c.text << " not found in log after its line " << from);
    REQUIRE(at < log.size());
    ++at;
  }
  // The panic line the console printed is in the log too.
  auto panic = std::find_if(console.rbegin(), console.rend(),
                            [](const ConsoleLine& c) { return c.text.rfind("Kernel panic - not syncing", 0) == 0; });
  REQUIRE(panic != console.rend());
}

TEST_CASE("log from the kdump-compressed dump equals log from the ELF dump", "[log]") {
  KdiveRun kdump = run_kdive(suite(), "kdump-zlib", "log");
  REQUIRE(kdump.status == 0);
  CHECK(kdump.out == run_ok("log"));
}

TEST_CASE("log -t drops the timestamps and nothing else", "[log]") {
  auto plain = lines_of(run_ok("log"));
  auto bare = lines_of(run_ok("log -t"));
  REQUIRE(plain.size() == bare.size());
  for (size_t i = 0; i < plain.size(); ++i) {
    INFO("line " << i << ": '" << plain[i] << "' vs '" << bare[i] << "'");
    REQUIRE(plain[i].size() >= 15);
    CHECK(plain[i].substr(15) == bare[i]);
  }
}

TEST_CASE("log -m shows each record's level; the panic is an emergency", "[log]") {
  auto plain = lines_of(run_ok("log"));
  auto levels = lines_of(run_ok("log -m"));
  REQUIRE(plain.size() == levels.size());
  static const std::regex first(R"(^(\[ *\d+\.\d{6}\] )<([0-7])>(.*)$)");
  bool panic_seen = false;
  int records = 0;
  for (size_t i = 0; i < plain.size(); ++i) {
    std::smatch m;
    if (!std::regex_match(levels[i], m, first)) {
      // A continuation line: indented three more columns, for the "<N>".
      CHECK(levels[i] == "   " + plain[i]);
      continue;
    }
    ++records;
    CHECK(std::string(m[1]) + std::string(m[3]) == plain[i]);
    if (std::string(m[3]).rfind("Kernel panic - not syncing", 0) == 0) {
      panic_seen = true;
      CHECK(m[2] == "0");  // panic() prints with KERN_EMERG
    }
  }
  CHECK(panic_seen);
  CHECK(records > 100);
}

TEST_CASE("log -T dates run from boot to the crash date of sys", "[log]") {
  std::string sys = run_ok("sys");
  std::smatch m;
  REQUIRE(std::regex_search(sys, m, std::regex(R"(DATE: (.*))")));
  const std::string date = m[1];
  auto dated = lines_of(run_ok("log -T"));
  auto plain = lines_of(run_ok("log"));
  REQUIRE(dated.size() == plain.size());
  static const std::regex stamped(R"(^\[(\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \w+ \d{4})\] (.*)$)");
  std::string last;
  for (size_t i = 0; i < dated.size(); ++i) {
    if (std::regex_match(dated[i], m, stamped)) {
      last = m[1];
      CHECK(plain[i].substr(15) == std::string(m[2]));
    }
  }
  // The last record was logged moments before the crash: the same second as
  // DATE, or the one before (the dates are whole seconds from boot).
  std::tm a{}, b{};
  REQUIRE(strptime(last.c_str(), "%a %b %e %H:%M:%S", &a) != nullptr);
  REQUIRE(strptime(date.c_str(), "%a %b %e %H:%M:%S", &b) != nullptr);
  int diff = (b.tm_hour * 3600 + b.tm_min * 60 + b.tm_sec) - (a.tm_hour * 3600 + a.tm_min * 60 + a.tm_sec);
  INFO("last record " << last << ", crash " << date);
  CHECK(diff >= -1);
  CHECK(diff <= 2);
}

TEST_CASE("log -d adds the device dictionary under its record", "[log]") {
  auto plain = lines_of(run_ok("log"));
  auto dict = lines_of(run_ok("log -d"));
  static const std::regex entry(R"(^ {15}(SUBSYSTEM|DEVICE)=\S+$)");
  std::vector<std::string> without;
  int entries = 0;
  for (const auto& l : dict) {
    if (std::regex_match(l, entry)) {
      ++entries;
    } else {
      without.push_back(l);
    }
  }
  CHECK(without == plain);
  CHECK(entries > 0);  // PCI and ACPI devices announce themselves at every boot
}

TEST_CASE("log -a and log -s say what they found", "[log]") {
  KdiveRun a = run_kdive(suite(), "elf", "log -a");
  INFO(a.out << a.err);
  CHECK((a.out == "log: kernel audit log is empty\n" || a.out.rfind("type=", 0) == 0 ||
         a.err.find("log: this kernel has no audit queue") != std::string::npos));

  KdiveRun s = run_kdive(suite(), "elf", "log -s");
  INFO(s.out << s.err);
  if (s.out.empty()) {
    // 5.15 removed the safe buffers.
    CHECK(s.err.find("log: this kernel has no printk safe buffers") != std::string::npos);
  } else {
    CHECK(s.out.rfind("PRINTK_SAFE_SEQ_BUF: nmi_print_seq\n", 0) == 0);
    CHECK(s.out.find("PRINTK_SAFE_SEQ_BUF: safe_print_seq\n") != std::string::npos);
    Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
    for (int cpu = 0; cpu < t.cpus; ++cpu)
      CHECK(s.out.find("CPU: " + std::to_string(cpu) + "  ADDR: ") != std::string::npos);
  }
  KdiveRun bad = run_kdive(suite(), "elf", "log -t -T");
  CHECK(bad.err.find("log: ") != std::string::npos);
}

TEST_CASE("log without VMCOREINFO reads the ring with DWARF offsets", "[log]") {
  // VMCOREINFO carries the printk offsets; without it they come from the
  // vmlinux's debuginfo, and the log must not change.
  const auto dir = fixture_dir(suite());
  const auto tmp = std::filesystem::temp_directory_path() / ("kdive-log-novmci-" + suite());
  std::filesystem::create_directories(tmp);
  copy_without_notes(dir / "vmcore.elf", tmp / "vmcore.elf", {"VMCOREINFO"});
  KdiveRun r =
      run_kdive_args("-b -c 'log -m -d' '" + (dir / "vmlinux").string() + "' '" + (tmp / "vmcore.elf").string() + "'");
  std::filesystem::remove_all(tmp);
  INFO(r.err);
  CHECK(r.err.find("no usable VMCOREINFO") != std::string::npos);
  CHECK(r.status == 0);
  CHECK(r.out == run_ok("log -m -d"));
}
