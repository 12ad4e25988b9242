// `synscope serve`'s listening line and stats, from results made by hand.
#include "render/serve.h"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

TEST(Serve, ListeningAndStatsAsTextAndJson) {
  active::server_options o;
  o.mode = active::serve_mode::http;
  o.threads = 2;
  o.backlog = 512;
  o.fastopen_qlen = 16;
  std::vector<core::socket_address> bound = {core::loopback_address(core::address_family::ipv4, 8080),
                                             core::loopback_address(core::address_family::ipv6, 8080)};
  EXPECT_EQ(serve_listening_text(o, bound),
            "synscope serve: http on 127.0.0.1:8080, [::1]:8080 (2 threads, backlog 512, fastopen 16)\n");
  auto l = nlohmann::json::parse(serve_listening_json(o, bound, 42));
  EXPECT_EQ(l["pid"], 42);
  EXPECT_EQ(l["listen"], (nlohmann::json{"127.0.0.1:8080", "[::1]:8080"}));

  active::server_stats s;
  s.accepted = 10;
  s.closed = 9;
  s.requests = 10;
  s.errors[ECONNRESET] = 1;
  std::vector<std::pair<std::string, int64_t>> k = {{"TcpExtListenDrops", 0}, {"TcpPassiveOpens", 10}};
  EXPECT_EQ(serve_stats_text(s, k),
            "accepted 10, active 0, peak 0, closed 9, requests 10, idle-closed 0, accept pauses 0\n"
            "errors: ECONNRESET 1\n"
            "kernel, whole namespace, while serving: TcpExtListenDrops +0 TcpPassiveOpens +10\n");
  auto j = nlohmann::json::parse(serve_stats_json(s, k));
  EXPECT_EQ(j["type"], "stats");
  EXPECT_EQ(j["errors"]["ECONNRESET"], 1);
  EXPECT_EQ(j["kernel_delta"]["TcpPassiveOpens"], 10);
}

}  // namespace
}  // namespace synscope::render
