#include "core/histogram.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace synscope::core {
namespace {

// The exact percentile with the same definition the histogram uses: the smallest value such
// that at least p% of the values are <= it.
int64_t exact_percentile(std::vector<int64_t> values, double p) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

TEST(Histogram, EmptyReportsZero) {
  histogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.stddev(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
  histogram h;
  for (int64_t v = 0; v < 256; ++v) h.record(v);
  for (double p : {1.0, 25.0, 50.0, 75.0, 99.0}) {
    std::vector<int64_t> all(256);
    for (int64_t v = 0; v < 256; ++v) all[static_cast<size_t>(v)] = v;
    EXPECT_EQ(h.percentile(p), exact_percentile(all, p)) << p;
  }
}

TEST(Histogram, SmallSamplesGiveValuesThatOccurred) {
  // Two handshakes, 213.1 us and 5476.5 us: the median is one of them (nearest rank), not the
  // edge of the slot 213.1 falls in (214.0, which no sample had).
  histogram h;
  h.record(213'100);
  h.record(5'476'500);
  EXPECT_TRUE(h.exact());
  EXPECT_EQ(h.percentile(50), 213'100);
  EXPECT_EQ(h.percentile(90), 5'476'500);
  EXPECT_EQ(h.percentile(99), 5'476'500);
  // Up to exact_samples values every percentile is a recorded value; past it, slot precision.
  histogram many;
  for (size_t i = 0; i < histogram::exact_samples; ++i) many.record(static_cast<int64_t>(1'000'003 * (i % 97)));
  EXPECT_TRUE(many.exact());
  EXPECT_EQ(many.percentile(50) % 1'000'003, 0);
  many.record(7);
  EXPECT_FALSE(many.exact());
  histogram a;
  histogram b;
  a.record(100'001);
  b.record(200'003);
  a.merge(b);
  EXPECT_TRUE(a.exact());
  EXPECT_EQ(a.percentile(100), 200'003);
  EXPECT_EQ(a.percentile(50), 100'001);
}

TEST(Histogram, RelativeErrorWithinOnePercent) {
  // Latency-like values from 1 us to 10 s on a log scale.
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> exponent(3.0, 10.0);
  std::vector<int64_t> values;
  histogram h;
  for (int i = 0; i < 100'000; ++i) {
    auto v = static_cast<int64_t>(std::pow(10.0, exponent(rng)));
    values.push_back(v);
    h.record(v);
  }
  for (double p : {0.1, 1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    double exact = static_cast<double>(exact_percentile(values, p));
    double got = static_cast<double>(h.percentile(p));
    EXPECT_LE(std::abs(got - exact) / exact, 0.01) << "p" << p << " exact " << exact << " got " << got;
  }
  EXPECT_EQ(h.min(), *std::min_element(values.begin(), values.end()));
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
}

TEST(Histogram, PercentilesAreOrderedAndInsideMinMax) {
  std::mt19937_64 rng(7);
  std::exponential_distribution<double> dist(1.0 / 50'000);
  histogram h;
  for (int i = 0; i < 10'000; ++i) h.record(static_cast<int64_t>(dist(rng)) + 1);
  int64_t last = h.min();
  for (double p : {0.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    int64_t v = h.percentile(p);
    EXPECT_GE(v, last) << p;
    EXPECT_LE(v, h.max());
    last = v;
  }
  EXPECT_EQ(h.percentile(0), h.min());
  EXPECT_EQ(h.percentile(100), h.max());
}

TEST(Histogram, MeanAndStddevAreExact) {
  histogram h;
  for (int64_t v : {2, 4, 4, 4, 5, 5, 7, 9}) h.record(v);
  EXPECT_DOUBLE_EQ(h.mean(), 5.0);
  EXPECT_DOUBLE_EQ(h.stddev(), 2.0);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<int64_t> dist(1, 5'000'000);
  histogram a, b, all;
  for (int i = 0; i < 5000; ++i) {
    int64_t v = dist(rng);
    (i % 3 == 0 ? a : b).record(v);
    all.record(v);
  }
  a.merge(b);
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.min(), all.min());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_NEAR(a.mean(), all.mean(), 1e-6 * all.mean());
  EXPECT_NEAR(a.stddev(), all.stddev(), 1e-6 * all.stddev());
  for (double p : {50.0, 90.0, 99.0}) EXPECT_EQ(a.percentile(p), all.percentile(p));
}

TEST(Histogram, SaturatesAboveRangeAndClampsNegatives) {
  histogram h(1'000'000);
  h.record(5'000'000);
  h.record(-3);
  EXPECT_EQ(h.saturated(), 1u);
  EXPECT_EQ(h.max(), 1'000'000);
  EXPECT_EQ(h.min(), 0);
}

TEST(Histogram, MergeOfDifferentRangesIsRefused) {
  histogram a(1000), b(2000);
  EXPECT_THROW(a.merge(b), std::invalid_argument);
}

TEST(Histogram, FixedMemory) {
  histogram h;
  std::vector<int64_t> big = {1, 1'000, 1'000'000, 1'000'000'000, int64_t{1} << 42};
  for (auto v : big) h.record(v);
  EXPECT_EQ(h.count(), big.size());
  EXPECT_EQ(h.percentile(100), int64_t{1} << 42);
}

}  // namespace
}  // namespace synscope::core

namespace synscope::core {
namespace {

TEST(HistogramCount, AtOrBelowFollowsTheValues) {
  histogram h;
  EXPECT_EQ(h.count_at_or_below(100), 0u);
  for (int64_t v = 1; v <= 1000; ++v) h.record(v * 1000);
  EXPECT_EQ(h.count_at_or_below(0), 0u);
  EXPECT_EQ(h.count_at_or_below(999), 0u);
  EXPECT_EQ(h.count_at_or_below(1'000'000), 1000u);
  EXPECT_EQ(h.count_at_or_below(5'000'000), 1000u);
  // Slots are at most 1/128 wide: the count at 500,000 is within 1 % of 500.
  EXPECT_NEAR(static_cast<double>(h.count_at_or_below(500'000)), 500.0, 5.0);
  for (int64_t v : {1'000, 20'000, 333'000, 999'000}) {
    EXPECT_LE(h.count_at_or_below(v), h.count_at_or_below(v + 10'000));
  }
}

}  // namespace
}  // namespace synscope::core
