#include "trace/trace_file.h"

#include <gtest/gtest.h>

namespace synscope::trace {
namespace {

TEST(TraceFile, HandshakesAreReadWithTheirKeyAndMomentsAndOtherLinesSkipped) {
  auto r = read_trace_json(
      "{\"type\":\"interval\",\"syn\":1}\n"
      "\n"
      "{\"type\":\"handshake\",\"client\":\"127.0.0.1:1\",\"server\":\"127.0.0.1:2\",\"client_isn\":4294967295,"
      "\"syn_unix_ns\":10,\"synack_unix_ns\":20,\"last_synack_unix_ns\":20,\"ack_unix_ns\":null,"
      "\"drop_unix_ns\":30,\"drop_reason\":\"TCP_LISTEN_OVERFLOW\",\"accept_unix_ns\":40,\"comm\":\"nginx\"}\n",
      "t.jsonl");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 1u);
  const auto& h = (*r)[0];
  EXPECT_EQ(h.client, "127.0.0.1:1");
  EXPECT_EQ(h.client_isn, 4294967295U);
  ASSERT_EQ(h.moments.size(), 4u) << "the last SYN-ACK, being the first, is drawn once; null is no moment";
  EXPECT_EQ(h.moments[2].second, "dropped (TCP_LISTEN_OVERFLOW)");
  EXPECT_EQ(h.moments[3].second, "accept() returned it to nginx");
}

TEST(TraceFile, BadLinesAreErrorsNamingTheLine) {
  auto not_json = read_trace_json("{\"type\":\"summary\"}\nsynscope: tracing handshakes\n", "t.jsonl");
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().code, core::exit_code::bad_data);
  EXPECT_EQ(not_json.error().message, "t.jsonl line 2: not a JSON object (synscope trace --json writes one a line)");
  auto no_key = read_trace_json("{\"type\":\"handshake\",\"client\":\"a\",\"server\":\"b\",\"client_isn\":-1}", "t");
  ASSERT_FALSE(no_key);
  EXPECT_NE(no_key.error().message.find("without its key"), std::string::npos);
  auto too_big = read_trace_json("{\"type\":\"handshake\",\"client\":\"a\",\"server\":\"b\",\"client_isn\":4294967296}", "t");
  EXPECT_FALSE(too_big);
  auto bad_time = read_trace_json(
      "{\"type\":\"handshake\",\"client\":\"a\",\"server\":\"b\",\"client_isn\":1,\"syn_unix_ns\":\"soon\"}", "t");
  ASSERT_FALSE(bad_time);
  EXPECT_EQ(bad_time.error().message, "t line 1: syn_unix_ns is not an integer");
}

}  // namespace
}  // namespace synscope::trace
