#pragma once
// Clock helpers. Durations inside synscope are int64 nanoseconds; conversions happen at the edges.
#include <time.h>

#include <cstdint>
#include <string>

namespace synscope::core {

inline constexpr int64_t ns_per_us = 1'000;
inline constexpr int64_t ns_per_ms = 1'000'000;
inline constexpr int64_t ns_per_s = 1'000'000'000;

/// CLOCK_MONOTONIC in nanoseconds: for measuring intervals.
inline int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * ns_per_s + ts.tv_nsec;
}

/// CLOCK_REALTIME in nanoseconds since the Unix epoch: for labelling events, never for intervals.
inline int64_t realtime_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * ns_per_s + ts.tv_nsec;
}

inline timespec to_timespec(int64_t ns) noexcept {
  return timespec{static_cast<time_t>(ns / ns_per_s), static_cast<long>(ns % ns_per_s)};
}

enum class time_zone { utc, local };

/// A Unix time written with strftime's `format` ("%Y-%m-%d %H:%M:%S") in UTC or local time; the
/// second is rounded down. The one wall-clock formatter: file names, ladders, timelines, top.
/// A time no calendar holds comes back as its number of seconds.
[[nodiscard]] std::string format_time(int64_t unix_ns, const char* format, time_zone zone);

inline double ns_to_ms(int64_t ns) noexcept { return static_cast<double>(ns) / 1e6; }
inline double ns_to_us(int64_t ns) noexcept { return static_cast<double>(ns) / 1e3; }

}  // namespace synscope::core
