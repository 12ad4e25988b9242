// Every capture in ../shared/pcaps through reader -> decoder -> tracker, compared with its
// .truth.tsv (tshark's view of every stream): handshake seen, initial RTT to the microsecond,
// SYN and SYN-ACK counts, refused, data on the SYN. Where tshark is known to be wrong
// (../shared/pcaps/README.md), the test asserts the right answer and says why.
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

#include "integration/support.h"
#include "tcp/tracker.h"
#include "wire/capture_reader.h"

namespace synscope::testing {
namespace {

struct truth_row {
  int stream = 0;
  std::string client;
  std::string server;
  uint32_t syn_count = 0;
  uint32_t synack_count = 0;
  bool complete = false;
  int64_t irtt_ns = -1;
  bool refused = false;
  uint32_t syn_data = 0;
};

std::vector<truth_row> read_truth(const std::string& path) {
  std::vector<truth_row> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> c;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, '\t')) c.push_back(cell);
    c.resize(9);
    truth_row r;
    r.stream = std::stoi(c[0]);
    r.client = c[1];
    r.server = c[2];
    r.syn_count = static_cast<uint32_t>(std::stoul(c[3]));
    r.synack_count = static_cast<uint32_t>(std::stoul(c[4]));
    r.complete = c[5] == "1";
    r.irtt_ns = c[6].empty() ? -1 : tshark_time_ns(c[6]);
    r.refused = c[7] == "1";
    r.syn_data = c[8].empty() ? 0 : static_cast<uint32_t>(std::stoul(c[8]));
    rows.push_back(r);
  }
  return rows;
}

struct collect : tcp::connection_sink {
  std::vector<tcp::connection> all;
  void on_connection(const tcp::connection& c) override { all.push_back(c); }
};

std::vector<tcp::connection> track(const std::string& path) {
  collect sink;
  tcp::tracker t({}, sink);
  auto reader = wire::capture_reader::open(path);
  EXPECT_TRUE(reader.ok()) << reader.error().message;
  if (!reader) return {};
  wire::frame f;
  wire::packet_view p;
  while (true) {
    auto more = reader->next(f);
    EXPECT_TRUE(more.ok()) << more.error().message;
    if (!more.ok() || !*more) break;
    if (wire::decode(f.linktype, f.data, p) == wire::decode_status::tcp) t.add(p, f.ts_ns);
  }
  t.flush();
  std::sort(sink.all.begin(), sink.all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return sink.all;
}

std::string name_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }

TEST(TrackerVsTruth, EverySharedCapture) {
  auto files = shared_captures();
  if (files.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  size_t streams = 0;
  for (const auto& path : files) {
    const std::string name = name_of(path);
    SCOPED_TRACE(name);
    auto truth = read_truth(path + ".truth.tsv");
    auto ours = track(path);
    // Ours with a SYN or a SYN-ACK: the streams tshark's truth lists.
    std::vector<const tcp::connection*> candidates;
    for (const auto& c : ours) {
      if (c.syn_count > 0 || c.synack_count > 0) candidates.push_back(&c);
    }
    std::vector<bool> used(candidates.size(), false);
    for (const auto& row : truth) {
      SCOPED_TRACE("stream " + std::to_string(row.stream) + " " + row.client + " -> " + row.server);
      ++streams;
      std::vector<const tcp::connection*> matches;
      for (size_t i = 0; i < candidates.size(); ++i) {
        const auto* c = candidates[i];
        if (!used[i] && core::to_string(c->client) == row.client && core::to_string(c->server) == row.server) {
          matches.push_back(c);
          used[i] = true;
          if (name != "zeek-vlan-collisions.pcap") break;
        }
      }
      ASSERT_FALSE(matches.empty()) << "no connection of ours matches";
      if (name == "zeek-vlan-collisions.pcap") {
        // tshark joins one 5-tuple seen on three VLANs into one stream and calls two of the
        // SYNs retransmissions. They are three handshakes, one per VLAN.
        ASSERT_EQ(matches.size(), 3u);
        std::set<std::vector<uint16_t>> vlans;
        for (const auto* c : matches) {
          EXPECT_EQ(c->syn_count, 1u);
          EXPECT_EQ(c->synack_count, 1u);
          EXPECT_TRUE(c->handshake_complete);
          EXPECT_EQ(c->state(), tcp::conn_state::sf);
          vlans.insert(std::vector<uint16_t>(c->vlan.begin(), c->vlan.begin() + c->vlan_count));
        }
        EXPECT_EQ(vlans, (std::set<std::vector<uint16_t>>{{}, {42}, {10, 20}}));
        EXPECT_EQ(row.syn_count, 3u);
        continue;
      }
      const tcp::connection& c = *matches.front();
      EXPECT_EQ(c.syn_count, row.syn_count);
      EXPECT_EQ(c.synack_count, row.synack_count);
      EXPECT_EQ(c.syn_data_bytes, row.syn_data);
      if (name == "zeek-rst-inject.pcap") {
        // tshark calls this stream both refused and complete, and its iRTT runs SYN -> RST.
        // A RST came first, but a real SYN-ACK and the client's ACK followed: the handshake
        // completed, so it was not refused; the early RST is flagged as an anomaly.
        EXPECT_TRUE(row.refused && row.complete);
        EXPECT_TRUE(c.handshake_complete);
        EXPECT_FALSE(c.refused);
        EXPECT_NE(c.anomalies & tcp::anomaly::rst_answers_syn, 0u);
        continue;
      }
      EXPECT_EQ(c.handshake_complete, row.complete);
      EXPECT_EQ(c.refused, row.refused);
      if (row.complete) {
        // To the microsecond: the captures' own resolution (or better).
        EXPECT_EQ(c.initial_rtt_ns / 1000, row.irtt_ns / 1000)
            << "ours " << c.initial_rtt_ns << " ns, tshark " << row.irtt_ns << " ns";
      } else {
        EXPECT_EQ(c.initial_rtt_ns, -1) << "no handshake, no initial RTT (tshark reports SYN -> RST on refusals)";
      }
    }
  }
  EXPECT_GT(streams, 600u);
}

}  // namespace
}  // namespace synscope::testing
