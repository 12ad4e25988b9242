// The tracker fed hand-written segments: designated initializers name source and destination,
// so they cannot be swapped by accident.
#include "tcp/tracker.h"
#include "tcp/summary.h"

#include <vector>

#include <gtest/gtest.h>

namespace synscope::tcp {
namespace {

using namespace wire::tcp_flag;

wire::ip_address v4(uint8_t last) {
  wire::ip_address a{4, {}};
  a.bytes[0] = 10;
  a.bytes[3] = last;
  return a;
}

struct seg {
  uint8_t src = 1;
  uint16_t sport = 40000;
  uint8_t dst = 2;
  uint16_t dport = 80;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint32_t len = 0;
  int64_t t_us = 0;
  wire::tcp_options options{};
};

wire::packet_view view_of(const seg& s) {
  wire::packet_view p;
  p.src = v4(s.src);
  p.dst = v4(s.dst);
  p.sport = s.sport;
  p.dport = s.dport;
  p.flags = s.flags;
  p.seq = s.seq;
  p.ack = s.ack;
  p.payload_len = s.len;
  p.options = s.options;
  return p;
}

struct collect : connection_sink {
  std::vector<connection> all;
  void on_connection(const connection& c) override { all.push_back(c); }
};

class TrackerTest : public ::testing::Test {
 protected:
  void feed(std::initializer_list<seg> segments) { feed(t, segments); }
  static void feed(tracker& into, std::initializer_list<seg> segments) {
    for (const auto& s : segments) into.add(view_of(s), s.t_us * 1000);
  }
  const connection& only() {
    t.flush();
    EXPECT_EQ(sink.all.size(), 1u);
    return sink.all.at(0);
  }
  collect sink;
  tracker t{tracker_options{}, sink};
};

// Client 10.0.0.1:40000 (ISN 100) -> server 10.0.0.2:80 (ISN 500).
const seg c_syn{.flags = syn, .seq = 100, .t_us = 0};
const seg s_synack{.src = 2, .sport = 80, .dst = 1, .dport = 40000, .flags = syn | ack, .seq = 500, .ack = 101, .t_us = 30};
const seg c_ack{.flags = ack, .seq = 101, .ack = 501, .t_us = 45};
const seg c_fin{.flags = fin | ack, .seq = 101, .ack = 501, .t_us = 100};
const seg s_finack{.src = 2, .sport = 80, .dst = 1, .dport = 40000, .flags = fin | ack, .seq = 501, .ack = 102, .t_us = 120};
const seg c_lastack{.flags = ack, .seq = 102, .ack = 502, .t_us = 130};

TEST_F(TrackerTest, NormalHandshakeAndCloseIsSF) {
  feed({c_syn, s_synack, c_ack, c_fin, s_finack, c_lastack});
  const auto& c = only();
  EXPECT_EQ(c.state(), conn_state::sf);
  EXPECT_EQ(c.history_string(), "ShAFf");
  EXPECT_TRUE(c.handshake_complete);
  EXPECT_EQ(c.initial_rtt_ns, 45'000);
  EXPECT_EQ(c.server_rtt_ns, 30'000);
  EXPECT_EQ(c.client_rtt_ns, 15'000);
  EXPECT_EQ(c.client_isn, 100u);
  EXPECT_EQ(c.server_isn, 500u);
  EXPECT_EQ(c.ended, end_reason::fin);
  EXPECT_EQ(c.client_tcp, tcp_state::time_wait);  // the active closer
  EXPECT_EQ(c.server_tcp, tcp_state::closed);     // LAST-ACK, then our ACK
  EXPECT_EQ(c.to_server.packets, 4u);
  EXPECT_EQ(c.to_client.packets, 2u);
  EXPECT_EQ(c.anomalies, 0u);
}

TEST_F(TrackerTest, UnansweredSynIsS0) {
  feed({c_syn, seg{.flags = syn, .seq = 100, .t_us = 1'000'000}});
  const auto& c = only();
  EXPECT_EQ(c.state(), conn_state::s0);
  EXPECT_EQ(c.syn_count, 2u);
  EXPECT_FALSE(c.handshake_complete);
  EXPECT_EQ(c.initial_rtt_ns, -1);
}

TEST_F(TrackerTest, SynRetransmissionIsExcludedFromInitialRtt) {
  seg again = c_syn;
  again.t_us = 1'000'000;
  seg sa = s_synack;
  sa.t_us = 1'000'020;
  seg a = c_ack;
  a.t_us = 1'000'030;
  feed({c_syn, again, sa, a});
  const auto& c = only();
  EXPECT_EQ(c.syn_count, 2u);
  EXPECT_EQ(c.initial_rtt_ns, 30'000);  // from the last SYN, as tshark measures it
  EXPECT_EQ(c.first_syn_ns, 0);
  EXPECT_EQ(c.state(), conn_state::s1);
}

TEST_F(TrackerTest, RefusedIsREJ) {
  feed({c_syn, seg{.src = 2, .sport = 80, .dst = 1, .dport = 40000, .flags = rst | ack, .seq = 0, .ack = 101, .t_us = 20}});
  const auto& c = only();
  EXPECT_EQ(c.state(), conn_state::rej);
  EXPECT_TRUE(c.refused);
  EXPECT_NE(c.anomalies & anomaly::rst_answers_syn, 0u);
  EXPECT_EQ(c.initial_rtt_ns, -1);
  EXPECT_EQ(c.ended, end_reason::reset);
}

TEST_F(TrackerTest, ClientResetsItsOwnSynIsRSTOS0) {
  feed({c_syn, seg{.flags = rst, .seq = 101, .t_us = 10}});
  EXPECT_EQ(only().state(), conn_state::rstos0);
}

TEST_F(TrackerTest, ResetsAfterEstablishmentAreRSTOAndRSTR) {
  feed({c_syn, s_synack, c_ack, seg{.flags = rst | ack, .seq = 101, .ack = 501, .t_us = 50}});
  EXPECT_EQ(only().state(), conn_state::rsto);
  sink.all.clear();
  tracker t2{tracker_options{}, sink};
  feed(t2, {c_syn, s_synack, c_ack,
            seg{.src = 2, .sport = 80, .dst = 1, .dport = 40000, .flags = rst, .seq = 501, .t_us = 50}});
  t2.flush();
  ASSERT_EQ(sink.all.size(), 1u);
  EXPECT_EQ(sink.all[0].state(), conn_state::rstr);
}

TEST_F(TrackerTest, SynThenFinWithoutAnswerIsSH) {
  feed({c_syn, seg{.flags = fin, .seq = 101, .t_us = 10}});
  EXPECT_EQ(only().state(), conn_state::sh);
}

TEST_F(TrackerTest, MidstreamIsOTHAndGuessesServerByPort) {
  feed({seg{.src = 2, .sport = 80, .dst = 1, .dport = 40000, .flags = ack, .seq = 900, .ack = 50, .len = 10}});
  const auto& c = only();
  EXPECT_EQ(c.state(), conn_state::oth);
  EXPECT_EQ(c.server.port, 80);
  EXPECT_EQ(c.syn_count, 0u);
}

TEST_F(TrackerTest, SynAckWithoutSynIsNotAHandshake) {
  feed({s_synack, c_ack});
  const auto& c = only();
  EXPECT_FALSE(c.handshake_complete);
  EXPECT_NE(c.anomalies & anomaly::synack_without_syn, 0u);
  EXPECT_EQ(c.client.port, 40000);  // the SYN-ACK's receiver
}

TEST_F(TrackerTest, ReorderedSynAckIsFlaggedButCompletes) {
  seg sa = s_synack;
  sa.t_us = 0;
  seg s = c_syn;
  s.t_us = 5;
  feed({sa, s, c_ack});
  const auto& c = only();
  EXPECT_TRUE(c.handshake_complete);
  EXPECT_EQ(c.initial_rtt_ns, 40'000);
  EXPECT_NE(c.anomalies & anomaly::synack_before_syn, 0u);
}

TEST_F(TrackerTest, WrongAcknowledgementNumbersAreAnomalies) {
  seg bad_sa = s_synack;
  bad_sa.ack = 777;
  seg bad_ack = c_ack;
  bad_ack.ack = 999;
  feed({c_syn, bad_sa, bad_ack});
  const auto& c = only();
  EXPECT_NE(c.anomalies & anomaly::synack_wrong_ack, 0u);
  EXPECT_NE(c.anomalies & anomaly::ack_not_isn_plus_1, 0u);
}

TEST_F(TrackerTest, PortReuseWithNewIsnStartsANewConnection) {
  seg syn2 = c_syn;
  syn2.seq = 9000;
  syn2.t_us = 200;
  feed({c_syn, s_synack, c_ack, c_fin, s_finack, c_lastack, syn2});
  t.flush();
  ASSERT_EQ(sink.all.size(), 2u);
  EXPECT_EQ(sink.all[0].client_isn, 100u);
  EXPECT_EQ(sink.all[1].client_isn, 9000u);
  EXPECT_EQ(sink.all[1].id, 1u);
  EXPECT_EQ(sink.all[0].anomalies & anomaly::syn_new_isn_live, 0u);  // it had closed
}

TEST_F(TrackerTest, NewIsnOnALiveConnectionIsFlagged) {
  seg syn2 = c_syn;
  syn2.seq = 9000;
  syn2.t_us = 200;
  feed({c_syn, s_synack, c_ack, syn2});
  t.flush();
  ASSERT_EQ(sink.all.size(), 2u);
  EXPECT_NE(sink.all[0].anomalies & anomaly::syn_new_isn_live, 0u);
  EXPECT_EQ(sink.all[0].ended, end_reason::superseded);
}

TEST_F(TrackerTest, FastOpenCookieAndDataOnSyn) {
  wire::tcp_options cookie{};
  cookie.has_fastopen = true;
  cookie.fastopen_cookie_len = 8;
  seg tfo_syn{.flags = syn, .seq = 100, .len = 18, .t_us = 0, .options = cookie};
  seg sa = s_synack;
  sa.ack = 100 + 1 + 18;  // acknowledges the data too
  feed({tfo_syn, sa});
  const auto& c = only();
  EXPECT_TRUE(c.tfo_cookie_sent);
  EXPECT_EQ(c.syn_data_bytes, 18u);
  EXPECT_TRUE(c.syn_data_acked);
  EXPECT_EQ(c.anomalies & anomaly::synack_wrong_ack, 0u);
}

TEST_F(TrackerTest, ClosedConnectionsLeaveAfterTheLinger) {
  feed({c_syn, s_synack, c_ack, c_fin, s_finack, c_lastack});
  EXPECT_EQ(t.open_connections(), 1u);
  feed({seg{.src = 3, .sport = 1, .dst = 4, .dport = 2, .flags = syn, .seq = 1, .t_us = 2'500'000}});
  EXPECT_EQ(sink.all.size(), 1u);  // emitted 2 s after it closed
  EXPECT_EQ(t.open_connections(), 1u);
}

TEST_F(TrackerTest, MemoryFollowsConcurrencyNotTotal) {
  // 100000 short connections, one at a time, 1 ms apart: never more than a handful held.
  for (uint32_t i = 0; i < 100'000; ++i) {
    uint16_t port = static_cast<uint16_t>(1024 + i % 60000);
    int64_t t0 = static_cast<int64_t>(i) * 1000;
    feed({seg{.sport = port, .flags = syn, .seq = i, .t_us = t0},
          seg{.src = 2, .sport = 80, .dst = 1, .dport = port, .flags = syn | ack, .seq = 7, .ack = i + 1, .t_us = t0 + 1},
          seg{.sport = port, .flags = ack, .seq = i + 1, .ack = 8, .t_us = t0 + 2},
          seg{.sport = port, .flags = rst, .seq = i + 1, .t_us = t0 + 3}});
  }
  EXPECT_LE(t.stats().peak_open, 2'100u);  // 2 s of linger at 1000 connections/s
  t.flush();
  EXPECT_EQ(sink.all.size(), 100'000u);
}

TEST_F(TrackerTest, IdleConnectionsAreEvicted) {
  tracker_options o;
  o.idle_timeout_ns = 10'000'000'000;
  tracker quick(o, sink);
  wire::packet_view p;
  p.src = v4(1);
  p.dst = v4(2);
  p.sport = 40000;
  p.dport = 80;
  p.flags = syn;
  quick.add(p, 0);
  p.sport = 40001;
  quick.add(p, 11'000'000'000);
  ASSERT_EQ(sink.all.size(), 1u);
  EXPECT_EQ(sink.all[0].ended, end_reason::idle);
  EXPECT_EQ(quick.stats().evicted_idle, 1u);
}

}  // namespace
}  // namespace synscope::tcp

namespace synscope::tcp {
namespace {

// A flood of half-open connections from 1,000 spoofed ports: with max_open 100 the tracker
// never holds more than 100, finishes the least recently active first, and still reports
// every connection exactly once, each as the half-open attempt it was.
TEST(TrackerCapacity, MaxOpenBoundsWhatIsHeldAndLosesNothing) {
  struct counting : connection_sink {
    std::vector<connection> all;
    void on_connection(const connection& c) override { all.push_back(c); }
  } sink;
  tracker_options o;
  o.max_open = 100;
  tracker t(o, sink);
  size_t most = 0;
  for (uint16_t i = 0; i < 1000; ++i) {
    wire::packet_view p;
    p.src = wire::ip_address{4, {10, 0, 0, 1}};
    p.dst = wire::ip_address{4, {10, 0, 0, 2}};
    p.sport = static_cast<uint16_t>(20000 + i);
    p.dport = 80;
    p.flags = wire::tcp_flag::syn;
    p.seq = 1000u * i;
    t.add(p, int64_t{i} * 1000);
    most = std::max(most, t.open_connections());
  }
  EXPECT_EQ(most, 100u);
  EXPECT_EQ(t.stats().evicted_full, 900u);
  ASSERT_EQ(sink.all.size(), 900u);
  EXPECT_EQ(sink.all.front().client.port, 20000);  // the oldest went first
  EXPECT_EQ(sink.all.back().client.port, 20899);
  t.flush();
  ASSERT_EQ(sink.all.size(), 1000u);
  for (const auto& c : sink.all) EXPECT_EQ(c.state(), conn_state::s0);
}

// A quiet stretch is zeros on the timeline: seconds 0 and 3 busy, 1 and 2 there with nothing;
// a data segment alone makes no second of its own at either end.
TEST(SummaryTimeline, QuietSecondsBetweenBusyOnesAreZeros) {
  summary_builder b;
  auto at = [&](uint16_t flags, int64_t ns) { b.add_segment(view_of(seg{.flags = flags}), ns); };
  const int64_t base = 1'700'000'000'000'000'000;
  at(ack, base - 2'000'000'000);  // data before the first handshake event
  at(syn, base);
  at(syn, base + 3'500'000'000);
  at(ack, base + 6'000'000'000);  // and after the last
  auto s = b.finish();
  ASSERT_EQ(s.timeline.size(), 4u);
  EXPECT_EQ(s.timeline[0].syns, 1u);
  EXPECT_EQ(s.timeline[1].syns + s.timeline[1].resets + s.timeline[1].synacks, 0u);
  EXPECT_EQ(s.timeline[2].syns, 0u);
  EXPECT_EQ(s.timeline[3].syns, 1u);
  EXPECT_EQ(s.timeline[3].second, s.timeline[0].second + 3);
}

}  // namespace
}  // namespace synscope::tcp
