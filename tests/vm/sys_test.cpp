// sys on real crashed kernels against the guest's own view (truth.txt) and its
// console: release, panic message, task count, memory, uptime and date; and the
// subcommands -i (DMI), -c (system call table) and config.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
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

// Jiffies, the printk clock (sched_clock) and the wall clock all count from
// boot, but under TCG emulation they run on different clocksources that drift
// apart: trixie's wall clock once gained ~4 s on the printk clock in 57 s. 10%
// is far below any real error (a wrong HZ is 4x, a wrong field is years).
double clock_tolerance(double seconds) { return std::max(3.0, seconds * 0.10); }

// Whether the load averages at the crash follow from the guest's
// /proc/loadavg `elapsed_min`..`elapsed_max` seconds earlier. `why` tells, per
// number of updates tried, the bounds; it says "consistent" for the one that fits.
//
// The kernel (kernel/sched/loadavg.c, calc_global_load) updates all three every
// LOAD_FREQ (5 s and one tick) with the same count of active tasks a:
//   avenrun[k] = avenrun[k] * e_k + a * (1 - e_k),  e = 1884, 2014, 2037 / 2048
// (exp(-5 s / 1, 5, 15 min) in 11-bit fixed point). After n updates with
// counts a_1..a_n >= 0, each figure is its old value * e_k^n plus a weighted
// sum of the a_i. The 1-minute figure gives that sum for e_1; the weights of
// the 5- and 15-minute figures are those of the 1-minute one times
// (1 - e_k) / (1 - e_1) * (e_k / e_1)^j, j = 0..n-1, so their share lies
// between the 1-minute share times the smallest and the largest of those
// factors — whatever the a_i were. Allowed error: each printed figure is
// rounded to 0.01 (+-0.005, before and after), and each update rounds to
// 1/2048. A swapped, misscaled or stale figure lands outside.
bool load_average_explained(const std::array<double, 3>& before, const std::array<double, 3>& after, double elapsed_min,
                            double elapsed_max, std::string& why) {
  constexpr std::array<double, 3> e = {1884.0 / 2048, 2014.0 / 2048, 2037.0 / 2048};
  constexpr double printed = 0.005;
  constexpr double load_freq = 5.0;
  // An update falls due every LOAD_FREQ; one due just before the guest's read
  // may run after it, and one due just before the crash may not have run.
  const int n_min = std::max(0, static_cast<int>(std::floor(std::max(0.0, elapsed_min) / load_freq)) - 1);
  const int n_max = static_cast<int>(std::floor(elapsed_max / load_freq)) + 1;
  std::ostringstream out;
  out << "load " << before[0] << " " << before[1] << " " << before[2] << " -> " << after[0] << " " << after[1] << " "
      << after[2] << "\n";
  for (int n = n_min; n <= n_max; ++n) {
    const double fixed_point = n / 2048.0;
    bool fits = true;
    out << "  " << n << " updates:";
    if (n == 0) {
      for (int k = 0; k < 3; ++k) fits = fits && std::fabs(after[k] - before[k]) <= 2 * printed;
      out << " unchanged" << (fits ? " - consistent\n" : " - no\n");
      if (fits) break;
      continue;
    }
    // The 1-minute figure's share of the active counts, at its extremes.
    const double share_lo = after[0] - printed - (before[0] + printed) * std::pow(e[0], n) - fixed_point;
    const double share_hi = after[0] + printed - (before[0] - printed) * std::pow(e[0], n) + fixed_point;
    fits = share_hi >= 0;  // the active counts are never negative
    for (int k = 1; k < 3; ++k) {
      const double ratio = (1 - e[k]) / (1 - e[0]);
      const double lo =
          (before[k] - printed) * std::pow(e[k], n) + ratio * std::max(0.0, share_lo) - printed - fixed_point;
      const double hi = (before[k] + printed) * std::pow(e[k], n) + ratio * std::pow(e[k] / e[0], n - 1) * share_hi +
                        printed + fixed_point;
      out << " [" << lo << ", " << hi << "]";
      fits = fits && after[k] >= lo && after[k] <= hi;
    }
    out << (fits ? " - consistent\n" : " - no\n");
    if (fits) break;
  }
  why = out.str();
  return why.find("consistent") != std::string::npos;
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

TEST_CASE("sys UPTIME agrees with the console's clock", "[sys]") {
  std::string sys = run_ok("sys");
  auto console = console_kernel_lines(fixture_dir(suite()));
  REQUIRE_FALSE(console.empty());
  const double last = console.back().seconds;  // the panic's own lines come last

  const double tolerance = clock_tolerance(last);  // the emulated clocks drift apart
  int64_t uptime = hms_seconds(field(sys, "UPTIME"));
  INFO("UPTIME " << uptime << " s, last console stamp " << last << " s");
  CHECK(std::fabs(static_cast<double>(uptime) - last) <= tolerance);

  // DATE is checked against the guest's own reading of its clocks moments
  // before the crash (the LOAD AVERAGE/UPTIME/DATE case below), not against
  // the epoch the audit line logs at boot: that comes before the kernel has
  // settled on its clocksource, and under emulation the wall clock may be
  // stepped after it (in one bookworm-modoops build its offset from the uptime
  // clock moved 10.5 s between the audit line at 0.9 s and the guest's read).
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
  const double read_at = *t.uptime_seconds;  // when the guest read its clocks (the /proc/uptime clock)
  // How long after that the kernel panicked is not fixed: the sysrq suites wait
  // ~3 s for the console, but bookworm-oom allocates until the OOM killer gives
  // up, which takes as long as the host lets it. The dump itself says when: its
  // log holds the panic's printk stamp (the console's copy is the same record;
  // log_test checks that).
  const std::optional<double> panic = panic_stamp(fixture_dir(suite()));
  REQUIRE(panic);
  const double panic_at = *panic;
  REQUIRE(panic_at > read_at);

  // UPTIME: jiffies since boot, in whole seconds, from the same timekeeping as
  // /proc/uptime. Jiffies start at the first timer tick, less than a second
  // into boot, so they may trail /proc/uptime by that much: the crash came
  // after the guest's read, hence UPTIME >= floor(read) - 1. And it came at the
  // panic: no later than the panic's stamp plus the drift of the printk clock
  // against jiffies (clock_tolerance's reason).
  const double uptime = static_cast<double>(hms_seconds(field(sys, "UPTIME")));
  INFO("guest read its clocks at " << read_at << " s, panic stamp " << panic_at << " s, UPTIME " << uptime << " s");
  CHECK(uptime >= std::floor(read_at) - 1);
  CHECK(uptime <= panic_at + clock_tolerance(panic_at));

  // DATE: the timekeeper's wall clock. The guest's `date +%s` came from the
  // same clock earlier and both drop the fraction, so DATE >= date exactly.
  // Both clocks advance together (one timekeeper), so the time DATE moved
  // since the guest's date is the time UPTIME moved since its /proc/uptime, up
  // to: three dropped fractions (DATE, date, UPTIME: 1 s each), `date` running
  // a moment after /proc/uptime was read, and the first-tick lag of jiffies
  // (under 1 s) — so the two differ by more than -2 s .. +3 s only if one is wrong.
  std::tm tm{};
  std::string date = field(sys, "DATE");
  REQUIRE(strptime(date.c_str(), "%a %b %e %H:%M:%S %Z %Y", &tm) != nullptr);
  const double crash = static_cast<double>(timegm(&tm));
  CHECK(crash >= static_cast<double>(*t.date_epoch));
  const double wall_moved = crash - static_cast<double>(*t.date_epoch);
  const double uptime_moved = uptime - read_at;
  INFO("DATE moved " << wall_moved << " s, UPTIME moved " << uptime_moved << " s since the guest's read");
  CHECK(wall_moved - uptime_moved >= -2);
  CHECK(wall_moved - uptime_moved <= 3);

  // LOAD AVERAGE: the guest's /proc/loadavg, advanced by the kernel's own
  // recurrence over the time to the crash (load_average_explained).
  std::smatch m;
  std::string load = field(sys, "LOAD AVERAGE");
  REQUIRE(std::regex_match(load, m, std::regex(R"((\d+\.\d\d), (\d+\.\d\d), (\d+\.\d\d))")));
  const std::array<double, 3> at_crash = {std::stod(m[1]), std::stod(m[2]), std::stod(m[3])};
  // UPTIME is whole seconds: the crash came within [UPTIME, UPTIME + 1) s plus the first-tick lag.
  std::string why;
  const bool explained = load_average_explained(*t.loadavg, at_crash, uptime - read_at, uptime + 2 - read_at, why);
  INFO(why);
  CHECK(explained);

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
