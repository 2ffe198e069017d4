// The load average's fixed point (FSHIFT 11) printed as /proc/loadavg and crash do.
#include <catch2/catch.hpp>

#include "kernel-model/system_info.hpp"

using kdive::format_load;

TEST_CASE("load averages print with two rounded decimals", "[load_average]") {
  constexpr uint64_t kOne = 1 << 11;  // FIXED_1
  CHECK(format_load(0) == "0.00");
  CHECK(format_load(kOne) == "1.00");
  CHECK(format_load(kOne * 3 / 2) == "1.50");
  // 0.0996 rounds up to 0.10 (fs/proc/loadavg.c adds FIXED_1/200 first) ...
  CHECK(format_load(204) == "0.10");
  // ... and 0.0947 stays 0.09.
  CHECK(format_load(194) == "0.09");
  CHECK(format_load(kOne * 12 + kOne / 4) == "12.25");
}
