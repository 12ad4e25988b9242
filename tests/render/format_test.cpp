#include "render/format.h"

#include <gtest/gtest.h>

namespace synscope::render {
namespace {

TEST(FormatDuration, ReadsLikePeopleWrite) {
  EXPECT_EQ(format_duration(0), "0 s");
  EXPECT_EQ(format_duration(2'000'000'000), "2 s");
  EXPECT_EQ(format_duration(1'500'000'000), "1.5 s");
  EXPECT_EQ(format_duration(100'000'000), "100 ms");
  EXPECT_EQ(format_duration(250'000), "250 us");
  EXPECT_EQ(format_duration(12), "12 ns");
}

TEST(Counted, OneIsSingular) {
  EXPECT_EQ(counted(1, "packet"), "1 packet");
  EXPECT_EQ(counted(0, "packet"), "0 packets");
  EXPECT_EQ(counted(2, "entry", "entries"), "2 entries");
}

TEST(Ms, FixedDecimalsOfAMillisecond) {
  EXPECT_EQ(ms(int64_t{1'234'567}), "1.235");
  EXPECT_EQ(ms(int64_t{1'234'567}, 1), "1.2");
  EXPECT_EQ(ms(0.0), "0.000");
  EXPECT_EQ(ms(int64_t{-2'000'000}), "-2.000");
}

TEST(HistogramRow, TheAskedFiguresInMillisecondsAndDashesWhenEmpty) {
  core::histogram h;
  EXPECT_EQ(histogram_row("none", h, {stat::count, stat::min, stat::p50, stat::max}),
            (std::vector<std::string>{"none", "0", "-", "-", "-"}));
  for (int64_t v : {1'000'000, 2'000'000, 3'000'000, 4'000'000}) h.record(v);
  EXPECT_EQ(histogram_row("four", h, {stat::count, stat::min, stat::mean, stat::p50, stat::p99, stat::max}),
            (std::vector<std::string>{"four", "4", "1.000", "2.500", "2.000", "4.000", "4.000"}));
  EXPECT_EQ(histogram_row("sd", h, {stat::stddev}), (std::vector<std::string>{"sd", ms(h.stddev())}));
}

TEST(HistogramJson, MicrosecondsAndNullsWhenEmpty) {
  core::histogram h;
  EXPECT_EQ(histogram_json_us(h).str(),
            R"({"count":0,"min":null,"avg":null,"p50":null,"p90":null,"p99":null,"max":null,"stddev":null})");
  h.record(240'250);
  EXPECT_EQ(histogram_json_us(h).str(),
            R"({"count":1,"min":240.25,"avg":240.25,"p50":240.25,"p90":240.25,"p99":240.25,"max":240.25,"stddev":0})");
}

}  // namespace
}  // namespace synscope::render
