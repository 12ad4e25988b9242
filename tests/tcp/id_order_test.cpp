#include "tcp/id_order.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <vector>

namespace synscope::tcp {
namespace {

struct ids : connection_sink {
  std::vector<uint64_t> seen;
  void on_connection(const connection& c) override { seen.push_back(c.id); }
};

connection with_id(uint64_t id) {
  connection c;
  c.id = id;
  return c;
}

TEST(IdOrder, ConnectionsComeOutInTheOrderTheyBegan) {
  ids out;
  id_order_sink ordered(out, 100);
  for (uint64_t id : {2, 0, 3, 1, 5, 4}) ordered.on_connection(with_id(id));
  ordered.flush();
  EXPECT_EQ(out.seen, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(ordered.out_of_order(), 0u);
}

TEST(IdOrder, HeldOnesWaitForTheEarlierOneAndFlushEndsTheWait) {
  ids out;
  id_order_sink ordered(out, 100);
  ordered.on_connection(with_id(1));
  ordered.on_connection(with_id(2));
  EXPECT_TRUE(out.seen.empty()) << "0 is still open";
  ordered.flush();  // the input ended (0 was never finished: cannot happen, but nothing is lost)
  EXPECT_EQ(out.seen, (std::vector<uint64_t>{1, 2}));
}

// A connection open from the first packet to the last holds back at most `window` others: the
// rest come in order behind it, and it comes when it ends, counted as out of order.
TEST(IdOrder, ALongOpenConnectionHoldsBackAtMostTheWindow) {
  ids out;
  id_order_sink ordered(out, 3);
  for (uint64_t id = 1; id <= 3; ++id) ordered.on_connection(with_id(id));
  EXPECT_TRUE(out.seen.empty()) << "three held behind 0";
  ordered.on_connection(with_id(4));  // a fourth: the wait for 0 is given up
  EXPECT_EQ(out.seen, (std::vector<uint64_t>{1, 2, 3, 4}));
  for (uint64_t id = 5; id <= 6; ++id) ordered.on_connection(with_id(id));
  ordered.on_connection(with_id(0));
  ordered.flush();
  EXPECT_EQ(out.seen, (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 0}));
  EXPECT_EQ(ordered.out_of_order(), 1u);
}

// The rule, written plainly (a map from held id to nothing), against the sink on 20,000
// connections that end in a shuffled order, some held far longer than others: across many of
// the sink's chunks, with windows below and above a chunk's size.
std::vector<uint64_t> model(const std::vector<uint64_t>& arrivals, size_t window) {
  std::vector<uint64_t> out;
  std::map<uint64_t, bool> held;
  uint64_t next = 0;
  auto release = [&] {
    while (!held.empty() && held.begin()->first == next) {
      out.push_back(next++);
      held.erase(held.begin());
    }
  };
  for (uint64_t id : arrivals) {
    if (id < next) {
      out.push_back(id);
      continue;
    }
    held[id] = true;
    release();
    while (held.size() > window) {
      next = held.begin()->first;
      release();
    }
  }
  for (const auto& [id, unused] : held) out.push_back(id);
  return out;
}

TEST(IdOrder, ManyShuffledEndsComeOutAsTheRuleSays) {
  for (size_t window : {size_t{1}, size_t{100}, size_t{1000}, size_t{100'000}}) {
    std::mt19937_64 rng(window);
    std::vector<uint64_t> arrivals(20'000);
    for (uint64_t i = 0; i < arrivals.size(); ++i) arrivals[i] = i;
    // Each connection ends a random while after it began; a few stay open far longer.
    std::vector<std::pair<uint64_t, uint64_t>> ends;
    for (uint64_t id : arrivals) ends.emplace_back(id + (rng() % 50 == 0 ? rng() % 20'000 : rng() % 300), id);
    std::sort(ends.begin(), ends.end());
    for (size_t i = 0; i < ends.size(); ++i) arrivals[i] = ends[i].second;
    ids out;
    id_order_sink ordered(out, window);
    for (uint64_t id : arrivals) ordered.on_connection(with_id(id));
    ordered.flush();
    EXPECT_EQ(out.seen, model(arrivals, window)) << "window " << window;
    std::vector<uint64_t> sorted = out.seen;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, [&] { auto a = arrivals; std::sort(a.begin(), a.end()); return a; }()) << "each exactly once";
  }
}

}  // namespace
}  // namespace synscope::tcp
