// The JSON pieces of sys, log, mod, alias, echo and quit that carry logic of
// their own: parsing a .config, naming a log record's caller, taint letters,
// and the results of the commands that need no kernel.
#include <catch2/catch.hpp>

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/session.hpp"
#include "commands/log.hpp"
#include "commands/sys.hpp"
#include "commands/taint_letters.hpp"

namespace kdive {
namespace {

// Runs a command that needs no kernel; returns its JSON result.
Json result_of(Session& session, const std::vector<std::string>& words) {
  const Command* c = CommandRegistry::instance().find(words.front());
  REQUIRE(c != nullptr);
  StringOutput out(OutputMode::Json);
  c->run(session, parse_args(c->spec, {words.begin() + 1, words.end()}), out);
  CHECK(out.str().empty());  // JSON mode: no text
  return out.take_result();
}

}  // namespace

TEST_CASE("sys config JSON: options, unset ones and quoted strings", "[command_json]") {
  Json j = kernel_config_json(
      "#\n"
      "# Automatically generated file; DO NOT EDIT.\n"
      "#\n"
      "CONFIG_X86_64=y\n"
      "CONFIG_MODULES=m\n"
      "CONFIG_NR_CPUS=8192\n"
      "CONFIG_LOCALVERSION=\"\"\n"
      "CONFIG_DEFAULT_HOSTNAME=\"(none)\"\n"
      "CONFIG_CMDLINE=\"say \\\"hi\\\" C:\\\\x\"\n"
      "\n"
      "# CONFIG_KASAN is not set\n"
      "CONFIG_PHYSICAL_START=0x1000000");  // no final newline
  CHECK(j == Json{{"CONFIG_X86_64", "y"},
                  {"CONFIG_MODULES", "m"},
                  {"CONFIG_NR_CPUS", "8192"},
                  {"CONFIG_LOCALVERSION", ""},
                  {"CONFIG_DEFAULT_HOSTNAME", "(none)"},
                  {"CONFIG_CMDLINE", "say \"hi\" C:\\x"},
                  {"CONFIG_KASAN", "n"},
                  {"CONFIG_PHYSICAL_START", "0x1000000"}});
  CHECK(kernel_config_json("") == Json::object());
}

TEST_CASE("log JSON: the caller as the kernel names it, the record's parts", "[command_json]") {
  CHECK(caller_name(std::nullopt) == std::nullopt);
  CHECK(caller_name(0) == "T0");
  CHECK(caller_name(126) == "T126");
  // printk_caller_id(): 0x80000000 | CPU in interrupt context.
  CHECK(caller_name(0x80000001u) == "C1");
  CHECK(caller_name(0x80000000u) == "C0");

  LogRecord r;
  r.seq = 7;
  r.ts_nsec = 1177928123;
  r.text = "acpi PNP0A03:00: _OSC: OS supports\n  second line\n";
  r.level = 6;
  r.caller_id = 0x80000000u;
  r.dict = {"SUBSYSTEM=acpi", "DEVICE=+acpi:PNP0A03:00"};
  Json j = log_record_json(r);
  CHECK(j["seq"] == 7);
  CHECK(j["timestamp_ns"] == 1177928123);
  CHECK(j["level"] == 6);
  CHECK(j["caller"] == "C0");
  // The final newline goes; the inner one stays.
  CHECK(j["text"] == "acpi PNP0A03:00: _OSC: OS supports\n  second line");
  CHECK(j["dict"] == Json{{"SUBSYSTEM", "acpi"}, {"DEVICE", "+acpi:PNP0A03:00"}});

  LogRecord bare;
  bare.text = "no level";
  Json b = log_record_json(bare);
  CHECK(b["level"].is_null());
  CHECK(b["caller"].is_null());
  CHECK(b["dict"] == Json::object());
}

TEST_CASE("mod JSON: taint letters in bit order", "[command_json]") {
  CHECK(taint_letters(0) == "");
  CHECK(taint_letters(1) == "P");                     // TAINT_PROPRIETARY_MODULE
  CHECK(taint_letters(1u << 12 | 1u << 13) == "OE");  // out-of-tree, unsigned
  CHECK(taint_letters(1u << 0 | 1u << 12 | 1u << 13) == "POE");
  CHECK(taint_letters(1u << 18) == "N");                  // TAINT_TEST, the last letter known
  CHECK(taint_letters(1ull << 40 | 1) == "10000000001");  // an unknown bit: the mask in hex
}

TEST_CASE("alias, echo and quit JSON", "[command_json]") {
  Session session({});
  Json all = result_of(session, {"alias"});
  REQUIRE(all.is_array());
  REQUIRE_FALSE(all.empty());
  CHECK(all[0] == Json{{"name", "man"}, {"command", "help"}, {"origin", "builtin"}});

  CHECK(result_of(session, {"alias", "kp", "kmem", "-p"}) ==
        Json::array({{{"name", "kp"}, {"command", "kmem -p"}, {"origin", "runtime"}}}));
  CHECK(result_of(session, {"alias", "kp"})[0]["command"] == "kmem -p");
  CHECK(result_of(session, {"alias", "kp", ""}) == Json{{"deleted", "kp"}});
  CHECK(session.aliases().find("kp") == nullptr);

  CHECK(result_of(session, {"echo", "a", "b  c"}) == Json{{"text", "a b  c"}});
  CHECK_FALSE(session.quit_requested());
  CHECK(result_of(session, {"quit"}) == Json{{"quit", true}});
  CHECK(session.quit_requested());
}

}  // namespace kdive
