#include "core/clock.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

TEST(FormatTime, UtcWithEachCallersFormat) {
  int64_t t = 1'764'654'310'123'456'789;  // 2025-12-02 05:45:10.123456789 UTC
  EXPECT_EQ(format_time(t, "%Y-%m-%d %H:%M:%S", time_zone::utc), "2025-12-02 05:45:10");
  EXPECT_EQ(format_time(t, "%Y%m%dT%H%M%SZ", time_zone::utc), "20251202T054510Z");
  EXPECT_EQ(format_time(0, "%Y-%m-%d %H:%M:%S", time_zone::utc), "1970-01-01 00:00:00");
}

TEST(FormatTime, BeforeTheEpochRoundsTheSecondDown) {
  EXPECT_EQ(format_time(-1, "%Y-%m-%d %H:%M:%S", time_zone::utc), "1969-12-31 23:59:59");
  EXPECT_EQ(format_time(-ns_per_s, "%H:%M:%S", time_zone::utc), "23:59:59");
}

TEST(FormatTime, LocalTimeFollowsTz) {
  ASSERT_EQ(setenv("TZ", "UTC-2", 1), 0);  // POSIX: two hours east of UTC
  tzset();
  EXPECT_EQ(format_time(0, "%H:%M:%S", time_zone::local), "02:00:00");
  unsetenv("TZ");
  tzset();
}

TEST(FormatTime, EveryInt64NanosecondIsADateAndAnEmptyResultIsTheSeconds) {
  EXPECT_EQ(format_time(INT64_MAX, "%Y-%m-%d", time_zone::utc), "2262-04-11");
  EXPECT_EQ(format_time(INT64_MIN, "%Y-%m-%d", time_zone::utc), "1677-09-21");
  EXPECT_EQ(format_time(ns_per_s, "", time_zone::utc), "1");  // strftime wrote nothing: the number
}

}  // namespace
}  // namespace synscope::core
