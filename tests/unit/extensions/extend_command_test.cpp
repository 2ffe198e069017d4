// The extend command as a user types it: load, list, unload, refusals on one
// line, and an extension that tries to unload itself.
#include <catch2/catch.hpp>
#include <sstream>
#include <string>

#include "commands/api/command.hpp"
#include "commands/api/output.hpp"
#include "commands/api/run_command.hpp"
#include "commands/api/session.hpp"
#include "extensions/extension_loader.hpp"
#include "extensions/kdive_extension.hpp"
#include "tests/unit/support/run_line.hpp"

namespace {

using kdive::test::Ran;
Ran extend(const std::string& line, kdive::OutputMode mode = kdive::OutputMode::Text) {
  return kdive::test::run_line(line, mode);
}

const std::string kHello = KDIVE_TEST_EXTENSIONS_DIR "/hello.so";
const std::string kOpenfiles = KDIVE_OPENFILES_EXTENSION;

// Leaves the process-wide loader empty whatever a test did.
struct UnloadAll {
  ~UnloadAll() { kdive::ExtensionLoader::instance().unload_all(); }
};

}  // namespace

TEST_CASE("extend loads, lists and unloads, in crash's words", "[extensions]") {
  UnloadAll cleanup;
  CHECK(extend("extend").out.empty());  // crash prints nothing when none is loaded

  Ran load = extend("extend " + kHello + " " + kOpenfiles);
  CHECK(load.status == kdive::CommandStatus::Ok);
  CHECK(load.out == kHello + ": shared object loaded\n" + kOpenfiles + ": shared object loaded\n");

  std::string width(kOpenfiles.size() - kHello.size(), ' ');
  CHECK(extend("extend").out == "SHARED OBJECT" + std::string(kOpenfiles.size() - 13, ' ') + "  COMMANDS\n" + kHello +
                                    width + "  ext-hello ext-unload-self ext-throw-int\n" + kOpenfiles +
                                    "  openfiles\n");

  CHECK(extend("extend -u hello.so").out == kHello + ": shared object unloaded\n");
  CHECK(extend("extend -u").out == kOpenfiles + ": shared object unloaded\n");
  CHECK(extend("extend").out.empty());
}

TEST_CASE("extend's JSON: the extensions concerned", "[extensions]") {
  UnloadAll cleanup;
  std::string hello_json = "{\"file\":\"" + kHello +
                           "\",\"name\":\"hello\",\"summary\":\"test commands\",\"api_version\":" +
                           std::to_string(kdive::kExtensionApiVersion) +
                           ","
                           "\"commands\":[\"ext-hello\",\"ext-unload-self\",\"ext-throw-int\"]}";
  CHECK(extend("extend " + kHello, kdive::OutputMode::Json).out ==
        "{\"command\":\"extend " + kHello + "\",\"result\":[" + hello_json + "]}\n");
  CHECK(extend("extend", kdive::OutputMode::Json).out == "{\"command\":\"extend\",\"result\":[" + hello_json + "]}\n");
  CHECK(extend("extend -u hello", kdive::OutputMode::Json).out ==
        "{\"command\":\"extend -u hello\",\"result\":[" + hello_json + "]}\n");
  CHECK(extend("extend", kdive::OutputMode::Json).out == "{\"command\":\"extend\",\"result\":[]}\n");
}

TEST_CASE("a refused extension is one error line, and the session goes on", "[extensions]") {
  UnloadAll cleanup;
  const std::string wrong = KDIVE_TEST_EXTENSIONS_DIR "/wrong_version.so";
  const std::string cause = "built for extension API version " + std::to_string(kdive::kExtensionApiVersion + 1) +
                            "; this kdive has version " + std::to_string(kdive::kExtensionApiVersion) + " (rebuild it)";
  Ran r = extend("extend " + wrong);
  CHECK(r.status == kdive::CommandStatus::Failed);
  CHECK(r.out.empty());
  CHECK(r.errors == "extend: " + wrong + ": " + cause + "\n");
  Ran json = extend("extend " + wrong, kdive::OutputMode::Json);
  CHECK(json.out == "{\"command\":\"extend " + wrong + "\",\"error\":\"" + wrong + ": " + cause + "\"}\n");
  CHECK(extend("extend -u nosuch").errors == "extend: nosuch: not loaded\n");
  CHECK(extend("extend -s -u").errors == "extend: -s takes no other arguments\n");
  CHECK(extend("extend " + kHello).status == kdive::CommandStatus::Ok);  // and the next load works
}

TEST_CASE("an extension's command cannot unload its own extension while it runs", "[extensions]") {
  UnloadAll cleanup;
  REQUIRE(extend("extend " + kHello).status == kdive::CommandStatus::Ok);
  Ran r = extend("ext-unload-self");
  CHECK(r.status == kdive::CommandStatus::Ok);
  CHECK(r.out == "extend: " + kHello + ": in use (one of its commands is running)\n");
  CHECK(kdive::CommandRegistry::instance().find("ext-hello") != nullptr);
  CHECK(extend("extend -u hello").status == kdive::CommandStatus::Ok);  // once it has returned
}

TEST_CASE("an extension's command that throws a non-exception fails on one line", "[extensions]") {
  UnloadAll cleanup;
  REQUIRE(extend("extend " + kHello).status == kdive::CommandStatus::Ok);
  Ran r = extend("ext-throw-int");
  CHECK(r.status == kdive::CommandStatus::Failed);
  CHECK(r.errors == "ext-throw-int: the extension's command threw something that is not a std::exception\n");
}
