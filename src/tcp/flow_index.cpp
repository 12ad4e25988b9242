#include "tcp/flow_index.h"

#include <utility>

namespace synscope::tcp {

void flow_index::grow() {
  size_t capacity = buckets_.empty() ? 1024 : buckets_.size() * 2;
  std::vector<bucket> old = std::exchange(buckets_, std::vector<bucket>(capacity));
  mask_ = buckets_.size() - 1;
  for (const bucket& b : old) {
    if (b.ref == none) continue;
    size_t i = b.hash & mask_;
    while (buckets_[i].ref != none) i = (i + 1) & mask_;
    buckets_[i] = b;
  }
}

void flow_index::insert(uint64_t hash, uint32_t ref) {
  if ((size_ + 1) * 2 > buckets_.size()) grow();
  const auto h = static_cast<uint32_t>(hash);
  size_t i = h & mask_;
  while (buckets_[i].ref != none) i = (i + 1) & mask_;
  buckets_[i] = bucket{h, ref};
  ++size_;
}

bool flow_index::erase(uint64_t hash, uint32_t ref) {
  if (size_ == 0) return false;
  size_t hole = static_cast<uint32_t>(hash) & mask_;
  for (;; hole = (hole + 1) & mask_) {
    if (buckets_[hole].ref == none) return false;
    if (buckets_[hole].ref == ref) break;
  }
  // Backward shift: move later entries of the run into the hole when their home bucket
  // allows, so that no probe sequence is broken and no tombstones pile up.
  for (size_t j = (hole + 1) & mask_; buckets_[j].ref != none; j = (j + 1) & mask_) {
    size_t home = buckets_[j].hash & mask_;
    // Can the entry at j move to `hole`? Only when its home is not cyclically in (hole, j].
    bool home_after_hole = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (home_after_hole) continue;
    buckets_[hole] = buckets_[j];
    hole = j;
  }
  buckets_[hole] = bucket{};
  --size_;
  return true;
}

}  // namespace synscope::tcp
