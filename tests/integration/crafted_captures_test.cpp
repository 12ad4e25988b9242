// Captures of what the kernel will not make, crafted with scapy (tests/data/craft.py), analyzed
// by the real binary. For encapsulations and link types, tshark is the oracle: it decodes every
// one of them, and synscope must find the same TCP segments, connections and handshake times.
// For the tracking cases, each test says what is right and why (RFC 9293 where tshark and Zeek
// split the connection or give no state).
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

constexpr const char* python = "/usr/bin/python3";  // Debian's, with python3-scapy

class Crafted : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run_command({python, "-c", "import scapy"}).exit_code != 0) GTEST_SKIP() << "python3-scapy is needed";
  }
  std::string make(const std::string& scenario) {
    std::string out = dir_.path(scenario + ".pcap");
    auto r = run_command({python, SYNSCOPE_SOURCE_DIR "/tests/data/craft.py", scenario, out});
    EXPECT_EQ(r.exit_code, 0) << scenario << ": " << r.err;
    return out;
  }
  // analyze --json: the connections, then the summary.
  std::pair<std::vector<nlohmann::json>, nlohmann::json> analyze(const std::string& file) {
    auto r = run_command({synscope_binary(), "analyze", file, "--json"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto lines = parse_json_lines(r.out);
    auto summary = of_type(lines, "summary");
    EXPECT_EQ(summary.size(), 1u) << r.out;
    return {of_type(lines, "connection"), summary.empty() ? nlohmann::json{} : summary[0]};
  }
  temp_dir dir_;
};

// ---- tracking ---------------------------------------------------------------------------

// The short connections end first, yet --json and --csv write connections in id order (the order
// they began); the long one holds the others back and is not lost. (IdOrder.* holds the bound
// on how many are held back.)
TEST_F(Crafted, JsonAndCsvRowsComeInIdOrder) {
  std::string file = make("long-then-short");
  auto [conns, summary] = analyze(file);
  ASSERT_EQ(conns.size(), 5u);
  for (size_t i = 0; i < conns.size(); ++i) EXPECT_EQ(conns[i]["id"], i) << conns[i].dump();
  EXPECT_EQ(conns[0]["client"], "10.0.0.1:39999");
  auto csv = run_command({synscope_binary(), "analyze", file, "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  std::istringstream in(csv.out);
  std::string line;
  std::getline(in, line);  // the header
  for (int id = 0; std::getline(in, line); ++id) EXPECT_EQ(line.substr(0, line.find(',')), std::to_string(id)) << csv.out;
}

TEST_F(Crafted, TheSameSynAfterAResetIsTheSameConnection) {
  // RFC 9293 §3.5: the SYN met a stale ACK, the client reset it and sent the same SYN (same
  // ISN) again, then connected. One connection, its SYN sent twice; before: an RSTO record and
  // a second, midstream one for the rest of the session.
  auto [conns, summary] = analyze(make("same-isn-after-rst"));
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0]["conn_state"], "SF");
  EXPECT_EQ(conns[0]["syn_count"], 2);
  EXPECT_EQ(conns[0]["handshake_complete"], true);
  EXPECT_EQ(conns[0]["initial_rtt_us"], 2000);
  EXPECT_EQ(conns[0]["history"], "SaRhADdFf");
  EXPECT_EQ(conns[0]["anomalies"], nlohmann::json::array({"syn_after_reset"}));
  EXPECT_EQ(summary["completed"], 1);
}

TEST_F(Crafted, ARefusedSynRetriedAndAcceptedIsOneConnection) {
  // The retry has the refused SYN's ISN: the same connection (synscope's rule: a connection is
  // its client's ISN), established; before: REJ, then a midstream record for the session.
  auto [conns, summary] = analyze(make("refused-then-accepted"));
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0]["conn_state"], "SF");
  EXPECT_EQ(conns[0]["refused"], false);
  EXPECT_EQ(conns[0]["syn_count"], 2);
  EXPECT_EQ(conns[0]["ended"], "fin");
  EXPECT_EQ(summary["refused"], 0);
  EXPECT_EQ(summary["completed"], 1);
}

