// `synscope probe`'s lines and statistics, from attempts made by hand.
#include "render/probe.h"

#include <netinet/tcp.h>

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

const core::socket_address target = core::loopback_address(core::address_family::ipv4, 8080);

active::attempt connected(int64_t elapsed_ns, uint32_t rtt_us) {
  active::attempt a;
  a.seq = 3;
  a.result = active::outcome::connected;
  a.elapsed_ns = elapsed_ns;
  a.kernel.valid = true;
  a.kernel.rtt_us = rtt_us;
  a.kernel.options = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK;
  return a;
}

TEST(AttemptLine, LikePingWithTheKernelsView) {
  EXPECT_EQ(attempt_line(connected(52'000, 20), target),
            "127.0.0.1:8080 seq=3 connected time=0.052 ms kernel_rtt=0.020 ms options=timestamps,sack");
  active::attempt retried = connected(1'003'000'000, 1000);
  retried.syn_retransmits = 1;
  EXPECT_EQ(attempt_line(retried, target),
            "127.0.0.1:8080 seq=3 connected time=1003.000 ms kernel_rtt=unknown (SYN retransmitted: no sample, "
            "Karn's rule) options=timestamps,sack syn_retransmits=1 (SYN sent 2 times)");
  active::attempt refused;
  refused.seq = 1;
  refused.result = active::outcome::refused;
  refused.error_number = ECONNREFUSED;
  refused.elapsed_ns = 40'000;
  EXPECT_EQ(attempt_line(refused, target), "127.0.0.1:8080 seq=1 refused (RST) time=0.040 ms");
  active::attempt tfo = connected(60'000, 30);
  tfo.tfo = active::tfo_use::data_in_syn;
  tfo.syn_data_bytes = 15;
  tfo.syn_data_acked = true;
  EXPECT_NE(attempt_line(tfo, target).find(" tfo=data_in_syn(15 B, acked)"), std::string::npos);
}

TEST(AttemptJson, NullsWhereTheKernelGaveNoSample) {
  auto j = nlohmann::json::parse(attempt_json(connected(52'000, 20), target).str());
  EXPECT_EQ(j["type"], "attempt");
  EXPECT_EQ(j["outcome"], "connected");
  EXPECT_DOUBLE_EQ(j["elapsed_us"].get<double>(), 52.0);
  EXPECT_EQ(j["kernel_rtt_us"], 20);
  EXPECT_EQ(j["options"], (nlohmann::json{"timestamps", "sack"}));
  EXPECT_TRUE(j["local"].is_null());
  EXPECT_TRUE(j["error"].is_null());
  active::attempt retried = connected(1'003'000'000, 1000);
  retried.syn_retransmits = 1;
  auto r = nlohmann::json::parse(attempt_json(retried, target).str());
  EXPECT_TRUE(r["kernel_rtt_us"].is_null());
  EXPECT_EQ(r["syn_retransmits"], 1);
}

TEST(ProbeSummary, CountsLossAndTheTable) {
  active::target_stats t;
  t.address = target;
  t.sent = 4;
  t.connected = 3;
  t.refused = 1;
  for (int64_t v : {1'000'000, 2'000'000, 3'000'000}) {
    t.handshake.record(v);
    t.clean.record(v);
  }
  std::string text = probe_summary_text(t);
  EXPECT_NE(text.find("--- 127.0.0.1:8080 probe statistics ---\n4 sent, 3 connected, 1 refused, 0 timed out, 0 "
                      "errors, 25.0% loss\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("no SYN retransmit"), std::string::npos) << text;
  auto j = nlohmann::json::parse(probe_summary_json(t, true).str());
  EXPECT_EQ(j["sent"], 4);
  EXPECT_DOUBLE_EQ(j["loss_pct"].get<double>(), 25.0);
  EXPECT_EQ(j["handshake_us"]["count"], 3);
  EXPECT_DOUBLE_EQ(j["handshake_us"]["p50"].get<double>(), 2000.0);
  EXPECT_TRUE(j["syn_retransmitted_us"]["p50"].is_null());
  EXPECT_EQ(j["stopped"], true);
}

TEST(ProbeHeading, TargetsAttemptsAndTimes) {
  auto v6 = core::loopback_address(core::address_family::ipv6, 8080);
  EXPECT_EQ(probe_heading({target, v6}, false, 5, 200'000'000, 2'000'000'000),
            "PROBE 127.0.0.1:8080, [::1]:8080: 5 attempts each, interval 200 ms, timeout 2 s\n");
  EXPECT_EQ(probe_heading({target}, true, 0, 0, 1'500'000'000),
            "PROBE 127.0.0.1:8080 (synscope's own listener: this kernel's loopback baseline): attempts until Ctrl-C, "
            "interval 0 s, timeout 1.5 s\n");
  EXPECT_EQ(probe_heading({target}, false, 1, 0, 1'000'000'000),
            "PROBE 127.0.0.1:8080: 1 attempt, interval 0 s, timeout 1 s\n");
}

}  // namespace
}  // namespace synscope::render
