// The two crash fixtures made for stack unwinding, checked with what kdive can
// already answer (backtraces are tested with the unwinder):
//   bookworm-modoops  an out-of-tree module's NULL dereference, panic_on_oops
//   bookworm-irq      sysrq-c from the keyboard interrupt of an idle CPU
// On every other suite these cases are skipped: their facts hold by design
// only on these two.
#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "run_kdive.hpp"
#include "skip.hpp"
#include "truth.hpp"
#include "vm_test.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using kdive::test::fixture_dir;
using kdive::test::KdiveRun;
using kdive::test::run_kdive;
using kdive::test::suite;
using kdive::test::Truth;
using kdive::test::TruthModule;

namespace {

json json_result(const std::string& command) { return kdive::test::json_result_of(suite(), command); }

uint64_t hex(const json& value) { return std::stoull(value.get<std::string>(), nullptr, 16); }

}  // namespace

TEST_CASE("the module oops fixture: the module, its functions, the panic and the taint", "[crash_fixtures]") {
  if (suite() != "bookworm-modoops") KDIVE_SKIP("only bookworm-modoops loads the test module");
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(t.test_module == "kdive_oops");
  REQUIRE(t.test_module_chain.size() == 4);
  const TruthModule* truth_module = nullptr;
  for (const TruthModule& m : t.modules) {
    if (m.name == t.test_module) truth_module = &m;
  }
  REQUIRE(truth_module != nullptr);

  // mod: the module at its /proc/modules address and size, tainted O (out of
  // tree) and E (unsigned).
  bool listed = false;
  for (const json& m : json_result("mod")) {
    if (m["name"] != t.test_module) continue;
    listed = true;
    CHECK(hex(m["base"]) == truth_module->address);
    CHECK(m["size"] == truth_module->size);
    CHECK(m["taints"] == "OE");
  }
  CHECK(listed);

  // sym: each function of the call chain at its /proc/kallsyms address, named
  // from the module's own symbol table in the dump.
  for (const std::string& name : t.test_module_chain) {
    json s = json_result("sym " + name);
    REQUIRE(s.size() == 1);
    CHECK(hex(s[0]["address"]) == t.test_module_symbols.at(name));
    CHECK(s[0]["module"] == t.test_module);
    CHECK(s[0]["type"] == "t");
  }

  // The kernel's taint mask: D (oops, bit 7), O (bit 12), E (bit 13),
  // include/linux/panic.h's TAINT_DIE, TAINT_OOT_MODULE, TAINT_UNSIGNED_MODULE.
  json taint = json_result("p tainted_mask");
  const uint64_t mask = taint[0]["value"].get<uint64_t>();
  CHECK((mask >> 7 & 1) == 1);
  CHECK((mask >> 12 & 1) == 1);
  CHECK((mask >> 13 & 1) == 1);
  // sys -t: the same mask, and its letters as the kernel prints them (D, O, E).
  json sys_t = json_result("sys -t");
  CHECK(sys_t["tainted_mask"] == fmt::format("{:#x}", mask));
  const std::string letters = sys_t["letters"].get<std::string>();
  for (char c : {'D', 'O', 'E'}) CHECK(letters.find(c) != std::string::npos);
  KdiveRun sys_t_text = run_kdive(suite(), "elf", "sys -t");
  CHECK(sys_t_text.out.rfind(fmt::format("TAINTED_MASK: {:x}  {}", mask, letters), 0) == 0);

  // sys: the oops became the panic.
  KdiveRun sys = run_kdive(suite(), "elf", "sys");
  CHECK(sys.out.find("PANIC: \"Kernel panic - not syncing: Fatal exception\"") != std::string::npos);

  // log: the Oops names the faulting module function, then the chain's callers
  // in order (innermost first), each marked with the module.
  KdiveRun log = run_kdive(suite(), "elf", "log");
  const std::string& text = log.out;
  size_t at = text.find("BUG: kernel NULL pointer dereference, address: 0000000000000000");
  REQUIRE(at != std::string::npos);
  at = text.find("RIP: 0010:" + t.test_module_chain[0] + "+", at);
  CHECK(at != std::string::npos);
  at = text.find("Call Trace:", at);
  REQUIRE(at != std::string::npos);
  for (size_t i = 1; i < t.test_module_chain.size(); ++i) {
    at = text.find(" " + t.test_module_chain[i] + "+", at);
    INFO(t.test_module_chain[i]);
    REQUIRE(at != std::string::npos);
    CHECK(text.compare(text.find('\n', at) - 13, 13, " [kdive_oops]") == 0);
  }
  CHECK(text.find("Kernel panic - not syncing: Fatal exception", at) != std::string::npos);
}

