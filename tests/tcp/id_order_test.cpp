#include "tcp/id_order.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace synscope::tcp
