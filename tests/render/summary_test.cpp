// The capture summary as `analyze` and `capture` print it, from a real analysis of shared
// captures: the text names the figures the report holds, and the JSON says the same numbers.
#include "render/summary.h"

#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

tcp::analyze_report analyzed(const std::string& name) {
  tcp::analyze_options o;
  o.inputs = {std::string(SYNSCOPE_SHARED_DIR) + "/pcaps/" + name};
  o.threads = 1;
  auto r = tcp::analyze(o, nullptr, {});
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

TEST(SummaryText, FirstLineHandshakesAndTables) {
  auto r = analyzed("kernel-refused.pcap");
  ASSERT_GT(r.result.refused, 0u);
  std::string text = summary_text(r, "1 file", 0.25);
  EXPECT_EQ(text.rfind(fmt::format("1 file, {} packets ({} TCP), {} connections, in 0.25 s\n", r.frames,
                                   r.inputs[0].decoded[0], r.result.connections),
                       0),
            0u)
      << text;
  tcp::analyze_report one;
  one.frames = 1;
  one.result.connections = 1;
  one.inputs.resize(1);
  EXPECT_EQ(summary_text(one, "1 file", 0).rfind("1 file, 1 packet (0 TCP), 1 connection, in 0.00 s\n", 0), 0u);
  EXPECT_NE(text.find(fmt::format("handshakes: {} attempted, {} completed ({:.1f}%), {} refused", r.result.attempts,
                                  r.result.completed, 100.0 * r.result.success_rate(), r.result.refused)),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("REJ"), std::string::npos) << text;  // the outcome table has the refused ones
  EXPECT_NE(text.find("top refused ports:"), std::string::npos) << text;
  EXPECT_NE(text.find("initial rtt (SYN->ACK)"), std::string::npos) << text;
  EXPECT_NE(text.find("timeline (UTC, per second):"), std::string::npos) << text;
}

TEST(SummaryText, SaysWhatWasNotDecodedAndWhatWasReassembled) {
  tcp::analyze_report r;
  tcp::input_report in;
  in.frames = 10;
  in.decoded[static_cast<size_t>(wire::decode_status::tcp)] = 4;
  in.decoded[static_cast<size_t>(wire::decode_status::malformed)] = 3;
  in.decoded[static_cast<size_t>(wire::decode_status::fragment)] = 3;
  in.reassembly.fragments = 3;
  in.reassembly.datagrams = 1;  // two fragments went into a whole datagram, one did not
  r.inputs.push_back(in);
  r.frames = 10;
  std::string text = summary_text(r, "1 file", 0);
  EXPECT_NE(text.find("10 packets (4 TCP)"), std::string::npos) << text;
  EXPECT_NE(text.find(fmt::format("not decoded: 1 {} never made whole, 3 {}\n",
                                  wire::decode_status_meaning(wire::decode_status::fragment),
                                  wire::decode_status_meaning(wire::decode_status::malformed))),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("reassembled: 1 IP datagrams from 3 fragments\n"), std::string::npos) << text;
}

TEST(SummaryJson, TheSameNumbersAsTheReport) {
  for (const char* name : {"kernel-normal-v4v6.pcap", "kernel-synretrans.pcap", "kernel-halfopen.pcap"}) {
    auto r = analyzed(name);
    auto j = nlohmann::json::parse(summary_json(r).str());
    EXPECT_EQ(j["type"], "summary");
    EXPECT_EQ(j["packets"], r.frames) << name;
    EXPECT_EQ(j["connections"], r.result.connections) << name;
    EXPECT_EQ(j["attempts"], r.result.attempts) << name;
    EXPECT_EQ(j["completed"], r.result.completed) << name;
    EXPECT_EQ(j["refused"], r.result.refused) << name;
    EXPECT_EQ(j["initial_rtt_us"]["count"], r.result.initial_rtt.count()) << name;
    uint64_t retransmitted = 0;
    for (const auto& [n, c] : r.result.syn_retransmits) retransmitted += c;
    uint64_t in_json = 0;
    for (const auto& [k, v] : j["syn_retransmits"].items()) in_json += v.get<uint64_t>();
    EXPECT_EQ(in_json, retransmitted) << name;
    EXPECT_TRUE(j["error"].is_null()) << name;
    EXPECT_EQ(j["timeline"].size(), r.result.timeline.size()) << name;
  }
}

TEST(Interval, ALineASecondAndItsJson) {
  tcp::interval_report w;
  w.time_unix_ns = 0;
  w.syns = 10;
  w.completed = 9;
  w.source.dropped = 2;
  std::string quiet = interval_text(w);
  EXPECT_NE(quiet.find("syn/s     10"), std::string::npos) << quiet;
  EXPECT_NE(quiet.find("rtt p50 - p99 -  drops 2"), std::string::npos) << quiet;
  auto j = nlohmann::json::parse(interval_json(w).str());
  EXPECT_TRUE(j["rtt_p50_us"].is_null());
  EXPECT_EQ(j["kernel_drops"], 2);
  w.rtt.record(1'500'000);
  EXPECT_NE(interval_text(w).find("rtt p50 1.500 ms p99 1.500 ms"), std::string::npos) << interval_text(w);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(interval_json(w).str())["rtt_p99_us"].get<double>(), 1500.0);
}

}  // namespace
}  // namespace synscope::render
