#include "core/duration.h"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "core/clock.h"

namespace synscope::core {

result<int64_t> parse_duration(std::string_view text, std::string_view what) {
  auto bad = [&](std::string_view why) {
    return error{exit_code::usage, fmt::format("{} '{}': {}", what, printable(text), why)};
  };
  double number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number, std::chars_format::fixed);
  if (ec != std::errc{} || ptr == begin) {
    return bad("not a duration (examples: 1, 0.2, 500ms, 1.5s)");
  }
  std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  double scale = 0;
  if (unit.empty() || unit == "s") {
    scale = static_cast<double>(ns_per_s);
  } else if (unit == "ms") {
    scale = static_cast<double>(ns_per_ms);
  } else if (unit == "us") {
    scale = static_cast<double>(ns_per_us);
  } else if (unit == "ns") {
    scale = 1;
  } else if (unit == "m") {
    scale = 60.0 * static_cast<double>(ns_per_s);
  } else {
    return bad("unknown unit (use ns, us, ms, s or m)");
  }
  if (!std::isfinite(number) || number < 0) {
    return bad("must be zero or more");
  }
  double ns = number * scale;
  if (ns > 1e18) {  // about 31 years: beyond any sensible interval, and near int64's limit
    return bad("too large");
  }
  return static_cast<int64_t>(std::llround(ns));
}

}  // namespace synscope::core

namespace synscope::core {

}  // namespace synscope::core
