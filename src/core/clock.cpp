#include "core/clock.h"

#include <ctime>

namespace synscope::core {

std::string format_time(int64_t unix_ns, const char* format, time_zone zone) {
  int64_t seconds = unix_ns / ns_per_s - (unix_ns % ns_per_s < 0 ? 1 : 0);
  auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  bool ok = zone == time_zone::utc ? gmtime_r(&t, &tm) != nullptr : localtime_r(&t, &tm) != nullptr;
  char text[96];
  size_t n = ok ? std::strftime(text, sizeof text, format, &tm) : 0;
  if (n == 0) return std::to_string(seconds);
  return {text, n};
}

}  // namespace synscope::core
