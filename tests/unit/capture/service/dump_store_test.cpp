#include "capture/service/dump_store.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>

#include "tests/unit/capture/service/service_test_support.hpp"

using namespace kdive::capture;
using kdive::capture::test::ScratchDir;
namespace fs = std::filesystem;

TEST_CASE("dump store: names carry host and UTC time, and are recognised", "[dump_store]") {
  // 2026-12-02 16:14:38 UTC
  CHECK(dump_dir_name("web-1", 1796228078) == "web-1-2026-12-02-16:14:38");
  CHECK(dump_dir_name("", 0) == "localhost-1970-01-01-00:00:00");
  CHECK(is_dump_dir_name("web-1-2026-12-02-16:14:38"));
  CHECK(is_dump_dir_name("web-1-2026-12-02-16:14:38.2"));
  CHECK_FALSE(is_dump_dir_name("2026-12-02-16:14:38"));  // no host
  CHECK_FALSE(is_dump_dir_name("notes"));
  CHECK_FALSE(is_dump_dir_name("web-1-2026-12-02"));
}

TEST_CASE("dump store: retention removes the oldest dumps and nothing else", "[dump_store]") {
  ScratchDir dir;
  // Host names differ, so the order must come from the dates, not the names.
  for (const char* name : {"b-2026-01-03-00:00:00", "a-2026-01-05-00:00:00", "z-2026-01-01-00:00:00",
                           "c-2026-01-04-00:00:00", "c-2026-01-04-00:00:00.1"}) {
    fs::create_directories(dir / name);
    kdive::capture::test::write_file(dir / (std::string(name) + "/vmcore"), "x");
  }
  fs::create_directories(dir / "notes");
  kdive::capture::test::write_file(dir / "z-2025-01-01-00:00:00", "a file, not a dump directory");

  DumpStore store(dir.path());
  CHECK(store.dumps() == std::vector<std::string>{"z-2026-01-01-00:00:00", "b-2026-01-03-00:00:00",
                                                  "c-2026-01-04-00:00:00", "c-2026-01-04-00:00:00.1",
                                                  "a-2026-01-05-00:00:00"});
  std::ostringstream log;
  SECTION("keep 2") {
    auto removed = store.prune(2, log);
    CHECK(removed ==
          std::vector<std::string>{"z-2026-01-01-00:00:00", "b-2026-01-03-00:00:00", "c-2026-01-04-00:00:00"});
    CHECK(store.dumps() == std::vector<std::string>{"c-2026-01-04-00:00:00.1", "a-2026-01-05-00:00:00"});
    CHECK(log.str().find("removed old dump") != std::string::npos);
  }
  SECTION("keep 0 keeps all") {
    CHECK(store.prune(0, log).empty());
    CHECK(store.dumps().size() == 5);
  }
  SECTION("keep more than there are") { CHECK(store.prune(10, log).empty()); }
  CHECK(fs::is_directory(dir / "notes"));
  CHECK(fs::is_regular_file(dir / "z-2025-01-01-00:00:00"));
}

TEST_CASE("dump store: free space below min_free refuses the save", "[dump_store]") {
  ScratchDir dir;
  DumpStore store(dir.path());
  uint64_t free = store.free_bytes();
  REQUIRE(free > 0);
  CHECK_NOTHROW(store.check_space(0, 0));
  // No file system here has an exbibyte free.
  try {
    store.check_space(1ull << 60, 0);
    FAIL("no refusal");
  } catch (const StoreError& e) {
    CHECK(std::string(e.what()).find("less than min_free") != std::string::npos);
  }
  // The estimate counts against the free space too.
  CHECK_THROWS_AS(store.check_space(0, free + (1ull << 40)), StoreError);
  CHECK_THROWS_AS(DumpStore(dir / "missing").free_bytes(), StoreError);
}

TEST_CASE("dump store: a second dump in the same second gets its own directory", "[dump_store]") {
  ScratchDir dir;
  DumpStore store(dir / "crash");  // created on demand
  std::string first = store.create_dump_dir("h", 1796228078);
  std::string second = store.create_dump_dir("h", 1796228078);
  CHECK(first == dir / "crash/h-2026-12-02-16:14:38");
  CHECK(second == first + ".1");
  CHECK(fs::is_directory(second));
  CHECK(is_dump_dir_name(fs::path(second).filename().string()));
}
