// sys on real crashed kernels against the guest's own view (truth.txt) and its
// console: release, panic message, task count, memory, uptime and date; and the
// subcommands -i (DMI), -c (system call table) and config.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <regex>
#include <sstream>

#include "console_log.hpp"
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

// The value of one "       LABEL: value" line of sys.
std::string field(const std::string& sys, const std::string& label) {
  std::smatch m;
  INFO("no " << label << " in:\n" << sys);
  REQUIRE(std::regex_search(sys, m, std::regex("(^|\n) *" + label + ": ([^\n]*)")));
  return m[2];
}

int64_t hms_seconds(const std::string& uptime) {
  std::smatch m;
  REQUIRE(std::regex_match(uptime, m, std::regex(R"((?:(\d+) days?, )?(\d\d):(\d\d):(\d\d))")));
  int64_t days = m[1].matched ? std::stoll(m[1]) : 0;
  return days * 86400 + std::stoll(m[2]) * 3600 + std::stoll(m[3]) * 60 + std::stoll(m[4]);
}

}  // namespace

TEST_CASE("sys fields in crash's order, agreeing with the guest", "[sys]") {
  Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  std::string sys = run_ok("sys");

  // crash's order of the fields.
  std::vector<std::string> order = {"KERNEL",   "DUMPFILE", "CPUS",    "DATE",    "UPTIME", "LOAD AVERAGE", "TASKS",
                                    "NODENAME", "RELEASE",  "VERSION", "MACHINE", "MEMORY", "PANIC"};
  size_t at = 0;
  for (const auto& label : order) {
    size_t found = sys.find(label + ": ", at);
    INFO(label << " missing or out of order in:\n" << sys);
    REQUIRE(found != std::string::npos);
    at = found;
  }

  CHECK(field(sys, "RELEASE") == t.release);
  CHECK(field(sys, "NODENAME") == "kdive");
  CHECK(t.version.find(field(sys, "VERSION")) != std::string::npos);

  // TASKS: every thread /proc listed, plus one idle task per CPU (truth.txt
  // notes). Kworkers may come and go in the seconds the console drains, so the
  // count may differ by those only: check that against kdive's own ps.
  int64_t tasks = std::stoll(field(sys, "TASKS"));
  int64_t expected = static_cast<int64_t>(t.tasks.size()) + t.cpus;
  std::string ps = run_ok("ps");
  int64_t ps_rows = 0, kworkers = 0;
  std::istringstream in(ps);
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, std::regex(R"(^[ >] +\d+ +\d+ +\d+ +[0-9a-f]{16} )"))) ++ps_rows;
    if (line.find("[kworker/") != std::string::npos) ++kworkers;
  }
  CHECK(tasks == ps_rows);
  INFO("TASKS " << tasks << ", truth task lines + CPUs " << expected << ", kworkers " << kworkers);
  CHECK(std::llabs(tasks - expected) <= kworkers);

  // MEMORY is the RAM the firmware gave; MemTotal is that less what the kernel
  // reserved for itself at boot.
  std::smatch m;
  std::string memory = field(sys, "MEMORY");
  REQUIRE(std::regex_match(memory, m, std::regex(R"(([\d.]+) (MB|GB))")));
  double mib = std::stod(m[1]) * (m[2] == "GB" ? 1024 : 1);
  double memtotal_mib = static_cast<double>(t.meminfo.at("MemTotal")) / 1024;
  CHECK(mib >= memtotal_mib);
  CHECK(mib <= memtotal_mib * 1.25);

  // PANIC is the last panic line the console printed.
  auto console = console_kernel_lines(fixture_dir(suite()));
  std::string panic;
  for (const auto& c : console) {
    if (c.text.rfind("Kernel panic - not syncing", 0) == 0) panic = c.text;
  }
  REQUIRE_FALSE(panic.empty());
  CHECK(field(sys, "PANIC") == "\"" + panic + "\"");

  REQUIRE(std::regex_match(field(sys, "LOAD AVERAGE"), std::regex(R"(\d+\.\d\d, \d+\.\d\d, \d+\.\d\d)")));
  CHECK(field(sys, "CPUS").rfind(std::to_string(t.cpus), 0) == 0);
}

TEST_CASE("sys UPTIME and DATE agree with the console's clock", "[sys]") {
  std::string sys = run_ok("sys");
  auto console = console_kernel_lines(fixture_dir(suite()));
  REQUIRE_FALSE(console.empty());
  const double last = console.back().seconds;  // the panic's own lines come last

  // Jiffies, the printk clock (sched_clock) and the wall clock all count from
  // boot, but under TCG emulation they run on different clocksources that drift
  // apart: trixie's wall clock gains ~4 s on the printk clock in 57 s. 10% is
  // far below any real error (a wrong HZ is 4x, a wrong field is years).
  const double tolerance = std::max(3.0, last * 0.10);
  int64_t uptime = hms_seconds(field(sys, "UPTIME"));
  INFO("UPTIME " << uptime << " s, last console stamp " << last << " s");
  CHECK(std::fabs(static_cast<double>(uptime) - last) <= tolerance);

  // The wall clock: the audit subsystem logs the epoch time at boot
  // ("audit(1795433834.784:1)") next to its printk stamp, so the crash date is
  // that epoch plus the time between the two stamps.
  std::smatch m;
  std::optional<double> boot_epoch;
  for (const auto& c : console) {
    if (std::regex_search(c.text, m, std::regex(R"(audit\((\d+)\.(\d+):)"))) {
      boot_epoch = std::stod(std::string(m[1]) + "." + std::string(m[2])) - c.seconds;
      break;
    }
  }
  REQUIRE(boot_epoch);
  std::tm tm{};
  std::string date = field(sys, "DATE");
  REQUIRE(strptime(date.c_str(), "%a %b %e %H:%M:%S %Z %Y", &tm) != nullptr);
  double crash = static_cast<double>(timegm(&tm));  // the tests run in UTC, like the fixtures' guest
  INFO("DATE " << date << ", expected about " << static_cast<int64_t>(*boot_epoch + last));
  CHECK(std::fabs(crash - (*boot_epoch + last)) <= tolerance);
}

