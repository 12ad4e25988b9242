// /probe from a real Prometheus, configured with blackbox_exporter's relabelling unchanged, for
// targets in a namespace of the test's own: alive (IPv4 and IPv6), dead (refused), dropping
// (its SYNs dropped: the probe times out within the scrape timeout), a name with two addresses
// (every one probed), and an address outside allowed_targets (403: no packet reaches it).
#include <sys/socket.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

class ProbeEndpoint : public netns_test {
 protected:
  void SetUp() override {
    netns_test::SetUp();
    if (IsSkipped()) return;
    if (!have_tool("prometheus") || !have_tool("curl") || !have_tool("unshare")) {
      GTEST_SKIP() << "prometheus, curl and unshare are needed";
    }
  }
  command_result curl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"curl", "-sS", "--max-time", "5"};
    argv.insert(argv.end(), args.begin(), args.end());
    return ns_->run(argv, 10'000);
  }
  // The value of the one series `promql` selects, or NaN when there is none.
  double value(const std::string& promql) {
    auto r = curl({"-G", "--data-urlencode", "query=" + promql, "http://127.0.0.1:9090/api/v1/query"});
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j.value("status", "") != "success" || j["data"]["result"].size() != 1) return std::nan("");
    return std::stod(j["data"]["result"][0]["value"][1].get<std::string>());
  }
  temp_dir dir_;
};

// blackbox_exporter's README, with its module and address: a job per module.
std::string blackbox_job(const std::string& job, const std::string& module, const std::vector<std::string>& targets) {
  std::string t;
  for (const auto& target : targets) t += "'" + target + "', ";
  return "  - job_name: " + job + "\n    metrics_path: /probe\n    params:\n      module: [" + module +
         "]\n    static_configs:\n      - targets: [" + t +
         "]\n    relabel_configs:\n      - source_labels: [__address__]\n        target_label: __param_target\n"
         "      - source_labels: [__param_target]\n        target_label: instance\n"
         "      - target_label: __address__\n        replacement: 127.0.0.1:9851\n";
}