TEST_CASE("the module oops fixture keeps the module it loaded, and mod -s takes it", "[crash_fixtures]") {
  if (suite() != "bookworm-modoops") KDIVE_SKIP("only bookworm-modoops loads the test module");
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  const fs::path ko = fixture_dir(suite()) / "modules" / (t.test_module + ".ko");
  REQUIRE(fs::is_regular_file(ko));
  KdiveRun r =
      run_kdive(suite(), "elf", "mod -s " + t.test_module + " " + ko.string() + "; sym " + t.test_module_chain[0]);
  INFO(r.out << r.err);
  CHECK(r.status == 0);
  // The dump's module and the kept .ko are one build: kdive accepts the object
  // (mod -s checks the build ID) and the function still resolves in the module.
  CHECK(r.out.find(ko.string()) != std::string::npos);
  CHECK(r.out.find(fmt::format("{:016x} (t) {} [{}]", t.test_module_symbols.at(t.test_module_chain[0]),
                               t.test_module_chain[0], t.test_module)) != std::string::npos);
}

TEST_CASE("the hard-IRQ fixture: CPU 0's idle task panicked in the keyboard interrupt", "[crash_fixtures]") {
  if (suite() != "bookworm-irq") KDIVE_SKIP("only bookworm-irq panics from the keyboard interrupt");
  const Truth t = Truth::load(fixture_dir(suite()) / "truth.txt");
  REQUIRE(t.panic_idle_cpu.has_value());
  const std::string cpu = std::to_string(*t.panic_idle_cpu);

  // The panic context is that CPU's idle task.
  KdiveRun set = run_kdive(suite(), "elf", "set -p");
  INFO(set.out << set.err);
  CHECK(set.out.find("    PID: 0\n") != std::string::npos);
  CHECK(set.out.find("COMMAND: \"swapper/" + cpu + "\"") != std::string::npos);
  CHECK(set.out.find("    CPU: " + cpu + "\n") != std::string::npos);
  CHECK(set.out.find("STATE: TASK_RUNNING (PANIC)") != std::string::npos);

  // log: the panic came from the i8042 interrupt, on the IRQ stack (<IRQ>),
  // which had interrupted the idle task (<TASK>); the printk caller is the CPU.
  KdiveRun log = run_kdive(suite(), "elf", "log");
  const std::string& text = log.out;
  size_t at = text.find("sysrq: Trigger a crash");
  REQUIRE(at != std::string::npos);
  at = text.find("CPU: " + cpu + " PID: 0 Comm: swapper/" + cpu, at);
  REQUIRE(at != std::string::npos);
  for (const char* line : {"<IRQ>", "sysrq_handle_crash+", "i8042_interrupt+"}) {
    INFO(line);
    at = text.find(line, at);
    REQUIRE(at != std::string::npos);
  }
  // The keyboard's interrupt entry: after </IRQ> when it interrupted the idle
  // task itself, before it when it came in on top of an earlier interrupt's
  // softirq work on the IRQ stack. Either way the idle loop is below.
  CHECK(text.find("asm_common_interrupt+", at) != std::string::npos);
  for (const char* line : {"</IRQ>", "<TASK>", "do_idle+"}) {
    INFO(line);
    at = text.find(line, at);
    REQUIRE(at != std::string::npos);
  }
  json record;
  for (const json& r : json_result("log")) {
    if (r["text"].get<std::string>().rfind("Kernel panic - not syncing: sysrq triggered crash", 0) == 0) record = r;
  }
  REQUIRE(!record.is_null());
  CHECK(record["caller"] == "C" + cpu);
}
