// The state machine against RFC 9293 Figure 5: every transition, the paths through it
// (client, server, simultaneous open, simultaneous close), and what it must refuse.
#include "tcp/state_machine.h"

#include <vector>

#include <gtest/gtest.h>

namespace synscope::tcp {
namespace {

using S = tcp_state;
using E = tcp_event;

S run(S start, std::initializer_list<E> events) {
  S s = start;
  for (E e : events) {
    auto n = next_state(s, e);
    EXPECT_TRUE(n.has_value()) << tcp_state_name(s) << " has no transition on " << tcp_event_name(e);
    if (!n) return s;
    s = *n;
  }
  return s;
}

TEST(StateMachine, EveryTransitionOfFigure5) {
  struct row {
    S from;
    E event;
    S to;
  };
  const std::vector<row> figure5 = {
      {S::closed, E::passive_open, S::listen},       {S::closed, E::snd_syn, S::syn_sent},
      {S::listen, E::rcv_syn, S::syn_received},      {S::listen, E::snd_syn, S::syn_sent},
      {S::listen, E::snd_fin, S::closed},            {S::syn_sent, E::rcv_syn, S::syn_received},
      {S::syn_sent, E::rcv_syn_ack, S::established}, {S::syn_sent, E::snd_fin, S::closed},
      {S::syn_received, E::rcv_ack_of_syn, S::established}, {S::syn_received, E::snd_fin, S::fin_wait_1},
      {S::established, E::snd_fin, S::fin_wait_1},   {S::established, E::rcv_fin, S::close_wait},
      {S::fin_wait_1, E::rcv_ack_of_fin, S::fin_wait_2}, {S::fin_wait_1, E::rcv_fin, S::closing},
      {S::fin_wait_1, E::rcv_fin_ack_of_fin, S::time_wait}, {S::fin_wait_2, E::rcv_fin, S::time_wait},
      {S::close_wait, E::snd_fin, S::last_ack},      {S::closing, E::rcv_ack_of_fin, S::time_wait},
      {S::last_ack, E::rcv_ack_of_fin, S::closed},   {S::time_wait, E::timeout_2msl, S::closed},
  };
  for (const auto& r : figure5) {
    auto n = next_state(r.from, r.event);
    ASSERT_TRUE(n.has_value()) << tcp_state_name(r.from) << " + " << tcp_event_name(r.event);
    EXPECT_EQ(*n, r.to) << tcp_state_name(r.from) << " + " << tcp_event_name(r.event);
  }
}

TEST(StateMachine, ClientActiveOpenAndActiveClose) {
  EXPECT_EQ(run(S::closed, {E::snd_syn, E::rcv_syn_ack}), S::established);
  EXPECT_EQ(run(S::established, {E::snd_fin, E::rcv_ack_of_fin, E::rcv_fin}), S::time_wait);
  EXPECT_EQ(run(S::time_wait, {E::timeout_2msl}), S::closed);
}

TEST(StateMachine, ServerPassiveOpenAndPassiveClose) {
  EXPECT_EQ(run(S::closed, {E::passive_open, E::rcv_syn, E::rcv_ack_of_syn}), S::established);
  EXPECT_EQ(run(S::established, {E::rcv_fin, E::snd_fin, E::rcv_ack_of_fin}), S::closed);
}

TEST(StateMachine, SimultaneousOpen) {
  // RFC 9293 Figure 8: both ends send SYN, each receives the other's SYN, then SYN,ACK.
  S a = run(S::closed, {E::snd_syn, E::rcv_syn});
  EXPECT_EQ(a, S::syn_received);
  EXPECT_EQ(run(a, {E::rcv_syn_ack}), S::established);
}

TEST(StateMachine, SimultaneousClose) {
  // RFC 9293 Figure 13: both send FIN; each goes FIN-WAIT-1 -> CLOSING -> TIME-WAIT.
  EXPECT_EQ(run(S::established, {E::snd_fin, E::rcv_fin, E::rcv_ack_of_fin}), S::time_wait);
  EXPECT_EQ(run(S::established, {E::snd_fin, E::rcv_fin_ack_of_fin}), S::time_wait);
}

TEST(StateMachine, ResetEndsEverySynchronizedAndHalfOpenState) {
  for (S s : {S::syn_sent, S::syn_received, S::established, S::fin_wait_1, S::fin_wait_2, S::close_wait, S::closing,
              S::last_ack, S::time_wait}) {
    EXPECT_EQ(next_state(s, E::rcv_rst), S::closed) << tcp_state_name(s);
    EXPECT_EQ(next_state(s, E::abort), S::closed) << tcp_state_name(s);
  }
  EXPECT_FALSE(next_state(S::closed, E::abort).has_value());
}

TEST(StateMachine, NoTransitionWhereTheRfcHasNone) {
  EXPECT_FALSE(next_state(S::closed, E::rcv_syn).has_value());     // CLOSED answers with RST, stays CLOSED
  EXPECT_FALSE(next_state(S::listen, E::rcv_ack_of_syn).has_value());
  EXPECT_FALSE(next_state(S::established, E::rcv_syn).has_value());  // challenge ACK, no state change
  EXPECT_FALSE(next_state(S::established, E::snd_syn).has_value());
  EXPECT_FALSE(next_state(S::time_wait, E::rcv_syn_ack).has_value());
  EXPECT_FALSE(next_state(static_cast<S>(42), E::rcv_syn).has_value());
}

TEST(StateMachine, NamesAsTheRfcWritesThem) {
  EXPECT_STREQ(tcp_state_name(S::syn_received), "SYN-RECEIVED");
  EXPECT_STREQ(tcp_state_name(S::time_wait), "TIME-WAIT");
  EXPECT_STREQ(tcp_event_name(E::rcv_fin_ack_of_fin), "rcv_fin_ack_of_fin");
}

}  // namespace
}  // namespace synscope::tcp