TEST_F(ProbeEndpoint, PrometheusProbesThroughTheBlackboxRelabellingAndTheAllowListHolds) {
  std::string probe_yml = dir_.path("probe.yml");
  std::ofstream(probe_yml) << "allowed_targets: [127.0.0.0/8, '::1/128']\n"
                              "modules:\n"
                              "  tcp_connect: {prober: tcp, timeout: 5s, tcp: {preferred_ip_protocol: ip4}}\n"
                              "  ipv6: {tcp: {preferred_ip_protocol: ip6, ip_protocol_fallback: false}}\n"
                              "  every: {tcp: {preferred_ip_protocol: ip4, all_addresses: true}}\n";
  // multi.test has two addresses in the exporter's own /etc/hosts: a bind mount in a private
  // mount namespace, so the host's file is untouched.
  std::string hosts = dir_.path("hosts");
  std::ofstream(hosts) << "127.0.0.2 multi.test\n127.0.0.3 multi.test\n";
  std::string config = dir_.path("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n"
                        << blackbox_job("tcp", "tcp_connect", {"127.0.0.1:8080", "127.0.0.1:9", "127.0.0.1:8082", "10.9.9.9:8080"})
                        << blackbox_job("ipv6", "ipv6", {"[::1]:8081"})
                        << blackbox_job("every", "every", {"multi.test:8083"});
  ASSERT_EQ(run_command({"promtool", "check", "config", config}).exit_code, 0);

  ASSERT_EQ(ns_->run({"ip", "addr", "add", "10.9.9.9/32", "dev", "lo"}).exit_code, 0);
  auto alive = listen_in(ns_->name(), "127.0.0.1:8080", 128);
  auto alive6 = listen_in(ns_->name(), "[::1]:8081", 128);
  auto every = listen_in(ns_->name(), "0.0.0.0:8083", 128);
  auto outside = listen_in(ns_->name(), "10.9.9.9:8080", 128);  // reachable, but not allowed
  ASSERT_TRUE(drop_arriving(*ns_, "dropping", "tcp dport 8082 tcp flags syn"));

  std::vector<std::string> exporter{"unshare", "-m", "--propagation", "private", "sh", "-c",
                                    "mount --bind \"$0\" /etc/hosts && exec \"$@\"", hosts};
  for (const auto& a : ns_->exec({synscope_binary(), "exporter", "--listen", "127.0.0.1:9851", "--probe-config", probe_yml})) {
    exporter.push_back(a);
  }
  background_process e(exporter, dir_.path("exporter.log"));
  ASSERT_TRUE(e.wait_for_log("listening on http://127.0.0.1:9851/metrics and /probe", 10'000)) << e.log();
  background_process prom(ns_->exec({"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_.path("tsdb"),
                                     "--web.listen-address=127.0.0.1:9090"}),
                          dir_.path("prometheus.log"));
  ASSERT_TRUE(prom.wait_for_log("Server is ready to receive web requests", 30'000)) << prom.log();
  // Until every target has been scraped a few times.
  for (int i = 0; i < 60 && !(value("count_over_time(up{instance=\"10.9.9.9:8080\"}[1m])") >= 3 &&
                              value("count_over_time(probe_success{instance=\"127.0.0.1:8082\"}[1m])") >= 3);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }

  EXPECT_EQ(value("probe_success{instance=\"127.0.0.1:8080\"}"), 1);
  EXPECT_EQ(value("probe_ip_protocol{instance=\"127.0.0.1:8080\"}"), 4);
  EXPECT_GT(value("synscope_target_handshake_seconds{instance=\"127.0.0.1:8080\",ip=\"127.0.0.1\"}"), 0);
  EXPECT_GT(value("synscope_target_kernel_rtt_seconds{instance=\"127.0.0.1:8080\"}"), 0);
  EXPECT_GT(value("synscope_target_mss_bytes{instance=\"127.0.0.1:8080\"}"), 0);
  EXPECT_EQ(value("synscope_target_option{instance=\"127.0.0.1:8080\",option=\"sack\"}"), 1);

  EXPECT_EQ(value("probe_success{instance=\"127.0.0.1:9\"}"), 0);
  EXPECT_EQ(value("synscope_target_failed{instance=\"127.0.0.1:9\",reason=\"refused\"}"), 1);

  // Dropped SYNs: the module allows 5 s, the scrape 1 s: the probe gives up at 0.5 s, and the
  // scrape itself succeeds (up 1) with probe_success 0.
  EXPECT_EQ(value("up{instance=\"127.0.0.1:8082\"}"), 1);
  EXPECT_EQ(value("probe_success{instance=\"127.0.0.1:8082\"}"), 0);
  EXPECT_EQ(value("synscope_target_failed{instance=\"127.0.0.1:8082\",reason=\"timeout\"}"), 1);
  EXPECT_LT(value("probe_duration_seconds{instance=\"127.0.0.1:8082\"}"), 1.0);

  EXPECT_EQ(value("probe_success{instance=\"[::1]:8081\"}"), 1);
  EXPECT_EQ(value("probe_ip_protocol{instance=\"[::1]:8081\"}"), 6);

  EXPECT_EQ(value("probe_success{instance=\"multi.test:8083\"}"), 1);
  EXPECT_EQ(value("count(synscope_target_success{instance=\"multi.test:8083\"} == 1)"), 2);

  // Outside the allow-list: the scrape fails (403) and nothing reached the listener there.
  EXPECT_EQ(value("up{instance=\"10.9.9.9:8080\"}"), 0);
  EXPECT_LT(accept(outside.get(), nullptr, nullptr), 0) << "a connection reached an address outside allowed_targets";
  auto forbidden = curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9851/probe?target=10.9.9.9:8080"});
  EXPECT_EQ(forbidden.out, "403");

  EXPECT_EQ(prom.interrupt(30'000), 0) << prom.log();
  EXPECT_EQ(e.interrupt(), 0);
  EXPECT_NE(e.log().find("probes"), std::string::npos) << e.log();
  EXPECT_EQ(e.log().find(" 0 forbidden"), std::string::npos) << e.log();
  (void)alive;
  (void)alive6;
  (void)every;
}

// With --netns the exporter exports another namespace, and /probe probes from there, as --probe
// does: a target listening only inside it is reached, and the same port here is not asked.
TEST_F(ProbeEndpoint, WithNetnsTheProbesGoFromTheExportedNamespace) {
  std::string why;
  auto exported = netns::create(why);
  ASSERT_TRUE(exported) << why;
  std::string probe_yml = dir_.path("probe.yml");
  std::ofstream(probe_yml) << "allowed_targets: [127.0.0.0/8]\nmodules:\n  tcp_connect: {timeout: 1s}\n";
  auto there = listen_in(exported->name(), "127.0.0.1:8080", 16);
  background_process e(ns_->exec({synscope_binary(), "exporter", "--listen", "127.0.0.1:9851", "--netns", exported->name(),
                                  "--probe-config", probe_yml}),
                       dir_.path("exporter.log"));
  ASSERT_TRUE(e.wait_for_log("and /probe", 10'000)) << e.log();
  auto r = curl({"-s", "http://127.0.0.1:9851/probe?target=127.0.0.1:8080"});
  EXPECT_NE(r.out.find("\nprobe_success 1\n"), std::string::npos) << r.out;
  EXPECT_GE(accept(there.get(), nullptr, nullptr), 0) << "the probe reached the exported namespace's listener";
  EXPECT_EQ(e.interrupt(), 0) << e.log();
}

// Probes of a silent target hold every worker: /probe answers 503 beyond the queue, clients that
// hang up mid-probe cost nothing, and /metrics is answered at once all along.
TEST_F(ProbeEndpoint, SilentTargetsFillTheWorkersNotTheServer) {
  std::string probe_yml = dir_.path("probe.yml");
  std::ofstream(probe_yml) << "allowed_targets: [127.0.0.0/8]\nmodules:\n  tcp_connect: {timeout: 1s}\n  slow: {timeout: 5s}\n";
  ASSERT_TRUE(drop_arriving(*ns_, "dropping", "tcp dport 8082 tcp flags syn"));
  background_process e(ns_->exec({synscope_binary(), "exporter", "--listen", "127.0.0.1:9851", "--probe-config", probe_yml,
                                  "--probe-concurrency", "2"}),
                       dir_.path("exporter.log"));
  ASSERT_TRUE(e.wait_for_log("and /probe", 10'000)) << e.log();
  // 2 workers and 8 waiting: of 14 at once, the last ones are told 503 at once.
  std::vector<std::unique_ptr<background_process>> clients;
  for (int i = 0; i < 14; ++i) {
    clients.push_back(std::make_unique<background_process>(
        ns_->exec({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}\n", "--max-time", "15",
                   "http://127.0.0.1:9851/probe?target=127.0.0.1:8082"}),
        dir_.path("client" + std::to_string(i) + ".log")));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  for (int i = 0; i < 3; ++i) {
    auto scrape = curl({"--max-time", "1", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:9851/metrics"});
    EXPECT_EQ(scrape.out, "200") << "a scrape waited behind the probes";
  }
  int ok = 0;
  int busy = 0;
  for (auto& c : clients) {
    c->wait(20'000);
    std::string code = c->log().substr(0, 3);
    ok += code == "200" ? 1 : 0;
    busy += code == "503" ? 1 : 0;
  }
  EXPECT_GE(busy, 1) << "the queue is bounded";
  EXPECT_GE(ok, 6) << "the queued probes were answered (probe_success 0 after the timeout)";
  EXPECT_EQ(ok + busy, 14);
  // Clients that hang up mid-probe: their probes end early, and the next ones still get workers.
  std::vector<std::unique_ptr<background_process>> leaving;
  for (int i = 0; i < 4; ++i) {
    leaving.push_back(std::make_unique<background_process>(
        ns_->exec({"curl", "-s", "--max-time", "0.3", "http://127.0.0.1:9851/probe?target=127.0.0.1:8082&module=slow"}),
        dir_.path("leaving" + std::to_string(i) + ".log")));
  }
  for (auto& l : leaving) EXPECT_NE(l->wait(5'000), 0);
  // Had those four probes gone on, the two workers would be busy for 5 s or more: an alive
  // target is answered within 1.5 s only because they ended when their clients left.
  auto alive = listen_in(ns_->name(), "127.0.0.1:8080", 16);
  auto last = curl({"--max-time", "1.5", "http://127.0.0.1:9851/probe?target=127.0.0.1:8080"});
  EXPECT_NE(last.out.find("probe_success 1"), std::string::npos) << last.out << last.err;
  EXPECT_EQ(e.interrupt(), 0) << e.log();
}

}  // namespace
}  // namespace synscope::testing
