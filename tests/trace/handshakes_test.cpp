#include "trace/handshakes.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "trace/bpf/events.h"

namespace synscope::trace {
namespace {

constexpr uint8_t syn = 0x02, ack = 0x10;

connection_key key(uint16_t client_port, uint32_t isn = 1000, uint16_t server_port = 8080) {
  core::ip_address lo{.version = 4, .bytes = {127, 0, 0, 1}};
  return {.netns = 7, .client = {lo, client_port}, .server = {lo, server_port}, .isn = isn};
}

event at(event_kind kind, int64_t ts, const connection_key& k) { return {.kind = kind, .ts_ns = ts, .key = k}; }

struct collected {
  std::vector<handshake> done;
  handshakes::done_fn fn() {
    return [this](const handshake& h) { done.push_back(h); };
  }
};

TEST(Handshakes, TheFourMomentsMakeOneAcceptedHandshakeAndTheListenersThreeIntervals) {
  handshakes t;
  collected out;
  auto k = key(40000);
  t.add(at(event_kind::syn, 1'000, k), out.fn());
  t.add(at(event_kind::synack, 1'500, k), out.fn());
  t.add(at(event_kind::established, 101'500, k), out.fn());
  EXPECT_TRUE(out.done.empty()) << "in the accept queue: not finished yet";
  event a = at(event_kind::accept, 5'101'500, k);
  a.pid = 42;
  a.comm = "nginx";
  t.add(a, out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  const handshake& h = out.done[0];
  EXPECT_EQ(h.outcome(), handshake_outcome::accepted);
  EXPECT_EQ(h.syn_ns, 1'000);
  EXPECT_EQ(h.synack_ns, 1'500);
  EXPECT_EQ(h.ack_ns, 101'500);
  EXPECT_EQ(h.accept_ns, 5'101'500);
  EXPECT_EQ(h.comm, "nginx");
  EXPECT_EQ(t.pending(), 0u);
  const listener_stats& ls = t.listeners().at({7, 8080});
  EXPECT_EQ(ls.syn_to_synack.max(), 500);
  EXPECT_EQ(ls.synack_to_ack.max(), 100'000);
  EXPECT_EQ(ls.ack_to_accept.max(), 5'000'000);
  EXPECT_EQ(ls.accepted, 1u);
}

TEST(Handshakes, AnAcceptBeforeTheEstablishedEventWaitsForIt) {
  // The child is queued before tcp_child_process marks it ESTABLISHED; another CPU's accept()
  // can come first in the ring buffer.
  handshakes t;
  collected out;
  auto k = key(40001);
  t.add(at(event_kind::syn, 10, k), out.fn());
  t.add(at(event_kind::synack, 20, k), out.fn());
  t.add(at(event_kind::accept, 95, k), out.fn());
  EXPECT_TRUE(out.done.empty());
  t.add(at(event_kind::established, 100, k), out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  EXPECT_EQ(t.listeners().at({7, 8080}).ack_to_accept.max(), 0) << "clamped, not negative";
}

TEST(Handshakes, SynAckRetransmissionsAndTheListenOverflowDropOfTheAckAreCounted) {
  handshakes t(16, 16, {.listen_overflow = 40, .when_completing = {}});
  collected out;
  auto k = key(40002, 5000);
  t.add(at(event_kind::syn, 0, k), out.fn());
  t.add(at(event_kind::synack, 10, k), out.fn());
  event drop = at(event_kind::drop, 20, k);  // the ACK (seq = ISN + 1) dropped: accept queue full
  drop.tcp_flags = ack;
  drop.reason = 40;
  t.add(drop, out.fn());
  t.add(at(event_kind::synack_retransmit, 1'000'010, k), out.fn());
  t.add(at(event_kind::synack, 1'000'011, k), out.fn());
  t.flush(out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  const handshake& h = out.done[0];
  EXPECT_EQ(h.outcome(), handshake_outcome::dropped);
  EXPECT_EQ(h.synack_retransmits, 1u);
  EXPECT_EQ(h.synacks, 2u);
  EXPECT_EQ(h.synack_ns, 10) << "the first SYN-ACK";
  EXPECT_EQ(h.last_synack_ns, 1'000'011);
  EXPECT_EQ(h.drop_reason, 40u);
  const listener_stats& ls = t.listeners().at({7, 8080});
  EXPECT_EQ(ls.drops_by_reason.at(40), 1u);
  EXPECT_EQ(ls.synack_retransmits, 1u);
  EXPECT_EQ(h.acks_overflowed, 1u);
  EXPECT_EQ(ls.accept_queue_drops(), 1u);
}

TEST(Handshakes, AnAckDroppedForAnotherReasonIsNoOverflow) {
  handshakes t(16, 16, {.listen_overflow = 40, .when_completing = {}});
  collected out;
  auto k = key(40005);
  t.add(at(event_kind::syn, 0, k), out.fn());
  t.add(at(event_kind::synack, 10, k), out.fn());
  event drop = at(event_kind::drop, 20, k);
  drop.tcp_flags = ack;
  drop.reason = 12;  // a firewall's
  t.add(drop, out.fn());
  EXPECT_EQ(t.listeners().at({7, 8080}).accept_queue_drops(), 0u);
}

TEST(Handshakes, ACookiesCompletingSegmentDroppedWithNoSocketIsAnOverflowAndOnlyThatOne) {
  handshakes t(16, 16, {.listen_overflow = 40, .when_completing = {3}});
  collected out;
  auto k = key(40008);
  t.add(at(event_kind::syn, 0, k), out.fn());
  t.add(at(event_kind::synack, 10, k), out.fn());  // a cookie's SYN-ACK: no request socket kept
  event completing = at(event_kind::drop, 20, k);
  completing.tcp_flags = ack;
  completing.reason = 3;  // NO_SOCKET, from cookie_v4_check: no child for a full queue
  t.add(completing, out.fn());
  event later = at(event_kind::drop, 30, k);
  later.key.isn = k.isn + 1;  // a segment after one byte of data: not the completing one
  later.tcp_flags = ack;
  later.reason = 3;
  t.add(later, out.fn());
  event overflow = later;  // TCP_LISTEN_OVERFLOW counts whichever segment it was
  overflow.reason = 40;
  t.add(overflow, out.fn());
  EXPECT_EQ(t.listeners().at({7, 8080}).acks_overflowed, 2u);
}

// A SYN the kernel drops for a full accept queue is freed as consumed: no drop event, no answer.
TEST(Handshakes, SynsAnsweredByNothingAreCountedAtTheNextSynAndAtTheEnd) {
  handshakes t;
  collected out;
  auto k = key(40006);
  t.add(at(event_kind::syn, 0, k), out.fn());
  t.add(at(event_kind::syn, 1'000'000'000, k), out.fn());  // retransmitted: the first had no answer
  EXPECT_EQ(t.listeners().at({7, 8080}).syns_unanswered, 1u);
  t.add(at(event_kind::syn, 3'000'000'000, k), out.fn());
  t.flush(out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  EXPECT_EQ(out.done[0].syns_unanswered, 3u);
  EXPECT_EQ(out.done[0].outcome(), handshake_outcome::dropped);
  EXPECT_EQ(t.listeners().at({7, 8080}).accept_queue_drops(), 3u);

  auto answered = key(40007);  // a SYN-ACK answers; so does a reset
  t.add(at(event_kind::syn, 0, answered), out.fn());
  t.add(at(event_kind::synack, 5, answered), out.fn());
  t.add(at(event_kind::syn, 1'000'000'000, answered), out.fn());
  t.add(at(event_kind::synack, 1'000'000'005, answered), out.fn());
  t.flush(out.fn());
  EXPECT_EQ(out.done.back().syns_unanswered, 0u);
}

TEST(Handshakes, ARefusedSynIsAResetHandshakeAndADataDropOpensNone) {
  handshakes t;
  collected out;
  auto k = key(40003, 77, 9);
  t.add(at(event_kind::syn, 0, k), out.fn());
  event rst = at(event_kind::reset, 5, k);
  rst.tcp_flags = syn;
  rst.reason = 2;
  t.add(rst, out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  EXPECT_EQ(out.done[0].outcome(), handshake_outcome::reset);
  EXPECT_EQ(out.done[0].reset_reason, 2u);
  // The kernel frees the refused SYN after the reset: counted, but no second handshake.
  event freed = at(event_kind::drop, 6, k);
  freed.tcp_flags = syn;
  freed.reason = 3;
  t.add(freed, out.fn());
  t.flush(out.fn());
  EXPECT_EQ(out.done.size(), 1u);
  EXPECT_EQ(t.listeners().at({7, 9}).drops_by_reason.at(3), 1u);

  event data_drop = at(event_kind::drop, 9, key(40004, 123, 9));
  data_drop.tcp_flags = 0x08;  // PSH alone: not a handshake's segment
  t.add(data_drop, out.fn());
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.listeners().at({7, 9}).drops(), 2u) << "counted for the listener all the same";

  // A segment to a port no SYN came to (a client's ephemeral port): no listener row.
  event to_client = at(event_kind::drop, 10, key(40005, 5, 51234));
  to_client.tcp_flags = ack;
  t.add(to_client, out.fn());
  event reset_to_client = at(event_kind::reset, 11, key(40005, 5, 51234));
  reset_to_client.tcp_flags = ack;
  t.add(reset_to_client, out.fn());
  EXPECT_EQ(t.listeners().count({7, 51234}), 0u);
  EXPECT_EQ(t.listeners().size(), 1u);
}

TEST(Handshakes, IdleOnesExpireOldestFirstAndTheTableIsBounded) {
  handshakes t(2);
  collected out;
  t.add(at(event_kind::syn, 10, key(1)), out.fn());
  t.add(at(event_kind::syn, 30, key(2)), out.fn());
  t.add(at(event_kind::syn, 19, key(3)), out.fn());  // pushes out the one that came first: key(1)
  t.add(at(event_kind::synack, 20, key(3)), out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  EXPECT_EQ(out.done[0].key.client.port, 1);
  EXPECT_EQ(t.evicted(), 1u);
  t.expire(25, out.fn());
  ASSERT_EQ(out.done.size(), 2u);
  EXPECT_EQ(out.done[1].key.client.port, 3);
  EXPECT_EQ(out.done[1].outcome(), handshake_outcome::incomplete);
  EXPECT_EQ(t.pending(), 1u);
}

// A flood of SYNs from addresses that never answer: the table stays at its bound, each SYN
// costs the same (no search for the oldest), and handshakes that finished are not evicted.
TEST(Handshakes, AFloodKeepsTheTableBoundedAndEvictsInTheOrderTheyCame) {
  handshakes t(1000);
  collected out;
  for (uint32_t i = 0; i < 200'000; ++i) {
    auto k = key(static_cast<uint16_t>(i % 60000), i);
    int64_t ts = i + 1;  // 0 is "not seen"
    t.add(at(event_kind::syn, ts, k), out.fn());
    if (i % 3 == 0) {  // a third complete and are accepted at once
      t.add(at(event_kind::synack, ts, k), out.fn());
      t.add(at(event_kind::established, ts, k), out.fn());
      t.add(at(event_kind::accept, ts, k), out.fn());
    }
  }
  EXPECT_LE(t.pending(), 1000u);
  uint64_t accepted = 0;
  for (const auto& h : out.done) accepted += h.outcome() == handshake_outcome::accepted;
  EXPECT_EQ(accepted, 66'667u) << "every accepted one handed on once, none evicted";
  EXPECT_EQ(t.evicted(), 200'000u - 66'667u - t.pending());
  int64_t last = -1;
  for (const auto& h : out.done) {
    if (h.outcome() == handshake_outcome::accepted) continue;
    EXPECT_GT(h.syn_ns, last) << "evicted in the order they came";
    last = h.syn_ns;
  }
}

TEST(Handshakes, ListenersPastTheLimitShareOneRow) {
  handshakes t(16, 2);
  collected out;
  for (uint16_t port : {uint16_t{80}, uint16_t{443}, uint16_t{8080}, uint16_t{9090}}) t.add(at(event_kind::syn, 1, key(1, 1, port)), out.fn());
  EXPECT_EQ(t.listeners().size(), 3u);
  EXPECT_EQ(t.listeners().at({0, 0}).syns, 2u);
}

TEST(Handshakes, AConnectionAcceptedThatBeganBeforeTheTraceIsHandedOnAtOnce) {
  handshakes t;
  collected out;
  t.add(at(event_kind::accept, 5, key(50000)), out.fn());
  ASSERT_EQ(out.done.size(), 1u);
  EXPECT_EQ(out.done[0].outcome(), handshake_outcome::accepted);
  EXPECT_EQ(t.listeners().at({7, 8080}).ack_to_accept.count(), 0u);
}

synscope_event record(uint8_t kind, uint8_t family) {
  synscope_event r{};
  r.kind = kind;
  r.family = family;
  r.ts_ns = 123;
  r.netns = 4026531840U;
  r.isn = 0xdeadbeef;
  r.client_port = 40000;
  r.server_port = 80;
  std::memcpy(r.comm, "0123456789abcdef", 16);  // the kernel's comm fills all 16 bytes, no NUL
  return r;
}

std::span<const std::byte> bytes(const synscope_event& r) { return {reinterpret_cast<const std::byte*>(&r), sizeof r}; }

TEST(DecodeEvent, AnIpv4MappedAddressOfAnIpv6SocketIsGivenAsIpv4) {
  auto r = record(SYNSCOPE_EV_ACCEPT, 10);
  const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
  std::memcpy(r.client_addr, mapped, 16);
  std::memcpy(r.server_addr, mapped, 16);
  auto e = decode_event(bytes(r));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, event_kind::accept);
  EXPECT_EQ(core::to_string(e->key.client), "10.1.2.3:40000");
  EXPECT_EQ(e->key.isn, 0xdeadbeefU);
  EXPECT_EQ(e->comm, "0123456789abcdef");
}

TEST(DecodeEvent, ShortRecordsUnknownKindsAndFamiliesAreRefused) {
  auto r = record(SYNSCOPE_EV_SYN, 2);
  EXPECT_TRUE(decode_event(bytes(r)));
  EXPECT_FALSE(decode_event(bytes(r).first(sizeof r - 1)));
  EXPECT_FALSE(decode_event(bytes(record(0, 2))));
  EXPECT_FALSE(decode_event(bytes(record(SYNSCOPE_EV_RESET + 1, 2))));
  EXPECT_FALSE(decode_event(bytes(record(SYNSCOPE_EV_SYN, 7))));
}

TEST(ReasonNames, UnknownNumbersAreWrittenAsNumbers) {
  reason_names n{.drop = {{40, "TCP_LISTEN_OVERFLOW"}}, .reset = {{2, "NO_SOCKET"}}};
  EXPECT_EQ(n.drop_name(40), "TCP_LISTEN_OVERFLOW");
  EXPECT_EQ(n.drop_name(41), "41");
  EXPECT_EQ(n.reset_name(2), "NO_SOCKET");
  EXPECT_EQ(n.reset_name(0), "");
}

}  // namespace
}  // namespace synscope::trace
