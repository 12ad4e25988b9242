// A capture's connections as --json, --csv and --connections write them, from a real analysis.
#include "render/connection.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/community_id.h"
#include "core/endpoint.h"
#include "render/json.h"
#include "render/text_cursor.h"
#include "tcp/analyzer.h"

namespace synscope::render {
namespace {

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1) out.push_back(line.substr(start, tab - start));
  out.push_back(line.substr(start));
  return out;
}

class keep : public tcp::connection_sink {
 public:
  void on_connection(const tcp::connection& c) override { all.push_back(c); }
  std::vector<tcp::connection> all;
};

std::vector<tcp::connection> connections_of(const std::string& name) {
  tcp::analyze_options o;
  o.inputs = {std::string(SYNSCOPE_SHARED_DIR) + "/pcaps/" + name};
  o.threads = 1;
  keep k;
  auto r = tcp::analyze(o, &k, {});
  if (!r) throw std::runtime_error(r.error().message);
  return k.all;
}

// RFC 4180 cells of one line (quotes doubled inside quoted cells).
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

TEST(ConnectionJson, EveryFieldFromTheRecord) {
  auto all = connections_of("kernel-tfo.pcap");
  ASSERT_FALSE(all.empty());
  for (const auto& c : all) {
    auto j = nlohmann::json::parse(connection_json(c));
    EXPECT_EQ(j["type"], "connection");
    EXPECT_EQ(j["id"], c.id);
    EXPECT_EQ(j["client"], core::to_string(c.client));
    EXPECT_EQ(j["server"], core::to_string(c.server));
    EXPECT_EQ(j["conn_state"], tcp::conn_state_name(c.state()));
    EXPECT_EQ(j["history"], c.history_string());
    EXPECT_EQ(j["handshake_complete"], c.handshake_complete);
    if (c.initial_rtt_ns >= 0) {
      EXPECT_NEAR(j["initial_rtt_us"].get<double>(), static_cast<double>(c.initial_rtt_ns) / 1e3, 1e-3);
    } else {
      EXPECT_TRUE(j["initial_rtt_us"].is_null());
    }
    EXPECT_EQ(j["tfo"]["syn_data_bytes"], c.syn_data_bytes);
    EXPECT_EQ(j["client_options"]["seen"], c.client_options.seen);
  }
}

// The longest line either writer can make: the longest endpoints inet_ntop writes, three VLAN
// tags, every anomaly, a full history and the largest numbers. It must fit the room analyze
// gives a line, with a margin (the bound is documented as under 2 KB).
TEST(ConnectionLine, TheLongestLineFitsItsRoom) {
  tcp::connection c;
  c.id = UINT64_MAX;
  core::ip_address ip{6, {}};
  ip.bytes.fill(0xff);
  ip.bytes[15] = 0xfe;
  c.client = {ip, 65535};
  c.server = {ip, 65534};
  c.vlan = {65535, 65535, 65535};
  c.vlan_count = 3;
  c.first_ns = INT64_MIN;
  c.last_ns = INT64_MAX;
  c.first_syn_ns = 0;
  c.handshake_ack_ns = INT64_MAX;
  c.syn_count = c.synack_count = c.client_isn = c.server_isn = c.syn_data_bytes = UINT32_MAX;
  c.have_client_isn = c.have_server_isn = c.handshake_complete = true;
  c.initial_rtt_ns = c.server_rtt_ns = c.client_rtt_ns = INT64_MAX;
  for (auto* o : {&c.client_options, &c.server_options}) {
    o->seen = o->mss = o->wscale = o->sack_permitted = o->timestamps = o->fastopen = o->mptcp = true;
    o->mss_value = 65535;
    o->wscale_value = 255;
  }
  c.history.fill('S');
  c.history.back() = '\0';
  c.history_len = 31;
  c.to_server = c.to_client = {UINT64_MAX, UINT64_MAX};
  c.anomalies = (1u << tcp::anomaly_count) - 1;
  c.ended = tcp::end_reason::capture_end;
  for (bool json : {true, false}) {
    std::string room(max_connection_line, '\xaa');
    char* end = json ? write_connection_json(room.data(), c) : write_csv_line(room.data(), c);
    size_t n = static_cast<size_t>(end - room.data());
    EXPECT_LT(n, 2048u) << (json ? "json" : "csv");
    std::string line = room.substr(0, n);
    if (json) {
      auto j = nlohmann::json::parse(line);
      EXPECT_EQ(j["anomalies"].size(), tcp::anomaly_count);
      EXPECT_EQ(j["client"], "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535");
      EXPECT_EQ(j["vlan"].size(), 3u);
      EXPECT_EQ(j["bytes_to_client"].get<uint64_t>(), UINT64_MAX);
    } else {
      auto cells = csv_cells(line);
      ASSERT_EQ(cells.size(), 24u) << line;
      EXPECT_EQ(cells[20], tcp::anomaly_names(c.anomalies));
      EXPECT_EQ(cells[3], "65535.65535.65535");
    }
  }
}