TEST_F(Crafted, SplitHandshakesAndSimultaneousOpensAreEstablishedNotOth) {
  for (const char* scenario : {"split-handshake", "simultaneous-open"}) {
    SCOPED_TRACE(scenario);
    auto [conns, summary] = analyze(make(scenario));
    ASSERT_EQ(conns.size(), 1u);
    std::string state = conns[0]["conn_state"];
    EXPECT_NE(state, "OTH") << "a SYN was seen";
    EXPECT_TRUE(state == "SF" || state == "S1") << state;
    EXPECT_EQ(conns[0]["handshake_complete"], true);
    EXPECT_EQ(conns[0]["anomalies"], nlohmann::json::array({"simultaneous_open"}));
  }
}

TEST_F(Crafted, ASourceRoutedSynGoesToTheRoutesEndNotTheNextHop) {
  // The checksum of each SYN verifies only against the route's last address (RFC 791, RFC 9293
  // §3.1): that is the connection's server. tshark, the oracle, says the same (its ip.dst is
  // the route's end, its checksums good, three streams); before, synscope keyed each SYN on the
  // next hop and made six half records of three handshakes.
  std::string file = make("source-route");
  auto [conns, summary] = analyze(file);
  ASSERT_EQ(conns.size(), 3u);
  for (const auto& c : conns) {
    EXPECT_EQ(c["server"], "10.0.0.2:80");
    EXPECT_EQ(c["handshake_complete"], true);
    EXPECT_EQ(c["syn_count"], 1);
  }
  if (!have_tool("tshark")) return;
  auto t = run_command({"tshark", "-r", file, "-o", "tcp.check_checksum:TRUE", "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                        "-T", "fields", "-e", "ip.dst", "-e", "tcp.checksum.status", "-e", "tcp.stream"});
  EXPECT_EQ(t.out, "10.0.0.2\t1\t0\n10.0.0.2\t1\t1\n10.0.0.2\t1\t2\n");
}

TEST_F(Crafted, TfoDataOnARetransmittedSynIsStillCounted) {
  // 517 bytes on the first SYN, none on its retransmission (as Linux resends a TFO SYN): the
  // data was offered, and not taken (the SYN-ACK acknowledges the SYN alone). tshark agrees
  // that the first SYN carries 517 bytes; before, 0 was reported.
  auto [conns, summary] = analyze(make("tfo-data-not-taken"));
  ASSERT_EQ(conns.size(), 1u);
  EXPECT_EQ(conns[0]["tfo"]["syn_data_bytes"], 517);
  EXPECT_EQ(conns[0]["tfo"]["syn_data_acked"], false);
  EXPECT_EQ(conns[0]["tfo"]["cookie_sent"], true);
  auto lens = run_command({"tshark", "-r", dir_.path("tfo-data-not-taken.pcap"), "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0",
                           "-T", "fields", "-e", "tcp.len"});
  EXPECT_EQ(lens.out, "517\n0\n");
}

TEST_F(Crafted, TimeGoingBackIsCountedAndPairsNothing) {
  // The later file first: its SYN (3,438 s later) must not pair with the earlier file's
  // SYN-ACK on the same tuple and ISN. Before: one connection with an initial RTT that joined
  // the two. Now two, and the jump is in the summary.
  auto [conns, summary] = analyze(make("time-backwards"));
  ASSERT_EQ(conns.size(), 2u);
  EXPECT_EQ(conns[0]["conn_state"], "S0");
  EXPECT_EQ(conns[0]["syn_count"], 1);
  EXPECT_EQ(conns[1]["conn_state"], "SF");
  EXPECT_EQ(conns[1]["initial_rtt_us"], 2000);
  EXPECT_EQ(summary["time_jumps_back"], 1);
  EXPECT_NEAR(summary["largest_jump_back_s"].get<double>(), 3438.0, 0.01);
  auto text = run_command({synscope_binary(), "analyze", dir_.path("time-backwards.pcap")});
  EXPECT_NE(text.out.find("note: time went back 1 time (by up to 3438.0 s)"), std::string::npos) << text.out;
}

// ---- encapsulations and link types: tshark is the oracle ---------------------------------

struct tshark_view {
  size_t tcp_frames = 0;
  std::set<std::string> streams;
  std::map<std::string, int64_t> irtt_ns;  // stream -> initial RTT
};

tshark_view tshark_tcp(const std::string& file) {
  auto r = run_command({"tshark", "-r", file, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream", "-e",
                        "tcp.analysis.initial_rtt"});
  tshark_view v;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    ++v.tcp_frames;
    std::string stream = line.substr(0, line.find('\t'));
    v.streams.insert(stream);
    size_t tab = line.find('\t');
    if (tab != std::string::npos && tab + 1 < line.size()) v.irtt_ns[stream] = tshark_time_ns(line.substr(tab + 1));
  }
  return v;
}

TEST_F(Crafted, EveryTunnelAndLinkTypeTsharkDecodesIsDecoded) {
  if (!have_tool("tshark")) GTEST_SKIP() << "tshark is needed";
  for (const char* scenario : {"gre", "gre-key-seq-ipv6", "gre-bridged", "erspan2", "vxlan", "vlan-in-vxlan", "geneve",
                               "ipip", "pppoe", "mpls", "ipsec-ah", "fragmented-syn-v4", "fragmented-syn-v6",
                               "cisco-hdlc", "ppp", "arcnet-bsd", "arcnet-linux"}) {
    SCOPED_TRACE(scenario);
    std::string file = make(scenario);
    auto theirs = tshark_tcp(file);
    ASSERT_GT(theirs.tcp_frames, 0u) << "tshark decodes it";
    auto [conns, summary] = analyze(file);
    // Every TCP segment tshark sees (a reassembled datagram is one, on its last fragment).
    EXPECT_EQ(summary["decoded"]["tcp"], theirs.tcp_frames);
    ASSERT_EQ(conns.size(), theirs.streams.size());
    EXPECT_EQ(summary["completed"], 1);
    ASSERT_EQ(theirs.irtt_ns.size(), 1u);
    EXPECT_EQ(conns[0]["initial_rtt_us"].get<double>() * 1000.0, static_cast<double>(theirs.irtt_ns.begin()->second));
    EXPECT_EQ(conns[0]["conn_state"], "SF");
    for (const char* not_decoded : {"fragment", "not_ip", "unsupported_link", "malformed", "truncated"}) {
      EXPECT_EQ(summary["decoded"][not_decoded], 0) << not_decoded;
    }
  }
}

TEST_F(Crafted, WhatIsStillNotDecodedIsCountedByReason) {
  // ESP is encrypted: tshark cannot read the TCP inside either. It is counted, and named.
  std::string file = make("esp");
  auto [conns, summary] = analyze(file);
  EXPECT_EQ(conns.size(), 0u);
  EXPECT_EQ(summary["decoded"]["encrypted"], 8);
  auto text = run_command({synscope_binary(), "analyze", file});
  EXPECT_NE(text.out.find("not decoded: 8 IPsec ESP (encrypted)"), std::string::npos) << text.out;
  // Fragments of a datagram never completed are counted as such.
  std::string frags = make("fragmented-syn-v4");
  std::string first_two = dir_.path("first-two-fragments.pcap");
  auto cut = run_command({"editcap", "-r", frags, first_two, "1-2"});
  if (cut.exit_code == 0) {
    auto [c2, s2] = analyze(first_two);
    EXPECT_EQ(s2["decoded"]["fragment"], 2);
    EXPECT_EQ(s2["decoded"]["reassembled_datagrams"], 0);
    auto t2 = run_command({synscope_binary(), "analyze", first_two});
    EXPECT_NE(t2.out.find("not decoded: 2 IP fragments never made whole"), std::string::npos) << t2.out;
  }
}

}  // namespace
}  // namespace synscope::testing
