// synscope exporter against promtool, node_exporter, a real Prometheus server and bad clients,
// in namespaces the tests create.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

// node_netstat_* samples of an exposition: name -> value.
std::map<std::string, double> netstat_samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("node_netstat_", 0) != 0) continue;
    size_t space = line.find(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

class Exporter : public netns_test {
 protected:
  std::unique_ptr<background_process> start(std::vector<std::string> extra, const std::string& log = "exporter.log") {
    std::vector<std::string> argv{synscope_binary(), "exporter", "--listen", "127.0.0.1:9851"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<background_process>(ns_->exec(argv), dir_.path(log));
    EXPECT_TRUE(p->wait_for_log("listening on", 10'000)) << p->log();
    return p;
  }
  command_result curl(std::vector<std::string> args) {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    return ns_->run(argv, 20'000);
  }
  temp_dir dir_;
};

TEST_F(Exporter, PromtoolFindsOnlyNodeExportersOwnCamelCaseNames) {
  if (!have_tool("promtool") || !have_tool("curl")) GTEST_SKIP() << "promtool and curl are needed";
  auto e = start({"--probe", "127.0.0.1:9851"});
  auto scrape = curl({"http://127.0.0.1:9851/metrics"});
  ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
  std::string file = dir_.path("scrape.txt");
  {
    std::ofstream(file) << scrape.out;
  }
  auto check = run_command({"sh", "-c", "promtool check metrics < " + file});
  std::istringstream notes(check.out + check.err);
  std::string line;
  size_t camel = 0;
  while (std::getline(notes, line)) {
    if (line.empty()) continue;
    EXPECT_EQ(line.rfind("node_netstat_", 0), 0u) << "a note on a series of ours: " << line;
    EXPECT_NE(line.find("camelCase"), std::string::npos) << line;
    ++camel;
  }
  EXPECT_GT(camel, 10u);
  EXPECT_NE(scrape.out.find("synscope_tcp_sockets{family=\"ipv4\",state=\"listen\"} 1"), std::string::npos);
  EXPECT_NE(scrape.out.find("synscope_probe_success{target=\"127.0.0.1:9851\"} 1"), std::string::npos);
  EXPECT_NE(scrape.out.find("synscope_scrape_collector_success{collector=\"netstat\"} 1"), std::string::npos);
  // Handshake buckets start at 10 us: a loopback or LAN handshake takes tens of microseconds.
  for (const char* le : {"1e-05", "2.5e-05", "5e-05", "0.0001"}) {
    EXPECT_NE(scrape.out.find(std::string("synscope_probe_handshake_seconds_bucket{target=\"127.0.0.1:9851\",le=\"") +
                              le + "\"}"),
              std::string::npos)
        << le << "\n" << scrape.out;
  }
  EXPECT_EQ(e->interrupt(), 0);
}

TEST_F(Exporter, NodeNetstatSeriesEqualNodeExportersInAQuietNamespace) {
  if (!have_tool("prometheus-node-exporter") || !have_tool("curl")) GTEST_SKIP() << "node_exporter and curl are needed";
  // Both exporters serve from the test's namespace but read a second, quiet one through a
  // process that lives there: scrapes cause no traffic where the counters are.
  std::string why;
  auto quiet = netns::create(why);
  ASSERT_TRUE(quiet) << why;
  ASSERT_EQ(quiet->run({synscope_binary(), "probe", "-c", "20", "-i", "0", "-q"}).exit_code, 0);  // some non-zero values
  background_process sleeper(quiet->exec({"sleep", "60"}), dir_.path("sleeper.log"));
  command_result pids;
  for (int i = 0; i < 100 && pids.out.empty(); ++i) {  // until the sleeper has entered it
    pids = run_command({"ip", "netns", "pids", quiet->name()});
    if (pids.out.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(pids.out.empty());
  std::string proc = "/proc/" + pids.out.substr(0, pids.out.find('\n'));
  auto ours = start({"--proc-root", proc});
  background_process theirs(ns_->exec({"prometheus-node-exporter", "--web.listen-address=127.0.0.1:9100",
                                       "--collector.disable-defaults", "--collector.netstat", "--path.procfs=" + proc}),
                            dir_.path("node_exporter.log"));
  ASSERT_TRUE(theirs.wait_for_log("Listening on", 10'000)) << theirs.log();
  auto a = netstat_samples(curl({"http://127.0.0.1:9851/metrics"}).out);
  auto b = netstat_samples(curl({"http://127.0.0.1:9100/metrics"}).out);
  EXPECT_GT(a.size(), b.size());  // ours adds Tcp_AttemptFails and friends to node_exporter's set
  EXPECT_GT(b.size(), 30u);
  EXPECT_TRUE(a.count("node_netstat_Tcp_AttemptFails"));
  for (const auto& [name, value] : b) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(a.count(name)) << "node_exporter has it, we do not";
    EXPECT_EQ(a[name], value);
  }
  EXPECT_GE(a["node_netstat_Tcp_ActiveOpens"], 20.0);
  EXPECT_EQ(ours->interrupt(), 0);
  theirs.interrupt();
}

// --netns exports another namespace while the HTTP listener stays where the exporter was started
// (where Prometheus scrapes it); --listen-in-netns puts it inside instead.
TEST_F(Exporter, NetnsExportsThatNamespaceAndListensWhereItStarted) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  std::string why;
  auto inner = netns::create(why);
  if (!inner) GTEST_SKIP() << why;
  background_process server(inner->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:7700"}), dir_.path("serve.log"));
  ASSERT_TRUE(server.wait_for_log("synscope serve:", 10'000)) << server.log();
  auto e = start({"--netns", inner->name()});
  EXPECT_NE(e->log().find("listening on http://127.0.0.1:9851/metrics, exporting network namespace " + inner->name()),
            std::string::npos)
      << e->log();
  auto scraped = curl({"http://127.0.0.1:9851/metrics"});  // from the exporter's own namespace
  ASSERT_EQ(scraped.exit_code, 0) << scraped.err;
  EXPECT_NE(scraped.out.find("synscope_tcp_listener_accept_queue_max{listener=\"127.0.0.1:7700\"}"), std::string::npos)
      << "the inner namespace's listener: " << scraped.out.substr(0, 2000);
  EXPECT_EQ(scraped.out.find("listener=\"127.0.0.1:9851\""), std::string::npos) << "its own listener is not in it";
  EXPECT_EQ(e->interrupt(), 0);
  // Inside: reachable from the inner namespace, not from the one it started in.
  auto inside = start({"--netns", inner->name(), "--listen-in-netns"}, "exporter-inside.log");
  auto there = inner->run({"curl", "-sS", "--max-time", "10", "http://127.0.0.1:9851/metrics"});
  EXPECT_EQ(there.exit_code, 0) << there.err;
  EXPECT_NE(there.out.find("listener=\"127.0.0.1:9851\""), std::string::npos);
  EXPECT_NE(curl({"--max-time", "2", "http://127.0.0.1:9851/metrics"}).exit_code, 0) << "not reachable from outside";
  EXPECT_EQ(inside->interrupt(), 0);
  EXPECT_EQ(server.interrupt(), 0);
}

TEST_F(Exporter, APrometheusServerScrapesIt) {
  if (!have_tool("prometheus") || !have_tool("curl")) GTEST_SKIP() << "prometheus and curl are needed";
  auto e = start({});
  std::string config = dir_.path("prometheus.yml");
  {
    std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                          << "rule_files:\n  - " SYNSCOPE_SOURCE_DIR "/deploy/prometheus/alerts.yml\n"
                          << "scrape_configs:\n  - job_name: synscope\n    static_configs:\n"
                          << "      - targets: ['127.0.0.1:9851']\n";
  }
  background_process prom(ns_->exec({"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.path("tsdb"),
                                     "--web.listen-address=127.0.0.1:9090"}),
                          dir_.path("prometheus.log"));
  ASSERT_TRUE(prom.wait_for_log("Server is ready to receive web requests", 30'000)) << prom.log();
  bool up = false;
  bool series = false;
  for (int i = 0; i < 60 && !(up && series); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto q = curl({"http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22synscope%22%7D"});
    up = q.out.find("\"value\":[") != std::string::npos && q.out.find(",\"1\"]") != std::string::npos;
    auto s = curl({"http://127.0.0.1:9090/api/v1/query?query=synscope_tcp_sockets%7Bstate%3D%22listen%22%7D"});
    series = s.out.find("\"state\":\"listen\"") != std::string::npos;
  }
  EXPECT_TRUE(up) << "up == 1 never showed";
  EXPECT_TRUE(series) << "no synscope series in Prometheus";
  // The shipped alert rules load and evaluate; every dashboard query is valid PromQL here.
  auto rules = curl({"http://127.0.0.1:9090/api/v1/rules"});
  for (const char* alert : {"TcpHandshakeFailureRateHigh", "TcpSynRetransmissions", "TcpListenQueueOverflow",
                            "TcpTimeWaitHigh", "TcpSynFlood", "TcpProbeFailing", "SynscopeExporterDown"}) {
    EXPECT_NE(rules.out.find(std::string("\"name\":\"") + alert + "\""), std::string::npos) << alert;
  }
  EXPECT_EQ(rules.out.find("\"health\":\"err\""), std::string::npos) << rules.out;
  std::ifstream dashboard_file(SYNSCOPE_SOURCE_DIR "/deploy/grafana/synscope-dashboard.json");
  auto dashboard = nlohmann::json::parse(dashboard_file);
  size_t queries = 0;
  std::vector<std::string> variables;
  for (const auto& v : dashboard["templating"]["list"]) variables.push_back(v["name"]);
  EXPECT_NE(std::find(variables.begin(), variables.end(), "job"), variables.end());
  auto replace_all = [](std::string text, const std::string& from, const std::string& to) {
    for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
    return text;
  };
  for (const auto& panel : dashboard["panels"]) {
    std::string title = panel["title"];
    // Titles in plain words: no counter names, no state names in capitals but TIME-WAIT, no notes.
    EXPECT_EQ(title.find('_'), std::string::npos) << title;
    EXPECT_EQ(title.find("seed"), std::string::npos) << title;
    EXPECT_EQ(title.find("SYN-RECV"), std::string::npos) << title;
    for (const auto& target : panel["targets"]) {
      std::string expr = target["expr"];
      // Every range is Grafana's $__rate_interval, every selector picks the job and instance.
      for (size_t at = 0; (at = expr.find('[', at)) != std::string::npos; ++at) {
        const std::string range = "[$__rate_interval]";
        EXPECT_EQ(expr.compare(at, range.size(), range), 0) << expr;
      }
      for (size_t at = 0; (at = expr.find('{', at)) != std::string::npos; ++at) {
        if (at > 0 && expr[at - 1] == '{') continue;  // a legend's {{label}}, not here
        const std::string selector = "{job=~\"$job\",instance=~\"$instance\"";
        EXPECT_EQ(expr.compare(at, selector.size(), selector), 0) << expr.substr(at);
      }
      expr = replace_all(expr, "$instance", ".*");
      expr = replace_all(expr, "$job", ".*");
      expr = replace_all(expr, "$__rate_interval", "1m");
      auto q = curl({"-G", "--data-urlencode", "query=" + expr, "http://127.0.0.1:9090/api/v1/query"});
      EXPECT_NE(q.out.find("\"status\":\"success\""), std::string::npos) << expr << "\n" << q.out;
      ++queries;
    }
  }
  EXPECT_GT(queries, 10u);
  EXPECT_EQ(prom.interrupt(30'000), 0) << prom.log();
  EXPECT_EQ(e->interrupt(), 0);
}

TEST_F(Exporter, BadRequestsGetClearAnswers) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  auto e = start({});
  auto code = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-o", "/dev/null", "-w", "%{http_code}"});
    return curl(args).out;
  };
  EXPECT_EQ(code({"http://127.0.0.1:9851/nope"}), "404");
  EXPECT_EQ(code({"-X", "POST", "--data", "x", "http://127.0.0.1:9851/metrics"}), "405");
  EXPECT_EQ(code({"http://127.0.0.1:9851/"}), "200");
  EXPECT_EQ(code({"http://127.0.0.1:9851/healthz"}), "200");
  EXPECT_EQ(code({"-I", "http://127.0.0.1:9851/metrics"}), "200");
  std::string big(20000, 'a');
  std::string oversized = code({"-H", "X-Big: " + big, "http://127.0.0.1:9851/metrics"});
  EXPECT_TRUE(oversized == "431" || oversized == "413") << oversized;
  auto gz = curl({"--compressed", "-D", "-", "http://127.0.0.1:9851/metrics"});
  EXPECT_NE(gz.out.find("Content-Encoding: gzip"), std::string::npos);
  EXPECT_NE(gz.out.find("synscope_tcp_sockets"), std::string::npos);
  auto om = curl({"-H", "Accept: application/openmetrics-text; version=1.0.0", "http://127.0.0.1:9851/metrics"});
  EXPECT_EQ(om.out.substr(om.out.size() - 6), "# EOF\n");
  EXPECT_NE(om.out.find("# TYPE node_netstat_Tcp_ActiveOpens unknown"), std::string::npos);
  EXPECT_EQ(e->interrupt(), 0);
}

TEST_F(Exporter, TenThousandSlowClientsDoNotStallAScrape) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < 12000) GTEST_SKIP() << "the open-file hard limit is below 12000";
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  auto e = start({"--timeout", "30s"});
  // 10,000 connections that send half a request head and then nothing.
  std::vector<core::unique_fd> slow;
  std::thread t([&] {
    core::unique_fd nsfd(open(("/run/netns/" + ns_->name()).c_str(), O_RDONLY | O_CLOEXEC));
    ASSERT_EQ(setns(nsfd.get(), CLONE_NEWNET), 0);
    for (int i = 0; i < 10'000; ++i) {
      core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(9851);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) continue;  // NOLINT
      const char half[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
      (void)send(fd.get(), half, sizeof half - 1, MSG_NOSIGNAL);
      slow.push_back(std::move(fd));
    }
  });
  t.join();
  EXPECT_GT(slow.size(), 9000u);
  auto start_scrape = std::chrono::steady_clock::now();
  auto ok = curl({"-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9851/metrics"});
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_scrape).count();
  EXPECT_EQ(ok.out, "200") << ok.err;
  // Not a speed check: the slow clients hold on for 30 s, so a scrape that had to wait for them
  // to give up would take that long.
  EXPECT_LT(seconds, 20.0) << "the scrape waited behind the slow clients";
  slow.clear();
  EXPECT_EQ(e->interrupt(), 0);
}

}  // namespace
}  // namespace synscope::testing
