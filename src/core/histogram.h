#pragma once
// A log-linear latency histogram on HdrHistogram's design: fixed memory, bounded relative
// error, mergeable, O(1) record.
//
//   core::histogram h;                 // 1 ns .. ~2.4 h, <= 1% relative error, ~38 KiB
//   h.record(52'300);                  // nanoseconds
//   int64_t p99 = h.percentile(99.0);
//
// Values are split into power-of-two buckets, each cut into 128 linear sub-buckets, so a value
// v is stored in a slot of width at most v/128: the value reported for a percentile is within
// 1/128 (0.78%) of the recorded one. min, max, mean and standard deviation are exact (kept
// beside the counts), not derived from the slots. Up to exact_samples values the samples
// themselves are kept too, and percentiles are exact (one of the recorded values, by nearest
// rank), so a small run never reports a slot's edge that no sample had.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synscope::core {

class histogram {
 public:
  /// Up to this many values (128 KiB of them), percentiles come from the values themselves.
  static constexpr size_t exact_samples = 16384;

  /// Values above `highest_trackable` are counted as `highest_trackable` (and in saturated()).
  explicit histogram(int64_t highest_trackable = int64_t{1} << 43);

  /// Records a value (negative values are recorded as 0).
  void record(int64_t value) noexcept;
  /// Adds every value recorded in `other`; both must have the same highest_trackable.
  void merge(const histogram& other);
  void reset() noexcept;

  [[nodiscard]] uint64_t count() const noexcept { return total_; }
  [[nodiscard]] uint64_t saturated() const noexcept { return saturated_; }
  [[nodiscard]] int64_t min() const noexcept { return total_ ? min_ : 0; }
  [[nodiscard]] int64_t max() const noexcept { return total_ ? max_ : 0; }
  [[nodiscard]] double mean() const noexcept { return total_ ? mean_ : 0.0; }
  /// Population standard deviation (as ping's mdev and HdrHistogram's getStdDeviation).
  [[nodiscard]] double stddev() const noexcept;
  /// The smallest recorded value v such that at least `p` percent of the values are <= v
  /// (nearest rank): exact while count() <= exact_samples, else to slot precision; p is clamped
  /// to [0, 100]. 0 when empty. p=0 gives min(), p=100 max().
  [[nodiscard]] int64_t percentile(double p) const noexcept;

  /// How many recorded values are <= v, to slot precision (a slot counts whole when its lowest
  /// value is <= v). For bar charts: the count in (a, b] is count_at_or_below(b) - ..(a).
  [[nodiscard]] uint64_t count_at_or_below(int64_t v) const noexcept;

  [[nodiscard]] int64_t highest_trackable() const noexcept { return highest_trackable_; }
  /// True while every recorded value is kept (percentiles are exact).
  [[nodiscard]] bool exact() const noexcept { return samples_.size() == total_; }

 private:
  [[nodiscard]] size_t index_of(uint64_t value) const noexcept;
  [[nodiscard]] static uint64_t lowest_in_slot(size_t index) noexcept;
  [[nodiscard]] static uint64_t highest_in_slot(size_t index) noexcept;

  int64_t highest_trackable_;
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  uint64_t saturated_ = 0;
  int64_t min_ = 0;
  int64_t max_ = 0;
  double mean_ = 0;  // Welford's running mean and sum of squared deviations
  double m2_ = 0;
  std::vector<int64_t> samples_;  // every value while there are at most exact_samples of them
};

}  // namespace synscope::core
