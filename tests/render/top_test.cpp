// `synscope top`'s screen, line and JSON, from snapshots made by hand.
#include "render/top.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

kernel::snapshot at(int64_t seconds, int64_t syn_retrans, uint64_t time_wait) {
  kernel::snapshot s;
  s.taken_ns = seconds * 1'000'000'000;
  s.counters.push_back({"TcpExtTCPSynRetrans", "TcpExt", "TCPSynRetrans", syn_retrans, false});
  s.sockets.counts[static_cast<size_t>(kernel::tcp_state::time_wait)] = {time_wait, 0};
  s.sockets.total = time_wait;
  s.sockets.listeners = {{{{4, {127, 0, 0, 1}}, 8080}, 5, 10, 2}};
  return s;
}

const top_heading head{"lab0", "1s", "2026-12-02 06:00:00", 1'796'191'200'000'000'000};

TEST(TopFigures, SocketsThenRatesPerSecond) {
  auto before = at(10, 100, 3);
  auto now = at(12, 140, 7);
  auto v = top_figures(&before, now);
  EXPECT_EQ(v[5], 7.0);    // time-wait, the sixth state row
  EXPECT_EQ(v[10 + 4], 20.0);  // SYN retransmits: 40 in 2 s
  EXPECT_EQ(top_figures(nullptr, now)[10 + 4], 0.0);
}

TEST(TopLine, KeyValuesAndTheFullestListener) {
  auto before = at(10, 100, 3);
  auto now = at(12, 140, 7);
  std::string line = top_line(head, &before, now);
  EXPECT_EQ(line.rfind("2026-12-02 06:00:00 sockets=7 ", 0), 0u) << line;
  EXPECT_NE(line.find(" time-wait=7"), std::string::npos) << line;
  EXPECT_NE(line.find(" syn_retrans/s=20.0"), std::string::npos) << line;
  EXPECT_NE(line.find(" fullest=127.0.0.1:8080 5/10"), std::string::npos) << line;
  EXPECT_NE(top_line(head, nullptr, now).find(" syn_retrans/s=-"), std::string::npos);
  auto j = nlohmann::json::parse(top_json(head, &before, now));
  EXPECT_EQ(j["time_unix_ns"], head.unix_ns);
  EXPECT_EQ(j["states"]["time-wait"], 7);
  EXPECT_DOUBLE_EQ(j["per_s"]["syn_retrans"].get<double>(), 20.0);
  EXPECT_EQ(j["listeners"][0]["half_open"], 2);
}

TEST(TopScreen, FitsTheWindowAndDrawsSparklines) {
  top_history h;
  auto a = at(0, 0, 1);
  auto b = at(1, 0, 8);
  h.add(top_figures(nullptr, a));
  h.add(top_figures(&a, b));
  EXPECT_EQ(h.sparkline(5, 10), "\u2582\u2588");  // 1 then 8 of 8
  std::string screen = top_screen(head, &a, b, h, {12, 100});
  EXPECT_EQ(screen.rfind("\033[H", 0), 0u);
  EXPECT_NE(screen.find("synscope top  2026-12-02 06:00:00  netns lab0  every 1s  q quits"), std::string::npos);
  size_t lines = 0;
  for (size_t at_ = screen.find("\033[K"); at_ != std::string::npos; at_ = screen.find("\033[K", at_ + 1)) ++lines;
  EXPECT_EQ(lines, 12u);  // cut at the window's height
}

}  // namespace
}  // namespace synscope::render
