#include "core/duration.h"

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

TEST(ParseDuration, UnitsAndPlainSeconds) {
  EXPECT_EQ(*parse_duration("1", "-i"), 1'000'000'000);
  EXPECT_EQ(*parse_duration("0.2", "-i"), 200'000'000);
  EXPECT_EQ(*parse_duration("0", "-i"), 0);
  EXPECT_EQ(*parse_duration("500ms", "-i"), 500'000'000);
  EXPECT_EQ(*parse_duration("250us", "-i"), 250'000);
  EXPECT_EQ(*parse_duration("7ns", "-i"), 7);
  EXPECT_EQ(*parse_duration("1.5s", "-i"), 1'500'000'000);
  EXPECT_EQ(*parse_duration("2m", "-i"), 120'000'000'000);
}

TEST(ParseDuration, ErrorsNameTheArgument) {
  for (const char* bad : {"", "abc", "1h", "-1", "1e3", "ms", "1 s", "nan"}) {
    auto r = parse_duration(bad, "-W/--timeout");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, exit_code::usage);
    EXPECT_EQ(r.error().message.rfind("-W/--timeout", 0), 0u) << r.error().message;
  }
  EXPECT_FALSE(parse_duration("99999999999999m", "-i").ok());
}

}  // namespace
}  // namespace synscope::core
