#pragma once
// An open-addressing hash index from a 64-bit hash to a 32-bit reference whose key lives
// elsewhere (the tracker's slots): linear probing, backward-shift deletion, 8 bytes a bucket,
// no allocation per entry, load factor at most 1/2.
//
//   flow_index index;
//   index.insert(hash_of(key), ref);
//   uint32_t ref = index.find(hash_of(key), [&](uint32_t r) { return key_of(r) == key; });
//   index.erase(hash_of(key), ref);
//
// The caller compares keys (the index keeps only 32 bits of each hash to skip most of them).
#include <cstddef>
#include <cstdint>
#include <vector>

namespace synscope::tcp {

class flow_index {
 public:
  static constexpr uint32_t none = UINT32_MAX;

  /// The reference whose key `match` accepts among those inserted with `hash`, or none.
  template <class Match>
  [[nodiscard]] uint32_t find(uint64_t hash, Match&& match) const {
    if (size_ == 0) return none;
    const auto h = static_cast<uint32_t>(hash);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const bucket& b = buckets_[i];
      if (b.ref == none) return none;
      if (b.hash == h && match(b.ref)) return b.ref;
    }
  }

  /// Starts loading the bucket where a lookup of `hash` begins: for a batch of lookups, each
  /// prefetched a few ahead, so their cache misses overlap.
  void prefetch(uint64_t hash) const {
    if (!buckets_.empty()) __builtin_prefetch(&buckets_[static_cast<uint32_t>(hash) & mask_]);
  }
  /// The first reference filed in `hash`'s home bucket (none if empty): what a lookup of it
  /// most likely finds, for prefetching what it refers to.
  [[nodiscard]] uint32_t first_ref(uint64_t hash) const {
    return buckets_.empty() ? none : buckets_[static_cast<uint32_t>(hash) & mask_].ref;
  }

  /// Adds `ref` under `hash`; `ref` must not be `none` nor already present.
  void insert(uint64_t hash, uint32_t ref);
  /// Removes `ref`, inserted under `hash`; false when it was not there.
  bool erase(uint64_t hash, uint32_t ref);

  [[nodiscard]] size_t size() const { return size_; }
  [[nodiscard]] size_t capacity() const { return buckets_.size(); }

 private:
  struct bucket {
    uint32_t hash = 0;  // the low 32 bits: the home bucket is hash & mask_
    uint32_t ref = none;
  };
  void grow();

  std::vector<bucket> buckets_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace synscope::tcp
