// The embedded GDB without a dump: what it refuses (resolved through GDB's own
// command lookup, so abbreviations and aliases are caught), which words it
// knows, and how a kdive built without GDB says so. GDB initialises here (a
// few hundredths of a second) but loads no vmlinux.
#include "gdb/gdb_session.hpp"

#include <signal.h>

#include <catch2/catch.hpp>

#include "commands/gdb_fallback.hpp"

using kdive::GdbSession;

TEST_CASE("GDB's commands that would end or escape kdive are refused", "[gdb]") {
  if (!kdive::gdb_engine_built_in()) {
    CHECK_THROWS_AS(kdive::gdb_engine_initialize(), kdive::GdbError);
    CHECK_FALSE(GdbSession::instance().status().built_in);
    return;
  }
  GdbSession& gdb = GdbSession::instance();
  // Each spelling GDB accepts for quit and shell.
  for (const char* line : {"quit", "q", "qui 3", "shell ls", "!ls", "pipe p 1 | cat", "| p 1 | cat", "run",
                           "target remote :1234", "file /bin/true", "symbol-file x", "source x.gdb", "define f", "cd /",
                           "python print(1)", "p $_shell(\"ls\")"}) {
    INFO(line);
    CHECK(gdb.refusal(line).has_value());
  }
  for (const char* line : {"p 1", "print init_task.comm", "info symbol 0x1", "info line schedule", "bt", "x/4gx 0",
                           "list schedule", "ptype int", "set print pretty on", "frame 1"}) {
    INFO(line);
    CHECK_FALSE(gdb.refusal(line).has_value());
  }
  CHECK(*gdb.refusal("q") == "GDB's quit is not available in kdive: GDB's quit would end kdive (use kdive's q)");
}

TEST_CASE("GDB knows its own commands and not kdive's", "[gdb]") {
  if (!kdive::gdb_engine_built_in()) {
    CHECK_FALSE(GdbSession::instance().knows_command("info"));
    return;
  }
  GdbSession& gdb = GdbSession::instance();
  CHECK(gdb.knows_command("info"));
  CHECK(gdb.knows_command("disassemble"));
  CHECK(gdb.knows_command("p/t"));
  CHECK_FALSE(gdb.knows_command("no-such-gdb-command"));
  CHECK_FALSE(gdb.knows_command("kmem"));
  // Initialised, not loaded: no vmlinux was given.
  CHECK(gdb.status().initialized);
  CHECK_FALSE(gdb.status().loaded);
}

TEST_CASE("GDB's initialisation leaves the process's signal handlers as they were", "[gdb]") {
  if (!kdive::gdb_engine_built_in()) return;
  // Ours before GDB starts (it may have started in an earlier test case: then
  // this checks that running GDB commands keeps them too).
  struct sigaction mine {};
  mine.sa_handler = [](int) {};
  sigemptyset(&mine.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &mine, &old_int);
  sigaction(SIGTERM, &mine, &old_term);
  kdive::gdb_engine_initialize();
  CHECK(kdive::gdb_value_text(kdive::gdb_engine_execute("p 6*7")) == "42");
  struct sigaction now {};
  sigaction(SIGINT, nullptr, &now);
  CHECK(now.sa_handler == mine.sa_handler);
  sigaction(SIGTERM, nullptr, &now);
  CHECK(now.sa_handler == mine.sa_handler);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  // GDB's errors come back as one line.
  CHECK_THROWS_AS(kdive::gdb_engine_execute("p no_such_symbol"), kdive::GdbError);
}

TEST_CASE("GDB's printed value without its history number", "[gdb]") {
  CHECK(kdive::gdb_value_text("$3 = 9728\n") == "9728");
  CHECK(kdive::gdb_value_text("$12 = {\n  next = 0x0\n}\n") == "{\n  next = 0x0\n}");
  CHECK(kdive::gdb_value_text("type = int\n") == "type = int");
  CHECK(kdive::gdb_value_text("$x = 1") == "$x = 1");
}
