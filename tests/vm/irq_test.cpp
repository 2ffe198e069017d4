// irq on real crashed kernels, against the guest's own /proc/interrupts (the
// truth's `interrupts` lines): every numbered IRQ is listed with the same
// handler names, and irq -s counts are at least the guest's (they only grow
// between the snapshot and the crash); the JSON says the same; and on
// bullseye the text matches the crash utility line by line.
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "crash_compare.hpp"
#include "host_tools.hpp"
#include "kdive_ok.hpp"
#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

using namespace kdive::test;
using nlohmann::json;

namespace {

// One numbered row of /proc/interrupts: "  24:   0   0   PCI-MSI 49152-edge      virtio0-config".
struct ProcIrq {
  uint32_t irq;
  std::vector<uint64_t> counts;  // per CPU
  std::set<std::string> names;   // the handlers' names ("" row: none)
  std::string line;
};

// The truth's `interrupts <line>` records, read from the file itself. The
// numbered rows are `NNN: count-per-cpu... chip hwirq-flow handler-names`;
// the names follow the hwirq-flow word ("2-edge", "49152-edge", "0-fasteoi")
// and are joined by ", " (kernel/irq/proc.c show_interrupts).
std::vector<ProcIrq> truth_interrupts(int cpus) {
  std::vector<ProcIrq> out;
  std::istringstream in(slurp(fixture_dir(suite()) / "truth.txt"));
  static const std::regex numbered(R"(^ *(\d+):(.*)$)");
  static const std::regex hwirq_flow(R"(^\d+-\S+$)");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("interrupts ", 0) != 0) continue;
    const std::string rest = line.substr(11);
    std::smatch m;
    if (!std::regex_match(rest, m, numbered)) continue;
    ProcIrq p{static_cast<uint32_t>(std::stoul(m[1])), {}, {}, rest};
    std::istringstream words(m[2].str());
    std::string word;
    for (int c = 0; c < cpus && words >> word; ++c) p.counts.push_back(std::stoull(word));
    // Skip the chip's words up to the hwirq-flow word; what follows are the names.
    std::string tail;
    bool after = false;
    while (words >> word) {
      if (after) {
        tail += (tail.empty() ? "" : " ") + word;
      } else if (std::regex_match(word, hwirq_flow)) {
        after = true;
      }
    }
    for (size_t start = 0; !tail.empty() && start <= tail.size();) {
      size_t comma = tail.find(", ", start);
      p.names.insert(tail.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 2;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

TEST_CASE("irq: every numbered IRQ of /proc/interrupts, with its handlers' names and at least its counts", "[irq]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const std::vector<ProcIrq> proc = truth_interrupts(t.cpus);
  if (proc.empty()) KDIVE_SKIP("this fixture's truth has no /proc/interrupts lines (built before they were added)");

  const json s = json_result_of(suite(), "irq -s");
  std::map<uint32_t, json> by_irq;
  for (const json& d : s["irqs"]) by_irq[d["irq"].get<uint32_t>()] = d;
  const std::string table = kdive_ok("irq");
  for (const ProcIrq& p : proc) {
    INFO("/proc/interrupts: " << p.line);
    REQUIRE(by_irq.count(p.irq) == 1);
    const json& d = by_irq.at(p.irq);
    CHECK_FALSE(d.contains("error"));
    std::set<std::string> names;
    for (const json& a : d["actions"]) names.insert(a["name"].get<std::string>());
    if (!p.names.empty()) CHECK(names == p.names);
    REQUIRE(d["counts"].size() == static_cast<size_t>(t.cpus));
    for (size_t c = 0; c < p.counts.size(); ++c) {
      INFO("CPU " << c);
      CHECK(d["counts"][c].get<uint64_t>() >= p.counts[c]);
    }
    // The plain table names it too, on the IRQ's row.
    for (const std::string& name : p.names) {
      const std::regex row("^ *" + std::to_string(p.irq) + " +[0-9a-f]{16} +[0-9a-f]{16}  \"" +
                           std::regex_replace(name, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + "\"$");
      bool found = false;
      std::string previous;
      for (const std::string& line : lines_of(table)) {
        // A shared line's second handler is on a continuation line.
        if (std::regex_match(line, row) ||
            (line.find("\"" + name + "\"") != std::string::npos && line.rfind("      ", 0) == 0)) {
          found = true;
        }
        previous = line;
      }
      CHECK(found);
    }
  }
}

TEST_CASE("irq JSON: descriptors, affinity and softirqs", "[irq]") {
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const json all = json_result_of(suite(), "irq -u");
  for (const char* key : {"nr_irqs", "irqs", "softirqs", "idt"}) REQUIRE(all.contains(key));
  REQUIRE(all["nr_irqs"].get<uint32_t>() > 0);
  REQUIRE_FALSE(all["irqs"].empty());
  uint32_t previous = 0;
  bool first = true;
  for (const json& d : all["irqs"]) {
    CHECK_FALSE(d.contains("error"));
    // In IRQ order, below nr_irqs.
    const uint32_t irq = d["irq"].get<uint32_t>();
    CHECK((first || irq > previous));
    first = false;
    previous = irq;
    CHECK(irq < all["nr_irqs"].get<uint32_t>());
    // Every affinity mask names CPUs that exist.
    REQUIRE(d["affinity"].is_array());
    for (const json& c : d["affinity"]) CHECK(c.get<int>() < t.cpus);
    for (const json& a : d["actions"]) CHECK_FALSE(a["handler_symbol"].get<std::string>().empty());
  }
  // The timer interrupt of a PC: IRQ 0, named "timer".
  bool timer = false;
  for (const json& d : all["irqs"]) {
    for (const json& a : d["actions"]) {
      if (d["irq"] == 0 && a["name"] == "timer") timer = true;
    }
  }
  CHECK(timer);

  const json b = json_result_of(suite(), "irq -b");
  REQUIRE(b["softirqs"].size() == 10);  // NR_SOFTIRQS on every kernel since 4.x
  CHECK(b["softirqs"][1]["name"] == "TIMER");
  CHECK(b["softirqs"][1]["symbol"] == "run_timer_softirq");
}

TEST_CASE("irq matches crash line by line", "[irq]") {
  if (suite() != "bullseye") KDIVE_SKIP("crash 8.0.2 reads only the bullseye fixture");
  if (!crash_installed()) KDIVE_SKIP("the crash utility is not installed (scripts/install-deps installs it)");
  compare_with_crash({"irq", "irq -u", "irq -s", "irq -s -c 1", "irq -a", "irq -b", "irq -d", "irq 1 4"});
}
