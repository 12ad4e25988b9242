// Fresh loopback traffic in a namespace of the test's own, captured by tcpdump and analyzed by
// synscope and by tshark: normal IPv4 handshakes with data, refused attempts, IPv6, TCP Fast
// Open, and SYN retransmissions provoked by a drop rule. Per connection the two must agree on
// the SYN count, whether the handshake completed, and the initial RTT to the nanosecond
// (pcap's microseconds here).
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "integration/support.h"

namespace synscope::testing {
namespace {

struct tshark_stream {
  std::string client;
  std::string server;
  int syns = 0;
  int64_t irtt_ns = -1;
  bool rst_from_server = false;
  bool synack = false;
};

/// tshark's fields for every frame of `pcap`, one row a frame, one cell a field (empty when absent).
std::vector<std::vector<std::string>> tshark_fields(const std::string& pcap, const std::vector<std::string>& fields) {
  std::vector<std::string> argv{"tshark", "-r", pcap, "-T", "fields", "-E", "separator=/t"};
  for (const auto& f : fields) {
    argv.push_back("-e");
    argv.push_back(f);
  }
  auto t = run_command(argv, 120'000);
  EXPECT_EQ(t.exit_code, 0) << t.err;
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(t.out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '\t')) c.push_back(cell);
    c.resize(fields.size());
    rows.push_back(std::move(c));
  }
  return rows;
}

std::map<int, tshark_stream> tshark_streams(const std::string& pcap) {
  std::map<int, tshark_stream> out;
  for (const auto& c : tshark_fields(pcap, {"tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst",
                                            "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset",
                                            "tcp.analysis.initial_rtt"})) {
    if (c[0].empty()) continue;
    auto& s = out[std::stoi(c[0])];
    std::string src = c[1].empty() ? "[" + c[2] + "]:" + c[3] : c[1] + ":" + c[3];
    std::string dst = c[4].empty() ? "[" + c[5] + "]:" + c[6] : c[4] + ":" + c[6];
    bool syn = c[7] == "1", ack = c[8] == "1", rst = c[9] == "1";
    if (syn && !ack) {
      ++s.syns;
      if (s.client.empty()) {
        s.client = src;
        s.server = dst;
      }
    }
    if (syn && ack) s.synack = true;
    if (rst && src == s.server) s.rst_from_server = true;
    if (!c[10].empty() && s.irtt_ns < 0) s.irtt_ns = tshark_time_ns(c[10]);
  }
  return out;
}

TEST(AnalyzeFreshTraffic, AgreesWithTsharkOnLoopbackCaptures) {
  if (!have_tool("tcpdump") || !have_tool("tshark") || !have_tool("nft")) {
    GTEST_SKIP() << "tcpdump, tshark and nft are needed";
  }
  std::string why;
  auto ns = netns::create(why);
  if (!ns) GTEST_SKIP() << why;
  ASSERT_EQ(ns->run({"sysctl", "-qw", "net.ipv4.tcp_fastopen=3"}).exit_code, 0);
  temp_dir dir;
  std::string pcap = dir.path("fresh.pcap");
  background_process capture(ns->exec({"tcpdump", "-i", "lo", "-nn", "-U", "-Z", "root", "-w", pcap, "tcp"}),
                             dir.path("tcpdump.log"));
  ASSERT_TRUE(capture.wait_for_log("listening on", 20'000)) << capture.log();
  auto probe = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {synscope_binary(), "probe"});
    return ns->run(args, 60'000);
  };
  EXPECT_EQ(probe({"-c", "10", "-i", "5ms", "--data", "hello\n"}).exit_code, 0);   // IPv4 with data
  EXPECT_EQ(probe({"-6", "-c", "5", "-i", "5ms"}).exit_code, 0);                    // IPv6
  EXPECT_EQ(probe({"--fastopen", "-c", "4", "-i", "5ms"}).exit_code, 0);            // TFO
  EXPECT_EQ(probe({"127.0.0.1:1", "-c", "3", "-i", "5ms"}).exit_code, 1);           // refused
  // Last, drop every other bare SYN: each attempt loses its first SYN and retransmits it.
  ASSERT_EQ(ns->run({"nft", "add", "table", "inet", "t"}).exit_code, 0);
  ASSERT_EQ(ns->run({"nft", "add chain inet t input { type filter hook input priority 0; policy accept; }"}).exit_code, 0);
  ASSERT_EQ(ns->run({"nft", "add rule inet t input tcp flags & (syn | ack) == syn numgen inc mod 2 == 0 drop"}).exit_code,
            0);
  EXPECT_EQ(probe({"-c", "2", "-i", "0", "-W", "5"}).exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // libpcap's buffer timeout
  EXPECT_EQ(capture.interrupt(), 0) << capture.log();

  auto ours = run_command({synscope_binary(), "analyze", pcap, "--json"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  std::map<std::string, nlohmann::json> by_pair;
  for (const auto& c : of_type(parse_json_lines(ours.out), "connection")) {
    by_pair[c.at("client").get<std::string>() + " " + c.at("server").get<std::string>()] = c;
  }
  auto theirs = tshark_streams(pcap);
  int complete = 0, refused = 0, retransmitted = 0, v6 = 0, tfo = 0;
  for (const auto& [stream, t] : theirs) {
    if (t.client.empty()) continue;
    SCOPED_TRACE("tshark stream " + std::to_string(stream) + " " + t.client + " -> " + t.server);
    auto it = by_pair.find(t.client + " " + t.server);
    ASSERT_NE(it, by_pair.end()) << "not among synscope's connections";
    const auto& c = it->second;
    EXPECT_EQ(c.at("syn_count"), t.syns);
    if (t.rst_from_server && !t.synack) {
      // tshark gives refused attempts an "initial RTT" from SYN to RST; there was no handshake.
      EXPECT_EQ(c.at("refused"), true);
      EXPECT_TRUE(c.at("initial_rtt_us").is_null());
      ++refused;
      continue;
    }
    bool tshark_complete = t.synack && t.irtt_ns >= 0;
    EXPECT_EQ(c.at("handshake_complete"), tshark_complete);
    if (tshark_complete) {
      ++complete;
      EXPECT_EQ(std::llround(c.at("initial_rtt_us").get<double>() * 1000), t.irtt_ns);
    }
    if (t.syns > 1) ++retransmitted;
    if (t.client.starts_with("[")) ++v6;
    if (c.at("tfo").at("syn_data_acked") == true) ++tfo;
  }
  EXPECT_EQ(complete, 10 + 5 + 4 + 2);
  EXPECT_EQ(refused, 3);
  EXPECT_EQ(retransmitted, 2);
  EXPECT_EQ(v6, 5);
  EXPECT_EQ(tfo, 3);  // the first TFO connect only asks for a cookie
}

TEST(AnalyzeFreshTraffic, ConnectTimeShowsTheStallThatInitialRttLeavesOut) {
  if (!have_tool("tcpdump") || !have_tool("tshark") || !have_tool("nft")) {
    GTEST_SKIP() << "tcpdump, tshark and nft are needed";
  }
  std::string why;
  auto ns = netns::create(why);
  if (!ns) GTEST_SKIP() << why;
  temp_dir dir;
  std::string pcap = dir.path("stalls.pcap");
  background_process server(ns->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:8080", "--mode", "ack"}),
                            dir.path("serve.log"));
  ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000)) << server.log();
  background_process capture(ns->exec({"tcpdump", "-i", "lo", "-nn", "-U", "-Z", "root", "-w", pcap, "tcp"}),
                             dir.path("tcpdump.log"));
  ASSERT_TRUE(capture.wait_for_log("listening on", 20'000)) << capture.log();
  // 40 clients at once; every other first SYN is dropped, so half of them wait 1 s for the
  // retransmission: the stall a user feels, which tshark's initial RTT (from the last SYN)
  // does not show.
  ASSERT_EQ(ns->run({"nft", "add", "table", "inet", "t"}).exit_code, 0);
  ASSERT_EQ(ns->run({"nft", "add chain inet t input { type filter hook input priority 0; policy accept; }"}).exit_code, 0);
  ASSERT_EQ(ns->run({"nft", "add rule inet t input tcp dport 8080 tcp flags & (syn | ack) == syn numgen inc mod 2 == 0 drop"})
                .exit_code,
            0);
  auto b = ns->run({synscope_binary(), "bench", "127.0.0.1:8080", "-n", "40", "-c", "40", "--timeout", "10s"}, 60'000);
  EXPECT_EQ(b.exit_code, 0) << b.err;
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // libpcap's buffer timeout
  EXPECT_EQ(capture.interrupt(), 0) << capture.log();
  EXPECT_EQ(server.interrupt(), 0);

  auto ours = run_command({synscope_binary(), "analyze", pcap, "--json"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  auto lines = parse_json_lines(ours.out);
  auto summary = of_type(lines, "summary").at(0);
  EXPECT_EQ(summary["completed"], 40);
  EXPECT_GE(summary["connect_time_us"]["p99"].get<double>(), 900'000.0) << "the stalls are in the connect time";
  EXPECT_LT(summary["initial_rtt_us"]["p99"].get<double>(), 900'000.0) << "and not in the initial RTT";
  // Per connection, against tshark: the first SYN's time and the completing ACK's (the last
  // SYN's time plus tshark's initial RTT).
  struct stream_times {
    std::string client_port;
    int64_t first_syn = -1;
    int64_t last_syn = -1;
    int64_t irtt = -1;
  };
  std::map<std::string, stream_times> streams;
  for (const auto& c : tshark_fields(pcap, {"tcp.stream", "tcp.srcport", "tcp.flags.syn", "tcp.flags.ack",
                                            "frame.time_epoch", "tcp.analysis.initial_rtt"})) {
    auto& st = streams[c[0]];
    if (c[2] == "1" && c[3] == "0") {  // a SYN
      int64_t at = tshark_time_ns(c[4]);
      if (st.first_syn < 0) {
        st.first_syn = at;
        st.client_port = c[1];
      }
      st.last_syn = at;
    }
    if (!c[5].empty()) st.irtt = tshark_time_ns(c[5]);
  }
  std::map<std::string, std::pair<int64_t, int64_t>> first_and_done;  // client port -> first SYN, completing ACK
  for (const auto& [id, st] : streams) {
    if (st.irtt >= 0) first_and_done[st.client_port] = {st.first_syn, st.last_syn + st.irtt};
  }
  int stalled = 0;
  for (const auto& c : of_type(lines, "connection")) {
    std::string client = c["client"];
    auto it = first_and_done.find(client.substr(client.rfind(':') + 1));
    ASSERT_NE(it, first_and_done.end()) << client;
    int64_t connect_ns = it->second.second - it->second.first;
    EXPECT_EQ(std::llround(c["connect_time_us"].get<double>() * 1000), connect_ns) << client;
    EXPECT_EQ(c["handshake_done_unix_ns"].get<int64_t>(), it->second.second) << client;
    EXPECT_GE(c["connect_time_us"].get<double>(), c["initial_rtt_us"].get<double>());
    if (c["syn_count"].get<int>() > 1) {
      ++stalled;
      EXPECT_GE(c["connect_time_us"].get<double>(), 900'000.0) << client;
    }
  }
  EXPECT_GE(stalled, 15);
  // The summary table, the CSV and the HTML report carry it too.
  auto text = run_command({synscope_binary(), "analyze", pcap});
  EXPECT_NE(text.out.find("connect (first SYN->ACK)"), std::string::npos) << text.out;
  auto csv = run_command({synscope_binary(), "analyze", pcap, "--csv"});
  EXPECT_NE(csv.out.substr(0, csv.out.find('\n')).find(",connect_time_us,handshake_done_unix_ns"), std::string::npos);
  std::string report = dir.path("r.html");
  ASSERT_EQ(run_command({synscope_binary(), "analyze", pcap, "--report", report}).exit_code, 0);
  EXPECT_NE(read_text(report).find("connect time p99"), std::string::npos);
}

}  // namespace
}  // namespace synscope::testing
