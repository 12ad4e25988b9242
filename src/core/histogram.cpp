#include "core/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <stdexcept>

namespace synscope::core {
namespace {

// HdrHistogram with unit magnitude 0 and 2 significant digits: 256 sub-buckets per bucket, of
// which the upper half (128) is used in every bucket after the first.
constexpr int sub_bucket_bits = 8;
constexpr uint64_t sub_bucket_count = uint64_t{1} << sub_bucket_bits;
constexpr int half_bits = sub_bucket_bits - 1;
constexpr uint64_t half_count = uint64_t{1} << half_bits;
constexpr uint64_t sub_bucket_mask = sub_bucket_count - 1;

int bucket_of(uint64_t value) {
  // Position of the highest set bit of (value | mask), minus the bits the first bucket covers.
  return (64 - std::countl_zero(value | sub_bucket_mask)) - sub_bucket_bits;
}

}  // namespace

histogram::histogram(int64_t highest_trackable) : highest_trackable_(highest_trackable) {
  if (highest_trackable < 2) {
    throw std::invalid_argument("histogram: highest_trackable must be at least 2");
  }
  size_t slots = index_of(static_cast<uint64_t>(highest_trackable)) + 1;
  counts_.assign(slots, 0);
}

size_t histogram::index_of(uint64_t value) const noexcept {
  int bucket = bucket_of(value);
  uint64_t sub = value >> bucket;  // in [128, 256) for bucket > 0, [0, 256) for bucket 0
  return (static_cast<size_t>(bucket + 1) << half_bits) + static_cast<size_t>(sub - half_count);
}

uint64_t histogram::lowest_in_slot(size_t index) noexcept {
  int bucket = static_cast<int>(index >> half_bits) - 1;
  uint64_t sub = (index & (half_count - 1)) + half_count;
  if (bucket < 0) {
    sub -= half_count;
    bucket = 0;
  }
  return sub << bucket;
}

uint64_t histogram::highest_in_slot(size_t index) noexcept {
  int bucket = std::max(static_cast<int>(index >> half_bits) - 1, 0);
  return lowest_in_slot(index) + (uint64_t{1} << bucket) - 1;
}

void histogram::record(int64_t value) noexcept {
  if (value < 0) {
    value = 0;
  }
  if (value > highest_trackable_) {
    value = highest_trackable_;
    ++saturated_;
  }
  ++counts_[index_of(static_cast<uint64_t>(value))];
  if (samples_.size() == total_) {
    if (total_ < exact_samples) {
      samples_.push_back(value);
    } else {
      std::vector<int64_t>().swap(samples_);  // past the limit: the slots alone, and the memory back
    }
  }
  if (total_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  ++total_;
  double delta = static_cast<double>(value) - mean_;
  mean_ += delta / static_cast<double>(total_);
  m2_ += delta * (static_cast<double>(value) - mean_);
}

void histogram::merge(const histogram& other) {
  if (other.highest_trackable_ != highest_trackable_) {
    throw std::invalid_argument("histogram::merge: different ranges");
  }
  if (other.total_ == 0) {
    return;
  }
  for (size_t i = 0; i < counts_.size(); ++i) {
    counts_[i] += other.counts_[i];
  }
  if (exact() && other.exact() && total_ + other.total_ <= exact_samples) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  } else {
    std::vector<int64_t>().swap(samples_);
  }
  if (total_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  // Chan et al.'s parallel combination of mean and M2.
  double n_a = static_cast<double>(total_);
  double n_b = static_cast<double>(other.total_);
  double delta = other.mean_ - mean_;
  double n = n_a + n_b;
  mean_ += delta * n_b / n;
  m2_ += other.m2_ + delta * delta * n_a * n_b / n;
  total_ += other.total_;
  saturated_ += other.saturated_;
}

void histogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  samples_.clear();
  total_ = saturated_ = 0;
  min_ = max_ = 0;
  mean_ = m2_ = 0;
}

double histogram::stddev() const noexcept {
  if (total_ < 2) {
    return 0.0;
  }
  return std::sqrt(m2_ / static_cast<double>(total_));
}

uint64_t histogram::count_at_or_below(int64_t v) const noexcept {
  if (total_ == 0 || v < min_) return 0;
  if (v >= max_) return total_;
  size_t last = index_of(static_cast<uint64_t>(v));
  uint64_t n = 0;
  for (size_t i = 0; i <= last && i < counts_.size(); ++i) n += counts_[i];
  return n;
}

int64_t histogram::percentile(double p) const noexcept {
  if (total_ == 0) {
    return 0;
  }
  p = std::clamp(std::isnan(p) ? 0.0 : p, 0.0, 100.0);
  if (p == 0.0) {
    return min_;
  }
  if (p == 100.0) {
    return max_;
  }
  auto wanted = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(total_)));
  wanted = std::clamp<uint64_t>(wanted, 1, total_);
  if (exact()) {
    // Nearest rank over the values themselves.
    std::vector<int64_t> v = samples_;
    auto nth = v.begin() + static_cast<std::ptrdiff_t>(wanted - 1);
    std::nth_element(v.begin(), nth, v.end());
    return *nth;
  }
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) {
      // The slot's highest value (HdrHistogram's "highest equivalent value"), kept inside the
      // exact range so that no percentile exceeds max() or falls below min().
      auto v = static_cast<int64_t>(highest_in_slot(i));
      return std::clamp(v, min_, max_);
    }
  }
  return max_;
}

}  // namespace synscope::core
