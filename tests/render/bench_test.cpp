// `synscope bench`'s text, JSON and HTML, from a load report made by hand.
#include "render/bench.h"

#include <cerrno>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace synscope::render {
namespace {

TEST(Bench, TextJsonAndHtmlSayTheSameRun) {
  active::load_options o;
  o.target = core::loopback_address(core::address_family::ipv4, 8080);
  o.mode = active::load_mode::connect;
  o.concurrency = 4;
  active::load_report r;
  r.started = 1000;
  r.succeeded = 990;
  r.failed = 10;
  r.connections = 990;
  r.errors[EADDRNOTAVAIL] = 10;
  r.elapsed_ns = 500'000'000;
  for (int i = 0; i < 990; ++i) r.handshake.record(100'000);
  bench_result b{o, r, {{"TcpExtListenDrops", 0}, {"TcpExtTW", 990}}};

  std::string text = bench_text(b);
  EXPECT_EQ(text.rfind("synscope bench 127.0.0.1:8080: connect, closed loop, concurrency 4, 1 thread\n", 0), 0u) << text;
  EXPECT_NE(text.find("started 1000, succeeded 990, failed 10 in 0.500 s: 1980 connections/s (990 connections)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("errors: EADDRNOTAVAIL 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("kernel, whole namespace, during the run: ListenDrops +0 TW +990\n"), std::string::npos) << text;

  auto j = nlohmann::json::parse(bench_json(b));
  EXPECT_EQ(j["succeeded"], 990);
  EXPECT_DOUBLE_EQ(j["per_s"].get<double>(), 1980.0);
  EXPECT_EQ(j["loop"], "closed");
  EXPECT_EQ(j["kernel_delta"]["TcpExtTW"], 990);
  EXPECT_EQ(j["ports_exhausted"], ports_exhausted_fix);
  EXPECT_DOUBLE_EQ(j["handshake_us"]["p50"].get<double>(), 100.0);

  std::string html = bench_html(b);
  EXPECT_NE(html.find("<h1>synscope bench 127.0.0.1:8080</h1>"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  // The page carries what the text does: parameters, the percentile table, errors, kernel deltas.
  EXPECT_NE(html.find("<tr><td>concurrency</td><td>4</td></tr>"), std::string::npos) << html;
  EXPECT_NE(html.find("<th>p99.9 ms</th>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>handshake</td><td>990</td><td>0.100</td>"), std::string::npos) << html;
  EXPECT_NE(html.find("<tr><td>EADDRNOTAVAIL</td><td>10</td></tr>"), std::string::npos);
  EXPECT_NE(html.find("<tr><td>TcpExtTW</td><td>+990</td></tr>"), std::string::npos);
}

TEST(Bench, HttpStatusIsCountedAsAbCountsNon2xx) {
  active::load_options o;
  o.target = core::loopback_address(core::address_family::ipv4, 8080);
  o.mode = active::load_mode::request;
  active::load_report r;
  r.started = r.succeeded = 10;
  r.elapsed_ns = 1'000'000'000;
  r.http_status = {{200, 7}, {301, 1}, {503, 2}};
  r.chunked_replies = 4;
  bench_result b{o, r, {}};
  std::string text = bench_text(b);
  EXPECT_NE(text.find("HTTP status: 200 7 301 1 503 2  (non-2xx responses: 3); 4 chunked\n"), std::string::npos) << text;
  auto j = nlohmann::json::parse(bench_json(b));
  EXPECT_EQ(j["http_status"]["503"], 2);
  EXPECT_EQ(j["non_2xx"], 3);
  EXPECT_EQ(j["chunked_replies"], 4);
  r.http_status.clear();
  EXPECT_FALSE(nlohmann::json::parse(bench_json({o, r, {}})).contains("http_status")) << "not HTTP: no field";
}

TEST(BenchProgress, CountRateTimeTakenAndLeft) {
  EXPECT_EQ(bench_progress(5000, 10000, 2'000'000'000, 0), "[##########----------] 5000/10000  2500/s  2.0 s, ETA 2.0 s");
  EXPECT_EQ(bench_progress(0, 10000, 0, 0), "[--------------------] 0/10000  0/s  0.0 s, ETA -");
  // The duration ends it before the count would: its end is the ETA.
  EXPECT_EQ(bench_progress(1000, 10000, 1'000'000'000, 3'000'000'000), "[##------------------] 1000/10000  1000/s  1.0 s, ETA 2.0 s");
  EXPECT_EQ(bench_progress(5000, 0, 2'000'000'000, 10'000'000'000), "5000  2500/s  2.0 s of 10.0 s");
}

}  // namespace
}  // namespace synscope::render
