// synscope exporter against the clients a listening port meets, in namespaces the tests create:
// thousands of connections that trickle a header line every few seconds with padding (while a
// scraper must get every scrape answered and memory must stay bounded and be given back), a
// probe target that drops SYNs (no scrape and no /healthz waits for it), and a local user who
// opens 10,000 listening sockets (the series stay bounded). Every loop is bounded in count and
// time; the checks count answers, not time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

using clock_type = std::chrono::steady_clock;

// Resident memory of a process, in KiB (VmRSS), or -1.
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// One scrape over a fresh connection (as Prometheus after an idle close): true when a whole
// 200 answer with the metrics came back within `timeout_s`.
bool scrape_once(uint16_t port, int timeout_s, const std::string& path = "/metrics", std::string* why = nullptr) {
  core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval tv{timeout_s, 0};
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a = loopback(port);
  auto started = clock_type::now();
  auto failed = [&](const std::string& what) {
    if (why != nullptr) {
      *why = what + " after " +
             std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - started).count()) +
             " ms: " + std::strerror(errno);
    }
    return false;
  };
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return failed("connect");  // NOLINT
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  if (send(fd.get(), req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return failed("send");
  std::string got;
  char buf[65536];
  auto deadline = clock_type::now() + std::chrono::seconds(timeout_s);
  while (clock_type::now() < deadline) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  if (got.rfind("HTTP/1.1 200 OK\r\n", 0) != 0) return failed("answer '" + got.substr(0, 40) + "'");
  return path != "/metrics" || got.find("synscope_scrape_collector_success") != std::string::npos;
}

class ExporterAttack : public netns_test {
 protected:
  std::unique_ptr<background_process> start(std::vector<std::string> extra) {
    std::vector<std::string> argv{synscope_binary(), "exporter", "--listen", "127.0.0.1:9851"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<background_process>(ns_->exec(argv), dir_.path("exporter.log"));
    EXPECT_TRUE(p->wait_for_log("listening on", 10'000)) << p->log();
    return p;
  }
  temp_dir dir_;
};

// Raises this process's soft open-file limit to its hard one; false when the hard one is below `need`.
bool descriptors_for(rlim_t need) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_max < need) return false;
  rl.rlim_cur = rl.rlim_max;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

TEST_F(ExporterAttack, SlowHeaderTricklersWithPaddingDoNotStopOneScrapeAndGiveTheirMemoryBack) {
  if (!descriptors_for(20'000)) GTEST_SKIP() << "the open-file hard limit is below 20000";
  auto e = start({});  // the defaults: what a user gets
  pid_t pid = e->pid();
  bool first = false;
  in_netns(ns_->name(), [&] { first = scrape_once(9851, 5); });
  ASSERT_TRUE(first);
  long before_kib = rss_kib(pid);
  ASSERT_GT(before_kib, 0);

  // The attack, bounded: 16,500 connections, each sending a request line, then 6 KiB of header
  // padding, then one header line every 2 s; a closed one is opened again. 20 s in all.
  constexpr int attackers = 16'500;
  const auto attack_for = std::chrono::seconds(20);
  std::atomic<bool> attacking{true};
  std::atomic<long> peak_kib{before_kib};
  std::atomic<int> opened{0};
  std::thread attack([&] {
    in_netns(ns_->name(), [&] {
      std::vector<core::unique_fd> fds(attackers);
      std::string padding = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(6000, 'p') + "\r\n";
      auto until = clock_type::now() + attack_for;
      while (clock_type::now() < until) {
        auto round = clock_type::now();
        for (auto& fd : fds) {
          if (clock_type::now() >= until) break;
          if (fd && send(fd.get(), "X-Slow: 1\r\n", 11, MSG_NOSIGNAL | MSG_DONTWAIT) == 11) continue;
          fd.reset(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
          timeval tv{0, 200'000};
          setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
          sockaddr_in a = loopback(9851);
          if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||  // NOLINT
              send(fd.get(), padding.data(), padding.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(padding.size())) {
            fd.reset();
            continue;
          }
          opened.fetch_add(1);
        }
        std::this_thread::sleep_until(round + std::chrono::seconds(2));
      }
    });
    attacking = false;
  });
  // The scraper: one scrape a second for as long as the attack lasts, each given 10 s.
  int tried = 0;
  int answered = 0;
  std::this_thread::sleep_for(std::chrono::seconds(2));  // let the attack fill every slot first
  in_netns(ns_->name(), [&] {
    while (attacking.load()) {
      auto next = clock_type::now() + std::chrono::seconds(1);
      ++tried;
      std::string why;
      if (scrape_once(9851, 10, "/metrics", &why)) {
        ++answered;
      } else {
        ADD_FAILURE() << "scrape " << tried << " unanswered: " << why;
      }
      peak_kib = std::max(peak_kib.load(), rss_kib(pid));
      std::this_thread::sleep_until(next);
    }
  });
  attack.join();
  EXPECT_GT(opened.load(), attackers) << "the attack did not reach its size";
  EXPECT_GE(tried, 10);
  EXPECT_EQ(answered, tried) << "scrapes went unanswered during the attack";
  // Memory: bounded while it lasted, and given back when the clients left (each connection's
  // request head lives in a fixed slot returned to the system when it closes).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  long after_kib = rss_kib(pid);
  std::printf("slow-header attack: %d connections opened, %d of %d scrapes answered; RSS %ld KiB before, %ld peak, %ld after\n",
              opened.load(), answered, tried, before_kib, peak_kib.load(), after_kib);
  EXPECT_LT(peak_kib.load() - before_kib, 48 * 1024) << "peak " << peak_kib.load() << " KiB, before " << before_kib;
  EXPECT_LT(after_kib - before_kib, 12 * 1024) << "after " << after_kib << " KiB, before " << before_kib;
  EXPECT_EQ(e->interrupt(), 0);
  std::string log = e->log();
  EXPECT_NE(log.find("header timeouts"), std::string::npos) << log;
}

TEST_F(ExporterAttack, AProbeTargetThatDropsSynsStallsNoScrapeAndNoHealthCheck) {
  if (!have_tool("nft")) GTEST_SKIP() << "nft is needed";
  // 127.0.0.1:9 drops every SYN in this namespace: a probe there waits for its whole timeout.
  ASSERT_EQ(ns_->run({"nft", "add", "table", "inet", "blackhole"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"nft", "add", "chain", "inet", "blackhole", "out", "{ type filter hook output priority 0; }"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"nft", "add", "rule", "inet", "blackhole", "out", "tcp", "dport", "9", "drop"}).exit_code, 0);
  auto e = start({"--probe", "127.0.0.1:9", "--probe", "127.0.0.1:9851", "--probe-timeout", "5s", "--probe-interval",
                  "6s"});
  // Eight scrapes at once, then /healthz, each given 3 s: a scrape that waited for the 5 s probe
  // would not make it (the old exporter took 8 s for /healthz here).
  std::atomic<int> answered{0};
  std::vector<std::thread> scrapers;
  for (int i = 0; i < 8; ++i) {
    scrapers.emplace_back([&] {
      in_netns(ns_->name(), [&] {
        if (scrape_once(9851, 3)) answered.fetch_add(1);
      });
    });
  }
  bool healthy = false;
  in_netns(ns_->name(), [&] { healthy = scrape_once(9851, 3, "/healthz"); });
  for (auto& t : scrapers) t.join();
  EXPECT_TRUE(healthy);
  EXPECT_EQ(answered.load(), 8);
  // After one round: the dead target fails, the live one succeeds, both with their age.
  std::this_thread::sleep_for(std::chrono::milliseconds(5500));
  auto r = ns_->run({"curl", "-sS", "--max-time", "3", "http://127.0.0.1:9851/metrics"});
  EXPECT_NE(r.out.find("synscope_probe_success{target=\"127.0.0.1:9\"} 0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("synscope_probe_success{target=\"127.0.0.1:9851\"} 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("synscope_probe_age_seconds{target=\"127.0.0.1:9\"} "), std::string::npos) << r.out;
  // A timeout, which the kernel does not count in Tcp_AttemptFails (the probe closed the socket),
  // and the SYNs resent meanwhile, which it counts in TcpExt_TCPSynRetrans.
  EXPECT_NE(r.out.find("synscope_probe_failures_total{target=\"127.0.0.1:9\",reason=\"timeout\"} 1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("synscope_probe_failures_total{target=\"127.0.0.1:9\",reason=\"refused\"} 0"), std::string::npos)
      << r.out;
  auto value = [&](const std::string& series) {
    size_t at = r.out.find("\n" + series + " ");
    return at == std::string::npos ? -1.0 : std::stod(r.out.substr(at + series.size() + 2));
  };
  double resent = value("synscope_probe_syn_retransmits_total{target=\"127.0.0.1:9\"}");
  EXPECT_GE(resent, 1.0) << r.out;
  // Nothing else in the namespace resends a SYN; the second round may have begun to.
  EXPECT_LE(resent, value("node_netstat_TcpExt_TCPSynRetrans")) << r.out;
  EXPECT_EQ(value("synscope_probe_syn_retransmits_total{target=\"127.0.0.1:9851\"}"), 0.0) << r.out;
  EXPECT_EQ(e->interrupt(), 0);
}

TEST_F(ExporterAttack, TenThousandListenersOfAnUnprivilegedUserGiveBoundedSeries) {
  if (!descriptors_for(12'000)) GTEST_SKIP() << "the open-file hard limit is below 12000";
  // A child process as nobody, in the namespace, holding 10,000 listening sockets until killed.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  std::string ns_path = "/run/netns/" + ns_->name();  // made before fork: the child only makes syscalls
  pid_t child = fork();
  if (child == 0) {
    core::unique_fd nsfd(open(ns_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (setns(nsfd.get(), CLONE_NEWNET) != 0 || setgroups(0, nullptr) != 0 || setresgid(65534, 65534, 65534) != 0 ||
        setresuid(65534, 65534, 65534) != 0) {
      _exit(1);
    }
    int made = 0;
    for (int i = 0; i < 10'000; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a = loopback(0);
      if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && listen(fd, 16) == 0) ++made;  // NOLINT
    }
    char c = made == 10'000 ? 'y' : 'n';
    (void)write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  EXPECT_EQ(c, 'y') << "the unprivileged user could not open 10,000 listeners";
  auto e = start({"--listener", "9851"});
  auto r = ns_->run({"curl", "-sS", "--max-time", "10", "http://127.0.0.1:9851/metrics"});
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  size_t per_listener = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("synscope_tcp_listener_", 0) == 0) ++per_listener;
  }
  // Three series a listener (queue, its limit, half-open) for at most 100 listeners.
  EXPECT_LE(per_listener, 3u * 100u);
  EXPECT_GE(per_listener, 3u * 100u);
  EXPECT_NE(r.out.find("synscope_tcp_listeners 10001\n"), std::string::npos) << "all of them counted";
  EXPECT_NE(r.out.find("synscope_tcp_listeners_not_shown 9901\n"), std::string::npos);
  EXPECT_NE(r.out.find("synscope_tcp_listener_accept_queue{listener=\"127.0.0.1:9851\"}"), std::string::npos)
      << "the listener named with --listener is always there";
  EXPECT_LT(r.out.size(), 200'000u) << "the scrape stays small";
  EXPECT_EQ(e->interrupt(), 0);
}

}  // namespace
}  // namespace synscope::testing