TEST_CASE("sys -i shows the DMI strings the kernel announced at boot", "[sys]") {
  std::string dmi = run_ok("sys -i");
  auto value = [&](const std::string& name) {
    std::smatch m;
    INFO(dmi);
    REQUIRE(std::regex_search(dmi, m, std::regex("(^|\n) *" + name + ": ([^\n]*)")));
    return std::string(m[2]);
  };
  // dmi_setup() printed "DMI: <sys vendor> <product>, BIOS <version> <date>".
  std::string boot;
  for (const auto& c : console_kernel_lines(fixture_dir(suite()))) {
    if (c.text.rfind("DMI: ", 0) == 0 && c.text.find(", BIOS ") != std::string::npos) boot = c.text;
  }
  REQUIRE_FALSE(boot.empty());
  CHECK(boot == "DMI: " + value("DMI_SYS_VENDOR") + " " + value("DMI_PRODUCT_NAME") + ", BIOS " +
                    value("DMI_BIOS_VERSION") + " " + value("DMI_BIOS_DATE"));
  // Right-aligned names, as crash prints them.
  CHECK(std::regex_search(dmi, std::regex(R"((^|\n) {10}DMI_BIOS_VENDOR: )")));
}

TEST_CASE("sys -c lists the system call table with source lines", "[sys]") {
  std::string table = run_ok("sys -c");
  std::istringstream in(table);
  std::string header;
  std::getline(in, header);
  CHECK(header == "NUM  SYSTEM CALL                FILE AND LINE NUMBER");
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(line);
  REQUIRE(rows.size() > 300);
  // x86_64 syscall numbers are ABI: 0 read, 1 write, 60 exit, 231 exit_group.
  std::regex read_row(R"(^  0  __x64_sys_read +\S*fs/read_write\.c: \d+$)");
  CHECK(std::regex_match(rows[0], read_row));
  CHECK(rows[60].find(" __x64_sys_exit ") != std::string::npos);
  CHECK(rows[231].find(" __x64_sys_exit_group ") != std::string::npos);
}

TEST_CASE("sys config gives the built-in config or says there is none", "[sys]") {
  KdiveRun r = run_kdive(suite(), "elf", "sys config");
  if (r.out.empty()) {
    // Debian builds CONFIG_IKCONFIG as a module (configs.ko), so the config is not in the kernel image.
    CHECK(r.err.find("sys: kernel_config_data does not exist in this kernel") != std::string::npos);
  } else {
    CHECK(r.out.find("CONFIG_X86_64=y\n") != std::string::npos);
  }
  KdiveRun bad = run_kdive(suite(), "elf", "sys nonsense");
  CHECK(bad.err.find("sys: ") != std::string::npos);
}

TEST_CASE("sys LOAD AVERAGE, UPTIME, DATE and -i agree with what the guest read moments before", "[sys]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(t.loadavg);
  REQUIRE(t.uptime_seconds);
  REQUIRE(t.date_epoch);
  std::string sys = run_ok("sys");
  INFO(sys);

  // The kernel recomputes the averages every 5 s; between the guest's read and
  // the crash there is at most one update, which moves the 1-minute figure by
  // at most 8% of the distance to the run queue length (a few tasks).
  std::smatch m;
  std::string load = field(sys, "LOAD AVERAGE");
  REQUIRE(std::regex_match(load, m, std::regex(R"((\d+\.\d\d), (\d+\.\d\d), (\d+\.\d\d))")));
  CHECK(std::fabs(std::stod(m[1]) - (*t.loadavg)[0]) <= 0.3);
  CHECK(std::fabs(std::stod(m[2]) - (*t.loadavg)[1]) <= 0.1);
  CHECK(std::fabs(std::stod(m[3]) - (*t.loadavg)[2]) <= 0.05);

  // The crash comes seconds after the guest read its clocks (it waits ~3 s
  // for the console); the emulated clocks drift apart by up to 10%.
  const double slack = std::max(15.0, *t.uptime_seconds * 0.10);
  double uptime = static_cast<double>(hms_seconds(field(sys, "UPTIME")));
  CHECK(uptime >= *t.uptime_seconds - slack / 3);
  CHECK(uptime <= *t.uptime_seconds + slack);
  std::tm tm{};
  std::string date = field(sys, "DATE");
  REQUIRE(strptime(date.c_str(), "%a %b %e %H:%M:%S %Z %Y", &tm) != nullptr);
  double crash = static_cast<double>(timegm(&tm));
  CHECK(crash >= static_cast<double>(*t.date_epoch) - 1);
  CHECK(crash <= static_cast<double>(*t.date_epoch) + slack);

  // sys -i: every DMI string the guest's sysfs shows, under crash's names.
  REQUIRE_FALSE(t.dmi.empty());
  std::string dmi = run_ok("sys -i");
  for (const auto& [file, value] : t.dmi) {
    std::string name = "DMI_" + file;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
    CHECK(std::regex_search(
        dmi, std::regex("(^|\n) *" + name + ": " +
                        std::regex_replace(value, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + "(\n|$)")));
  }
}
