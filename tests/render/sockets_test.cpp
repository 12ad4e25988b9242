// `synscope sockets`' listing, summary and groups, from sockets made by hand.
#include "render/sockets.h"

#include <netinet/tcp.h>

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

kernel::tcp_socket established() {
  kernel::tcp_socket s;
  s.state = kernel::tcp_state::established;
  s.local = {{4, {127, 0, 0, 1}}, 8080};
  s.remote = {{4, {127, 0, 0, 1}}, 40000};
  s.rqueue = 3;
  kernel::tcp_info_view i;
  i.valid = true;
  i.rtt_us = 1500;
  i.rttvar_us = 250;
  i.snd_cwnd = 10;
  i.snd_mss = 32768;
  i.options = TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE;
  i.snd_wscale = 7;
  i.rcv_wscale = 9;
  s.info = i;
  return s;
}

TEST(SocketRow, SsColumnsAndItsInfoLayout) {
  EXPECT_EQ(socket_columns(true, true).size(), 7u);
  EXPECT_EQ(socket_columns(false, false).size(), 5u);
  auto row = socket_row(established(), std::string("12/nginx"), true);
  ASSERT_EQ(row.size(), 7u);
  EXPECT_EQ(row[0], "established");
  EXPECT_EQ(row[3], "127.0.0.1:8080");
  EXPECT_EQ(row[5], "12/nginx");
  EXPECT_EQ(row[6], "rtt:1.500/0.250ms retrans:0/0 cwnd:10 mss:32768 timestamps,sack,wscale:7,9");
  kernel::tcp_socket listener;
  listener.state = kernel::tcp_state::listen;
  listener.local = {{6, {}}, 443};
  listener.remote = {{6, {}}, 0};
  EXPECT_EQ(socket_row(listener, std::nullopt, false)[3], "[::]:443");  // ss's spelling of the wildcard
  EXPECT_EQ(socket_row(listener, std::nullopt, false)[4], "[::]:*");
  listener.local = {{4, {}}, 80};
  listener.remote = {{4, {}}, 0};
  EXPECT_EQ(socket_row(listener, std::nullopt, false)[3], "0.0.0.0:80");
  EXPECT_EQ(socket_row(listener, std::nullopt, false)[4], "0.0.0.0:*");
}

TEST(SocketJson, InfoFieldsOnlyWhenGiven) {
  auto j = nlohmann::json::parse(socket_json(established(), "").str());
  EXPECT_EQ(j["family"], "ipv4");
  EXPECT_EQ(j["recv_q"], 3);
  EXPECT_EQ(j["rtt_us"], 1500);
  EXPECT_EQ(j["snd_wscale"], 7);
  EXPECT_FALSE(j.contains("process"));
  kernel::tcp_socket bare;
  bare.state = kernel::tcp_state::time_wait;
  bare.local = {{6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}}, 1};
  auto b = nlohmann::json::parse(socket_json(bare, "1/x").str());
  EXPECT_EQ(b["family"], "ipv6");
  EXPECT_EQ(b["process"], "1/x");
  EXPECT_FALSE(b.contains("rtt_us"));
}

TEST(SocketSummary, CountsAndListenerNotes) {
  kernel::socket_summary sum;
  sum.counts[static_cast<size_t>(kernel::tcp_state::established)] = {5, 2};
  sum.total = 7 + 2;
  sum.somaxconn = 4096;
  sum.listeners = {{{{4, {}}, 80}, 9, 10, 1}, {{{4, {}}, 81}, 0, 4096, 0}};
  std::string text = socket_summary_text(sum);
  EXPECT_NE(text.find("TCP sockets: 9\n"), std::string::npos) << text;
  EXPECT_NE(text.find("accept queue over 80% full"), std::string::npos) << text;
  EXPECT_NE(text.find("backlog = somaxconn (4096)"), std::string::npos) << text;
  auto j = nlohmann::json::parse(socket_summary_json(sum));
  EXPECT_EQ(j["states"]["established"]["total"], 7);
  EXPECT_EQ(j["listeners"][1]["backlog_capped_by_somaxconn"], true);
  EXPECT_FALSE(j["states"].contains("new-syn-recv"));
}

TEST(SocketGroups, AColumnForEachStateAnyGroupHolds) {
  kernel::socket_group a{"443", 3, {}};
  a.by_state[static_cast<size_t>(kernel::tcp_state::time_wait)] = 3;
  kernel::socket_group b{"80", 1, {}};
  b.by_state[static_cast<size_t>(kernel::tcp_state::established)] = 1;
  std::string text = socket_groups_text({a, b}, "port");
  std::string header = text.substr(0, text.find('\n'));
  EXPECT_NE(header.find("time-wait"), std::string::npos) << text;
  EXPECT_NE(header.find("established"), std::string::npos) << text;
  EXPECT_EQ(header.find("listen"), std::string::npos) << text;
  std::string json = socket_groups_json({a, b}, "port");
  auto first = nlohmann::json::parse(json.substr(0, json.find('\n')));
  EXPECT_EQ(first["port"], "443");
  EXPECT_EQ(first["states"]["time-wait"], 3);
}

}  // namespace
}  // namespace synscope::render
