// Captures that join other tools' records: every connection's community_id against tshark's
// Community ID dissector, and `analyze --zeek` loaded into DuckDB (the npm @duckdb/node-api
// package, tests/js) as Zeek logs are loaded, queried, and joined with `analyze --json` on
// community_id. Every capture in ../shared/pcaps.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/support.h"

namespace synscope::testing {
namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, sep)) out.push_back(cell);
  return out;
}

// "a:p" or "[a]:p", as synscope writes an end.
std::string end_text(const std::string& v4, const std::string& v6, const std::string& port) {
  return v4.empty() ? "[" + v6 + "]:" + port : v4 + ":" + port;
}

TEST(CommunityIdVsTshark, EveryConnectionOfEverySharedCapture) {
  if (!have_tool("tshark")) GTEST_SKIP() << "tshark is not installed";
  auto files = shared_captures();
  if (files.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  size_t compared = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    auto t = run_command({"tshark", "-r", path, "--enable-protocol", "communityid", "-Y", "tcp", "-T", "fields", "-E",
                          "separator=/t", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "ip.dst", "-e",
                          "ipv6.dst", "-e", "tcp.dstport", "-e", "communityid"},
                         120'000);
    std::map<std::pair<std::string, std::string>, std::string> theirs;  // (client, server) either way -> id
    std::istringstream lines(t.out);
    std::string line;
    while (std::getline(lines, line)) {
      auto c = split(line, '\t');
      c.resize(7);
      if (c[6].empty() || line.find(',') != std::string::npos) continue;  // tunnelled: several headers
      std::string a = end_text(c[0], c[1], c[2]), b = end_text(c[3], c[4], c[5]);
      theirs.emplace(std::pair{a, b}, c[6]);
      theirs.emplace(std::pair{b, a}, c[6]);
    }
    auto ours = run_command({synscope_binary(), "analyze", path, "--json"}, 120'000);
    for (const auto& j : of_type(parse_json_lines(ours.out), "connection")) {
      auto it = theirs.find({j["client"].get<std::string>(), j["server"].get<std::string>()});
      if (it == theirs.end()) continue;
      ++compared;
      EXPECT_EQ(j["community_id"], it->second) << j["client"] << " " << j["server"];
    }
  }
  EXPECT_GT(compared, 100u);
  std::printf("community_id compared with tshark's for %zu connections\n", compared);
}

TEST(ZeekConnLog, LoadsIntoDuckDBAndJoinsTheJsonRecordsOnCommunityId) {
  std::string js = SYNSCOPE_SOURCE_DIR "/tests/js";
  if (!have_tool("node") || !std::filesystem::exists(js + "/node_modules/@duckdb/node-api")) {
    GTEST_SKIP() << "node and tests/js/node_modules (scripts/setup.sh: npm ci) are needed";
  }
  auto files = shared_captures();
  if (files.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  temp_dir dir;
  std::vector<std::string> node{"node", js + "/load_conn_log.mjs"};
  struct expected {
    std::map<std::string, int> states;
    uint64_t rows = 0, syns = 0, complete = 0, refused = 0, with_rtt = 0, ipv6 = 0, packets = 0;
  };
  std::map<std::string, expected> want;
  for (size_t i = 0; i < files.size(); ++i) {
    SCOPED_TRACE(files[i]);
    std::string log = dir.path(std::to_string(i) + ".log"), json = dir.path(std::to_string(i) + ".json");
    auto z = run_command({"sh", "-c", "\"$0\" analyze \"$1\" --zeek > \"$2\"", synscope_binary(), files[i], log}, 120'000);
    auto j = run_command({synscope_binary(), "analyze", files[i], "--json"}, 120'000);
    EXPECT_EQ(z.exit_code, j.exit_code) << z.err;
    std::ofstream(json) << j.out;
    // The file as Zeek's ASCII writer lays it out: eight header lines, rows, #close.
    auto text = read_text(log);
    ASSERT_EQ(text.rfind("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#open\t", 0), 0u);
    EXPECT_NE(text.find("\n#close\t"), std::string::npos);
    expected& e = want[log];
    for (const auto& c : of_type(parse_json_lines(j.out), "connection")) {
      ++e.rows;
      ++e.states[c["conn_state"].get<std::string>()];
      e.syns += c["syn_count"].get<uint64_t>();
      e.complete += c["handshake_complete"].get<bool>() ? 1 : 0;
      e.refused += c["refused"].get<bool>() ? 1 : 0;
      e.with_rtt += c["initial_rtt_us"].is_null() ? 0 : 1;
      e.ipv6 += c["server"].get<std::string>().front() == '[' ? 1 : 0;
      e.packets += c["packets_to_server"].get<uint64_t>() + c["packets_to_client"].get<uint64_t>();
    }
    node.push_back(log);
    node.push_back(json);
  }
  auto r = run_command(node, 300'000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t seen = 0;
  uint64_t rows = 0;
  for (const auto& got : parse_json_lines(r.out)) {
    const expected& e = want[got["log"].get<std::string>()];
    SCOPED_TRACE(got.dump());
    auto n = [&](const char* key) { return got[key].is_null() ? 0 : std::stoull(got[key].get<std::string>()); };
    EXPECT_EQ(n("rows"), e.rows);
    EXPECT_EQ(n("uids"), e.rows) << "a uid given twice";
    EXPECT_EQ(n("joined"), e.rows) << "a row that met no JSON record (or more than one) on community_id, ts and port";
    EXPECT_EQ(n("rtt_differ"), 0u);
    EXPECT_EQ(n("state_differ"), 0u);
    EXPECT_EQ(n("syns"), e.syns);
    EXPECT_EQ(n("complete"), e.complete);
    EXPECT_EQ(n("refused"), e.refused);
    EXPECT_EQ(n("with_rtt"), e.with_rtt);
    EXPECT_EQ(n("ipv6"), e.ipv6);
    EXPECT_EQ(n("packets"), e.packets);
    std::map<std::string, int> states;
    for (const auto& [k, v] : got["states"].items()) states[k] = v.get<int>();
    EXPECT_EQ(states, e.states);
    rows += n("rows");
    ++seen;
  }
  EXPECT_EQ(seen, files.size());
  EXPECT_GT(rows, 100u);
}

}  // namespace
}  // namespace synscope::testing
