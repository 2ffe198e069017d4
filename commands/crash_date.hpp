// Dates the way crash prints them ("Mon Nov 23 11:22:33 UTC 2026", date(1)'s
// default), in the local time zone of the machine kdive runs on, as crash does.
//
//   crash_date(1795433853);   // "Mon Nov 23 11:37:33 UTC 2026"
#pragma once

#include <cstdint>
#include <string>

namespace kdive {

std::string crash_date(int64_t seconds_since_epoch);

}  // namespace kdive
