#include "commands/crash_date.hpp"

#include <ctime>

namespace kdive {

std::string crash_date(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Z %Y", &tm);
  return buf;
}

}  // namespace kdive