// Durations: the cursor writes what json_object writes, and "%.3f" for CSV.
TEST(ConnectionLine, MicrosecondsAsTheGeneralWritersWriteThem) {
  for (int64_t ns : {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{100}, int64_t{999}, int64_t{1000}, int64_t{1001},
                     int64_t{240250}, int64_t{5000}, int64_t{123456789}, int64_t{-1500}, INT64_MAX}) {
    char text[64];
    text_cursor at(text);
    at.micros_trimmed(ns);
    EXPECT_EQ(json_object().micros("k", ns).str(), "{\"k\":" + std::string(text, at.size_from(text)) + "}") << ns;
    if (ns < 0) continue;
    text_cursor fixed(text);
    fixed.micros_fixed(ns);
    char printed[64];
    std::snprintf(printed, sizeof printed, "%lld.%03lld", static_cast<long long>(ns / 1000), static_cast<long long>(ns % 1000));
    EXPECT_EQ(std::string(text, fixed.size_from(text)), printed) << ns;
  }
}

TEST(ConnectionCsv, AHeaderAndOneLineAConnectionWithTheSameColumns) {
  auto all = connections_of("kernel-normal-v4v6.pcap");
  ASSERT_FALSE(all.empty());
  auto header = csv_cells(csv_header());
  EXPECT_EQ(header.front(), "id");
  EXPECT_EQ(header.size(), 24u);
  EXPECT_EQ(header.back(), "community_id");
  for (const auto& c : all) {
    auto cells = csv_cells(csv_line(c));
    ASSERT_EQ(cells.size(), header.size()) << csv_line(c);
    EXPECT_EQ(cells[0], std::to_string(c.id));
    EXPECT_EQ(cells[1], core::to_string(c.client));
    EXPECT_EQ(cells[12], tcp::conn_state_name(c.state()));
    EXPECT_EQ(cells[23], core::community_id(c.server, c.client, 6));
    EXPECT_NE(csv_cells(csv_line(c, 1))[23], cells[23]) << "the seed changes it";
  }
}

TEST(ConnectionZeek, ZeeksHeaderAndARowPerConnectionWithEveryColumn) {
  auto all = connections_of("kernel-normal-v4v6.pcap");
  ASSERT_FALSE(all.empty());
  std::string header = zeek_header(1'700'000'000'123'456'789);
  std::istringstream in(header);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "#separator \\x09");
  EXPECT_EQ(lines[5], "#open\t2023-11-14-22-13-20");
  auto fields = split_tabs(lines[6]);
  auto types = split_tabs(lines[7]);
  ASSERT_EQ(fields.size(), types.size());
  EXPECT_EQ(fields[0], "#fields");
  EXPECT_EQ(fields[1], "ts");
  EXPECT_EQ(fields[12], "conn_state");
  EXPECT_EQ(fields[22], "community_id");
  EXPECT_EQ(zeek_footer(1'700'000'001'000'000'000), "#close\t2023-11-14-22-13-21");
  for (const auto& c : all) {
    std::string row;
    append_zeek_line(row, c);
    auto cells = split_tabs(row);
    ASSERT_EQ(cells.size(), fields.size() - 1) << row;
    EXPECT_EQ(cells[2], core::to_string(c.client.address));
    EXPECT_EQ(cells[3], std::to_string(c.client.port));
    EXPECT_EQ(cells[6], "tcp");
    EXPECT_EQ(cells[7], "-");
    EXPECT_EQ(cells[11], tcp::conn_state_name(c.state()));
    EXPECT_EQ(cells[15], c.history_string());
    EXPECT_EQ(cells[21], core::community_id(c.client, c.server, 6));
    EXPECT_EQ(cells[1].front(), 'C');
  }
}

TEST(ConnectionZeek, TimesAreRoundedToTheMicrosecondAndEmptyAndUnsetAreZeeks) {
  tcp::connection c;
  c.first_ns = 1'000'000'000'999'999'500;  // rounds up across the second
  c.last_ns = c.first_ns;                   // no duration: unset, as Zeek leaves it
  c.initial_rtt_ns = 1'499;                 // 0.000001
  c.handshake_complete = true;
  std::string row;
  append_zeek_line(row, c);
  auto cells = split_tabs(row);
  EXPECT_EQ(cells[0], "1000000001.000000");
  EXPECT_EQ(cells[8], "-");
  EXPECT_EQ(cells[15], "(empty)") << "no history letter";
  EXPECT_EQ(cells[31], "0.000001");  // initial_rtt
  EXPECT_EQ(cells[35], "(empty)") << "no anomaly: the empty set";
}

TEST(ConnectionCsv, ACellWithACommaOrQuoteIsQuoted) {
  tcp::connection c;
  c.anomalies = ~uint32_t{0};  // every anomaly: their names are joined with commas
  std::string line = csv_line(c);
  auto cells = csv_cells(line);
  ASSERT_EQ(cells.size(), 24u) << line;
  EXPECT_EQ(cells[20], tcp::anomaly_names(c.anomalies));
  EXPECT_NE(cells[20].find(','), std::string::npos);
}

TEST(ConnectionTable, SortedByIdOneRowEach) {
  auto all = connections_of("kernel-normal-v4v6.pcap");
  std::reverse(all.begin(), all.end());
  std::string text = connection_table(all);
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line.find("id"), line.find_first_not_of(' '));
  size_t rows = 0;
  uint64_t last = 0;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" -") == std::string::npos) continue;  // a rule under the header
    uint64_t id = std::stoull(line);
    EXPECT_GE(id, last);
    last = id;
    ++rows;
  }
  EXPECT_EQ(rows, all.size());
}

}  // namespace
}  // namespace synscope::render
