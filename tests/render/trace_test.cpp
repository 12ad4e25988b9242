// synscope trace's output from handshakes made by the real table: moments as *_unix_ns (the
// events' monotonic times plus the offset), null where not seen, and the summary's figures.
#include "render/trace.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

trace::connection_key key() {
  core::ip_address lo{.version = 4, .bytes = {127, 0, 0, 1}};
  return {.netns = 9, .client = {lo, 40000}, .server = {lo, 443}, .isn = 7};
}

TEST(TraceJson, AHandshakeHasItsMomentsOnTheWallClockAndNullsWhereNothingCame) {
  trace::handshakes table(16, 16, {.listen_overflow = 40, .when_completing = {}});
  std::vector<trace::handshake> done;
  auto keep = [&](const trace::handshake& h) { done.push_back(h); };
  table.add({.kind = trace::event_kind::syn, .ts_ns = 1'000, .key = key()}, keep);
  table.add({.kind = trace::event_kind::synack, .ts_ns = 1'250, .key = key()}, keep);
  table.add({.kind = trace::event_kind::drop, .ts_ns = 2'000, .key = key(), .tcp_flags = 0x10, .reason = 40}, keep);
  table.flush(keep);
  ASSERT_EQ(done.size(), 1u);
  trace::reason_names names{.drop = {{40, "TCP_LISTEN_OVERFLOW"}}, .reset = {}};
  auto j = nlohmann::json::parse(handshake_json(done[0], 1'000'000'000, names).str());
  EXPECT_EQ(j["type"], "handshake");
  EXPECT_EQ(j["client"], "127.0.0.1:40000");
  EXPECT_EQ(j["client_isn"], 7);
  EXPECT_EQ(j["outcome"], "dropped");
  EXPECT_EQ(j["syn_unix_ns"], 1'000'001'000);
  EXPECT_EQ(j["syn_to_synack_ns"], 250);
  EXPECT_TRUE(j["ack_unix_ns"].is_null());
  EXPECT_TRUE(j["synack_to_ack_ns"].is_null());
  EXPECT_EQ(j["drop_reason"], "TCP_LISTEN_OVERFLOW");
  EXPECT_EQ(j["acks_overflowed"], 1);
  EXPECT_FALSE(j.contains("pid")) << "only an accepted handshake names who accepted it";

  trace::live_report r;
  r.listeners = table.listeners();
  r.outcomes[trace::handshake_outcome::dropped] = 1;
  std::vector<trace::hook_status> hooks = {{"skb:kfree_skb", "drop", true, ""}, {"syscalls:sys_exit_accept", "accept", false, "No such file"}};
  auto s = nlohmann::json::parse(trace_summary_json(r, hooks, names, {{"TcpExtListenOverflows", 1}}).str());
  EXPECT_EQ(s["listeners"][0]["port"], 443);
  EXPECT_EQ(s["listeners"][0]["accept_queue_drops"], 1);
  EXPECT_EQ(s["listeners"][0]["drops_by_reason"]["TCP_LISTEN_OVERFLOW"], 1);
  EXPECT_EQ(s["hooks"][1]["active"], false);
  EXPECT_EQ(s["hooks"][1]["error"], "No such file");
  EXPECT_EQ(s["kernel_counters"]["TcpExtListenOverflows"], 1);
  std::string text = trace_summary_text(r, hooks, names, {{"TcpExtListenOverflows", 1}});
  EXPECT_NE(text.find("inactive: No such file"), std::string::npos) << text;
  EXPECT_NE(text.find("TCP_LISTEN_OVERFLOW 1"), std::string::npos) << text;
  EXPECT_NE(text.find("TcpExtListenOverflows +1"), std::string::npos) << text;
}

}  // namespace
}  // namespace synscope::render
