// The shipped alert rules (deploy/prometheus/alerts.yml) in a real Prometheus that scrapes a real
// synscope exporter, each alert set off by real traffic in a namespace of the test's own. The
// rules are the file's, with the time scale shrunk (windows of 5 m become 10 s, `for:` becomes
// 3 s) so that the test takes two minutes, not two hours; thresholds and floors are untouched.
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

// alerts.yml on a shorter clock: [5m] -> [10s], [1m] -> [5s], every `for:` -> 3s.
std::string shrunk_rules() {
  std::ifstream in(SYNSCOPE_SOURCE_DIR "/deploy/prometheus/alerts.yml");
  std::stringstream text;
  text << in.rdbuf();
  std::string rules = text.str();
  rules = std::regex_replace(rules, std::regex(R"(\[5m\])"), "[10s]");
  rules = std::regex_replace(rules, std::regex(R"(\[1m\])"), "[5s]");
  rules = std::regex_replace(rules, std::regex(R"(for: \d+m)"), "for: 3s");
  return rules;
}

class AlertsFire : public netns_test {
 protected:
  void SetUp() override {
    netns_test::SetUp();
    if (IsSkipped()) return;
    if (!have_tool("prometheus") || !have_tool("curl")) GTEST_SKIP() << "prometheus and curl are needed";
  }
  command_result curl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    return ns_->run(argv, 10'000);
  }
  nlohmann::json query(const std::string& promql) {
    auto r = curl({"-G", "--data-urlencode", "query=" + promql, "http://127.0.0.1:9090/api/v1/query"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success") return nlohmann::json::array();
    return j["data"]["result"];
  }
  // The state Prometheus gives the alert now: "firing", "pending" or "" (inactive).
  std::string state(const std::string& alert) {
    auto r = curl({"http://127.0.0.1:9090/api/v1/alerts"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return "";
    std::string s;
    for (const auto& a : j["data"]["alerts"]) {
      if (a["labels"].value("alertname", "") == alert) s = a.value("state", "");
      if (s == "firing") break;
    }
    return s;
  }
  bool wait_firing(const std::string& alert, int seconds) {
    for (int i = 0; i < seconds * 2; ++i) {
      if (state(alert) == "firing") return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }
  // A listening socket in the namespace that never accepts.
  core::unique_fd listener(uint16_t port, int backlog) {
    return listen_in(ns_->name(), "127.0.0.1:" + std::to_string(port), backlog);
  }
  // An nft rule in the namespace that drops the packets `match` selects on their way in.
  bool drop_arriving(const std::string& match) { return testing::drop_arriving(*ns_, "drop" + std::to_string(++tables_), match); }
  std::unique_ptr<background_process> traffic(const std::string& name, std::vector<std::string> argv) {
    argv.insert(argv.begin(), synscope_binary());
    return std::make_unique<background_process>(ns_->exec(argv), dir_.path(name + ".log"));
  }
  temp_dir dir_;
  int tables_ = 0;
};

TEST_F(AlertsFire, EachAlertFiresFromRealTrafficAndTheProbesSetOffNone) {
  std::string rules = dir_.path("alerts.yml");
  std::ofstream(rules) << shrunk_rules();
  ASSERT_EQ(run_command({"promtool", "check", "rules", rules}).exit_code, 0);
  std::string config = dir_.path("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        << "rule_files:\n  - " << rules << "\n"
                        << "scrape_configs:\n  - job_name: synscope\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:9851']\n";

  // Healthy handshakes all along, 4 a second (8 counted: ActiveOpens and PassiveOpens), so the
  // ratios have their floor; the exporter probes a port where nothing listens, once a second.
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0"}).exit_code, 0);
  auto server = traffic("serve", {"serve", "--listen", "127.0.0.1:8080", "--mode", "ack"});
  ASSERT_TRUE(server->wait_for_log("synscope serve:", 10'000)) << server->log();
  auto exporter = traffic("exporter", {"exporter", "--listen", "127.0.0.1:9851", "--probe", "127.0.0.1:7",
                                       "--probe-interval", "1s", "--probe-timeout", "500ms"});
  ASSERT_TRUE(exporter->wait_for_log("listening on", 10'000)) << exporter->log();
  auto healthy = traffic("healthy", {"probe", "127.0.0.1:8080", "-c", "600", "-i", "250ms", "-q"});
  background_process prom(ns_->exec({"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.path("tsdb"),
                                     "--web.listen-address=127.0.0.1:9090"}),
                          dir_.path("prometheus.log"));
  ASSERT_TRUE(prom.wait_for_log("Server is ready to receive web requests", 30'000)) << prom.log();
  auto rules_loaded = curl({"http://127.0.0.1:9090/api/v1/rules"});
  EXPECT_EQ(rules_loaded.out.find("\"health\":\"err\""), std::string::npos) << rules_loaded.out;

  // 1. The probe of a dead port fails: TcpProbeFailing fires, and the failure ratio, which
  // leaves the probes out, does not. The seed's ratio would (it counts the probes' refusals).
  EXPECT_TRUE(wait_firing("TcpProbeFailing", 40)) << prom.log();
  std::this_thread::sleep_for(std::chrono::seconds(12));  // a whole window of probe failures
  EXPECT_TRUE(query("max_over_time(ALERTS{alertname=\"TcpHandshakeFailureRateHigh\"}[1m])").empty())
      << "the exporter's own probes set off the failure alert";
  auto seeds = query("rate(node_netstat_Tcp_AttemptFails[10s]) / rate(node_netstat_Tcp_ActiveOpens[10s]) > 0.01");
  EXPECT_FALSE(seeds.empty()) << "the seed's ratio, which counts the probes, is over 1 % here";
  auto ours = query("instance_job:tcp_handshake_failures:rate5m / instance_job:tcp_handshakes:rate5m");
  if (!seeds.empty() && !ours.empty()) {
    std::printf("a dead probe target beside 4 healthy connects a second: the seed's failure ratio %s, the shipped one %s\n",
                seeds[0]["value"][1].get<std::string>().c_str(), ours[0]["value"][1].get<std::string>().c_str());
  }
  auto probe_failures = query("sum(synscope_probe_failures_total{reason=\"refused\"})");
  ASSERT_FALSE(probe_failures.empty());
  EXPECT_GE(std::stod(probe_failures[0]["value"][1].get<std::string>()), 10.0);

  // 2. Connects refused ten times a second: TcpHandshakeFailureRateHigh.
  auto refused = traffic("refused", {"probe", "127.0.0.1:9", "-c", "300", "-i", "100ms", "-q"});
  EXPECT_TRUE(wait_firing("TcpHandshakeFailureRateHigh", 40));
  refused->interrupt();

  // 3. SYNs that are lost (dropped on the way in): each connect resends its SYN after 1 s.
  ASSERT_TRUE(drop_arriving("tcp dport 8082 tcp flags syn"));
  auto lossy = traffic("lossy", {"probe", "127.0.0.1:8082", "-c", "200", "-i", "250ms", "-W", "1500ms", "--concurrency",
                                 "8", "-q"});
  EXPECT_TRUE(wait_firing("TcpSynRetransmissions", 40));
  lossy->interrupt();

  // 4. A listener with a backlog of 1 that never accepts, connected to ten times a second.
  auto stuck = listener(8091, 1);
  auto queue = traffic("queue", {"probe", "127.0.0.1:8091", "-c", "300", "-i", "100ms", "-W", "300ms", "-q"});
  EXPECT_TRUE(wait_firing("TcpListenQueueOverflow", 40));
  queue->interrupt();

  // 5. 1,200 connections closed here first, with a local port range of 2,000 ports.
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 41999"}).exit_code, 0);
  auto b = ns_->run({synscope_binary(), "bench", "127.0.0.1:8080", "-n", "1200", "-c", "8"});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_TRUE(wait_firing("TcpTimeWaitHigh", 40));

  // 6. A listener whose SYN-ACKs never reach the clients (dropped on the way in): its SYN queue
  // of 8 fills with half-open connections and the kernel answers with SYN cookies.
  auto flooded = listener(8092, 8);
  ASSERT_TRUE(drop_arriving("tcp sport 8092 tcp flags & (syn | ack) == syn | ack"));
  auto flood = traffic("flood", {"probe", "127.0.0.1:8092", "-c", "600", "-i", "20ms", "-W", "400ms", "--concurrency",
                                 "20", "-q"});
  EXPECT_TRUE(wait_firing("TcpSynFlood", 40));
  flood->interrupt();

  // 7. The exporter stops: SynscopeExporterDown.
  EXPECT_EQ(exporter->interrupt(), 0);
  EXPECT_TRUE(wait_firing("SynscopeExporterDown", 40));

  healthy->interrupt();
  EXPECT_EQ(prom.interrupt(30'000), 0) << prom.log();
  EXPECT_EQ(server->interrupt(), 0);
}

}  // namespace
}  // namespace synscope::testing
