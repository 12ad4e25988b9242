// The tracker's open-addressing index against a plain std::map model: random inserts, finds
// and erases with hashes from a tiny range (long probe runs that wrap around the table, many
// backward shifts) and across growth.
#include "tcp/flow_index.h"

#include <map>
#include <random>

#include <gtest/gtest.h>

namespace synscope::tcp {
namespace {

TEST(FlowIndex, EmptyFindsNothing) {
  flow_index index;
  EXPECT_EQ(index.find(42, [](uint32_t) { return true; }), flow_index::none);
  EXPECT_FALSE(index.erase(42, 1));
  EXPECT_EQ(index.size(), 0u);
}

TEST(FlowIndex, CollidingHashesAreTellApartByTheCallersKey) {
  flow_index index;
  for (uint32_t ref = 0; ref < 10; ++ref) index.insert(7, ref);  // one hash, ten keys
  for (uint32_t ref = 0; ref < 10; ++ref) {
    EXPECT_EQ(index.find(7, [&](uint32_t r) { return r == ref; }), ref);
  }
  EXPECT_TRUE(index.erase(7, 4));
  EXPECT_FALSE(index.erase(7, 4));
  EXPECT_EQ(index.find(7, [](uint32_t r) { return r == 4; }), flow_index::none);
  EXPECT_EQ(index.find(7, [](uint32_t r) { return r == 9; }), 9u);  // still reachable past the hole
  EXPECT_EQ(index.size(), 9u);
}

TEST(FlowIndex, RandomOperationsMatchAModel) {
  for (uint64_t hash_range : {uint64_t{16}, uint64_t{1} << 20, uint64_t{1} << 40}) {
    SCOPED_TRACE(hash_range);
    std::mt19937_64 rng(hash_range);
    flow_index index;
    std::map<uint32_t, uint64_t> model;  // ref -> hash
    uint32_t next_ref = 0;
    // Hashes that share their low bits with the table's last buckets make runs wrap around.
    auto some_hash = [&] { return (rng() % hash_range) | (hash_range == 16 ? 1016 : 0); };
    const int steps = hash_range == 16 ? 5'000 : 200'000;  // 16 hashes: every probe walks one long run
    for (int step = 0; step < steps; ++step) {
      uint64_t op = rng() % 10;
      if (op < 5 || model.empty()) {
        uint64_t h = some_hash();
        index.insert(h, next_ref);
        model[next_ref++] = h;
      } else if (op < 8) {
        auto it = model.lower_bound(static_cast<uint32_t>(rng() % next_ref));
        if (it == model.end()) it = model.begin();
        ASSERT_TRUE(index.erase(it->second, it->first));
        model.erase(it);
      } else {
        uint32_t ref = static_cast<uint32_t>(rng() % next_ref);
        auto it = model.find(ref);
        uint64_t h = it != model.end() ? it->second : some_hash();
        uint32_t found = index.find(h, [&](uint32_t r) { return r == ref; });
        ASSERT_EQ(found, it != model.end() ? ref : flow_index::none);
      }
      ASSERT_EQ(index.size(), model.size());
      ASSERT_LE(index.size() * 2, index.capacity());
    }
    for (const auto& [ref, h] : model) {
      ASSERT_EQ(index.find(h, [&, r0 = ref](uint32_t r) { return r == r0; }), ref);
    }
  }
}

}  // namespace
}  // namespace synscope::tcp
