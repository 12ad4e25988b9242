// The shipped alert rules (deploy/prometheus/alerts.yml) in a real Prometheus that scrapes a real
// synscope exporter, each alert set off by real traffic in a namespace of the test's own. The
// rules are the file's, with the time scale shrunk (windows of 5 m become 10 s, `for:` becomes
// 3 s) so that the test takes two minutes, not two hours; thresholds and floors are untouched.
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cmath>
#include <fstream>
#include <map>
#include <regex>
#include <optional>
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
  // The label sets of the alert's firing instances.
  std::vector<std::map<std::string, std::string>> firing(const std::string& alert) {
    std::vector<std::map<std::string, std::string>> out;
    auto r = curl({"http://127.0.0.1:9090/api/v1/alerts"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return out;
    for (const auto& a : j["data"]["alerts"]) {
      if (a["labels"].value("alertname", "") != alert || a.value("state", "") != "firing") continue;
      std::map<std::string, std::string> labels;
      for (const auto& [k, v] : a["labels"].items()) labels[k] = v.get<std::string>();
      out.push_back(labels);
    }
    return out;
  }
  double value(const std::string& promql) {
    auto v = query(promql);
    return v.size() == 1 ? std::stod(v[0]["value"][1].get<std::string>()) : std::nan("");
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

// A fleet on Prometheus' own remote write: four hosts (network namespaces, each exported by an
// exporter of its own), two groups of two, each group scraped by a Prometheus in agent mode
// that remote-writes to a central Prometheus (--web.enable-remote-write-receiver), where the
// shipped rules run. A listen-queue overflow made in one host and a failing probe in another
// fire there with those hosts' labels, and only for them. Prints the figures docs/fleet.md uses.
TEST_F(AlertsFire, AFleetOfAgentsRemoteWritesToACentralPrometheusWhereTheAlertsFire) {
  struct host {
    std::string name, group;
    uint16_t port;
    std::optional<netns> ns;
  };
  std::vector<host> hosts(4);
  for (size_t i = 0; i < hosts.size(); ++i) {
    hosts[i].name = std::string(1, i < 2 ? 'a' : 'b') + std::to_string(i % 2 + 1);
    hosts[i].group = i < 2 ? "A" : "B";
    hosts[i].port = static_cast<uint16_t>(9861 + i);
  }
  std::vector<std::unique_ptr<background_process>> exporters;
  for (auto& h : hosts) {
    std::string why;
    h.ns = netns::create(why);
    ASSERT_TRUE(h.ns) << why;
    // The exporter listens here (the monitoring namespace, ns_) and exports the host's own.
    std::vector<std::string> argv{"exporter", "--listen", "127.0.0.1:" + std::to_string(h.port), "--netns", h.ns->name()};
    if (h.name == "b1") {
      for (const char* a : {"--probe", "127.0.0.1:7", "--probe-interval", "1s", "--probe-timeout", "500ms"}) argv.push_back(a);
    }
    exporters.push_back(traffic("exporter-" + h.name, argv));
    ASSERT_TRUE(exporters.back()->wait_for_log("listening on", 10'000)) << exporters.back()->log();
  }
  std::string rules = dir_.path("alerts.yml");
  std::ofstream(rules) << shrunk_rules();
  std::string central = dir_.path("central.yml");
  std::ofstream(central) << "global:\n  evaluation_interval: 1s\nrule_files:\n  - " << rules << "\nscrape_configs: []\n";
  background_process centre(ns_->exec({"prometheus", "--config.file=" + central, "--storage.tsdb.path=" + dir_.path("central"),
                                       "--web.listen-address=127.0.0.1:9090", "--web.enable-remote-write-receiver"}),
                            dir_.path("central.log"));
  ASSERT_TRUE(centre.wait_for_log("Server is ready to receive web requests", 30'000)) << centre.log();
  std::vector<std::unique_ptr<background_process>> agents;
  for (std::string group : {"A", "B"}) {
    std::string config = dir_.path("agent" + group + ".yml");
    std::ofstream out(config);
    out << "global:\n  scrape_interval: 1s\n  external_labels:\n    group: " << group
        << "\nscrape_configs:\n  - job_name: synscope\n    static_configs:\n";
    for (const auto& h : hosts) {
      if (h.group == group) out << "      - targets: ['127.0.0.1:" << h.port << "']\n        labels: {host: " << h.name << "}\n";
    }
    out << "remote_write:\n  - url: http://127.0.0.1:9090/api/v1/write\n    queue_config: {batch_send_deadline: 1s}\n";
    out.close();
    ASSERT_EQ(run_command({"promtool", "check", "config", "--agent", config}).exit_code, 0);
    std::string port = group == "A" ? "9091" : "9092";
    agents.push_back(std::make_unique<background_process>(
        ns_->exec({"prometheus", "--enable-feature=agent", "--config.file=" + config,
                   "--storage.agent.path=" + dir_.path("agent" + group), "--web.listen-address=127.0.0.1:" + port}),
        dir_.path("agent" + group + ".log")));
    ASSERT_TRUE(agents.back()->wait_for_log("Server is ready to receive web requests", 30'000)) << agents.back()->log();
  }
  // Every host's series reach the centre, with the host's label and its agent's group.
  for (int i = 0; i < 60 && value("count(count by (host, group) (node_netstat_Tcp_ActiveOpens))") != 4; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(value("count(count by (host, group) (node_netstat_Tcp_ActiveOpens))"), 4);
  EXPECT_EQ(value("count(count by (host) (synscope_tcp_sockets{group=\"B\"}))"), 2);

  // a2: a listener with a backlog of 1 that never accepts, connected to ten times a second.
  const host& a2 = hosts[1];
  auto stuck = listen_in(a2.ns->name(), "127.0.0.1:8091", 1);
  background_process queue(a2.ns->exec({synscope_binary(), "probe", "127.0.0.1:8091", "-c", "300", "-i", "100ms", "-W",
                                        "300ms", "-q"}),
                           dir_.path("queue.log"));
  EXPECT_TRUE(wait_firing("TcpListenQueueOverflow", 60)) << centre.log();
  auto overflowing = firing("TcpListenQueueOverflow");
  ASSERT_EQ(overflowing.size(), 1u);
  EXPECT_EQ(overflowing[0]["host"], "a2");
  EXPECT_EQ(overflowing[0]["group"], "A");
  queue.interrupt();

  // b1: its exporter's probe of a closed port.
  EXPECT_TRUE(wait_firing("TcpProbeFailing", 60));
  auto failing = firing("TcpProbeFailing");
  ASSERT_EQ(failing.size(), 1u);
  EXPECT_EQ(failing[0]["host"], "b1");
  EXPECT_EQ(failing[0]["group"], "B");
  EXPECT_EQ(failing[0]["target"], "127.0.0.1:7");

  // The figures of docs/fleet.md: series, bytes and time of one host's scrape, and what remote
  // write sends per sample.
  double series = value("scrape_samples_scraped{host=\"a1\"}");
  double seconds = value("scrape_duration_seconds{host=\"a1\"}");
  auto plain = curl({"-s", "-o", "/dev/null", "-w", "%{size_download}", "http://127.0.0.1:9861/metrics"});
  auto gz = curl({"-s", "-o", "/dev/null", "-H", "Accept-Encoding: gzip", "-w", "%{size_download}", "http://127.0.0.1:9861/metrics"});
  auto agent_metrics = curl({"-s", "http://127.0.0.1:9091/metrics"});
  auto counter = [&](const std::string& name) {
    std::istringstream in(agent_metrics.out);
    double sum = 0;
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(name, 0) == 0 && (line[name.size()] == ' ' || line[name.size()] == '{')) sum += std::stod(line.substr(line.rfind(' ') + 1));
    }
    return sum;
  };
  double bytes = counter("prometheus_remote_storage_bytes_total");
  double samples = counter("prometheus_remote_storage_samples_total");
  EXPECT_GT(series, 50);
  EXPECT_GT(samples, 0);
  std::printf("fleet figures: a host's scrape %.0f series, %s bytes (%s gzip), %.1f ms; remote write %.2f bytes a sample "
              "(%.0f samples, %.0f bytes from agent A)\n",
              series, plain.out.c_str(), gz.out.c_str(), seconds * 1e3, bytes / samples, samples, bytes);

  for (auto& a : agents) EXPECT_EQ(a->interrupt(30'000), 0) << a->log();
  EXPECT_EQ(centre.interrupt(30'000), 0) << centre.log();
  for (auto& e : exporters) EXPECT_EQ(e->interrupt(), 0) << e->log();
}

}  // namespace
}  // namespace synscope::testing
