// `synscope trace` against the truth of the same run, in network namespaces the tests make: the
// server's own accept() schedule, tshark's count of retransmitted SYN-ACKs, the kernel's
// ListenOverflows counter, and tcpdump's timestamps of the SYNs. Needs root (CAP_BPF and
// CAP_PERFMON); skipped without.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <set>
#include <memory>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

using core::realtime_ns;

uint16_t local_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);  // NOLINT
  return ntohs(a.sin_port);
}

uint16_t peer_port(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  getpeername(fd, reinterpret_cast<sockaddr*>(&a), &len);  // NOLINT
  return ntohs(a.sin_port);
}

// A listener on 127.0.0.1:port inside the namespace.
int listen_in(const netns& ns, uint16_t port, int backlog) {
  int fd = -1;
  in_netns(ns.name(), [&] {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a = loopback(port);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    EXPECT_EQ(listen(fd, backlog), 0);
  });
  return fd;
}

// `n` non-blocking connects to 127.0.0.1:port from inside the namespace, left open.
std::vector<int> connect_in(const netns& ns, uint16_t port, int n) {
  std::vector<int> fds;
  in_netns(ns.name(), [&] {
    for (int i = 0; i < n; ++i) {
      int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      sockaddr_in a = loopback(port);
      connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // NOLINT: EINPROGRESS
      fds.push_back(fd);
    }
  });
  return fds;
}

// One TcpExt counter of the namespace, from /proc/net/netstat.
int64_t tcpext(const netns& ns, const std::string& name) {
  auto r = ns.run({"cat", "/proc/net/netstat"});
  std::istringstream in(r.out);
  std::string names, values;
  while (std::getline(in, names) && std::getline(in, values)) {
    if (names.rfind("TcpExt:", 0) != 0) continue;
    std::istringstream n(names), v(values);
    std::string key, value;
    while (n >> key && v >> value) {
      if (key == name) return std::stoll(value);
    }
  }
  ADD_FAILURE() << "no TcpExt " << name;
  return -1;
}

// Closes each socket with a RST (SO_LINGER 0): the attempt ends at once, nothing follows it.
void reset_all(const std::vector<int>& fds) {
  for (int fd : fds) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
  }
}

// An nft rule in the namespace that drops what the clients send to `port` with ACK and without
// SYN: handshakes wait in the SYN queue for ACKs that never come. `nft delete table inet t` ends it.
void drop_acks(const netns& ns, uint16_t port) {
  auto r = ns.run({"nft", "add table inet t; add chain inet t in { type filter hook input priority 0; }; "
                          "add rule inet t in tcp dport " + std::to_string(port) + " tcp flags & (syn | ack) == ack drop"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

class Trace : public netns_test {
 protected:
  // Starts `synscope trace --json` in the namespace; returns when its programs are attached.
  void start(uint16_t port, const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {synscope_binary(), "trace", "--netns", ns_->name(), "-p", std::to_string(port),
                                     "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    trace_ = std::make_unique<background_process>(argv, dir_.path("trace.log"));
    ASSERT_TRUE(trace_->started());
    if (!trace_->wait_for_log("tracing handshakes", 20'000)) {
      int rc = trace_->wait(5'000);
      if (rc == 77) GTEST_SKIP() << "no permission for BPF: " << trace_->log();
      FAIL() << "trace did not start (exit " << rc << "): " << trace_->log();
    }
  }

  // Waits for the trace to end by itself; its JSON lines.
  std::vector<nlohmann::json> finish(int64_t timeout_ms) {
    int rc = trace_->wait(timeout_ms);
    EXPECT_EQ(rc, 0) << trace_->log();
    std::string json;
    std::istringstream in(trace_->log());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line[0] == '{') json += line + "\n";
    }
    return parse_json_lines(json);
  }

  static nlohmann::json listener(const std::vector<nlohmann::json>& lines, uint16_t port) {
    auto summaries = of_type(lines, "summary");
    EXPECT_EQ(summaries.size(), 1u);
    if (summaries.empty()) return {};
    for (const auto& l : summaries[0].at("listeners")) {
      if (l.at("port") == port) return l;
    }
    ADD_FAILURE() << "no listener " << port << " in " << summaries[0].dump();
    return {};
  }

  temp_dir dir_;
  std::unique_ptr<background_process> trace_;
};

TEST_F(Trace, EveryHookAttachesOnThisKernel) {
  start(9, {"--duration", "300ms"});
  auto lines = finish(20'000);
  auto s = of_type(lines, "summary").at(0);
  for (const auto& h : s.at("hooks")) EXPECT_TRUE(h.at("active").get<bool>()) << h.dump();
  EXPECT_EQ(s.at("lost_events"), 0);
}

// A listener that accepts one connection every 100 ms while a burst of ten waits in its queue:
// the time each spent between its ACK and accept() is the server's schedule, within 10 %.
TEST_F(Trace, AckToAcceptIsTheServersAcceptSchedule) {
  constexpr uint16_t port = 8080;
  constexpr int n = 10;
  int lfd = listen_in(*ns_, port, 64);
  start(port, {"-c", std::to_string(n), "--duration", "30"});
  if (HasFatalFailure() || IsSkipped()) return;

  std::map<uint16_t, int64_t> connected_at;  // client port -> when connect() completed (its ACK left)
  auto clients = connect_in(*ns_, port, n);
  for (int fd : clients) {
    pollfd p{fd, POLLOUT, 0};
    ASSERT_EQ(poll(&p, 1, 5'000), 1);
    connected_at[local_port(fd)] = realtime_ns();
  }
  std::map<uint16_t, int64_t> accepted_at;
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int c = accept(lfd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    accepted_at[peer_port(c)] = realtime_ns();
    close(c);
  }
  auto lines = finish(30'000);
  auto handshakes = of_type(lines, "handshake");
  ASSERT_EQ(handshakes.size(), static_cast<size_t>(n));
  double worst = 0;
  for (const auto& h : handshakes) {
    EXPECT_EQ(h.at("outcome"), "accepted") << h.dump();
    uint16_t client_port = static_cast<uint16_t>(std::stoi(h.at("client").get<std::string>().substr(10)));
    ASSERT_TRUE(accepted_at.count(client_port)) << h.dump();
    double expected = static_cast<double>(accepted_at[client_port] - connected_at[client_port]);
    double traced = h.at("ack_to_accept_ns").get<double>();
    EXPECT_NEAR(traced, expected, expected * 0.10) << h.dump();
    worst = std::max(worst, std::abs(traced - expected) / expected);
    EXPECT_EQ(h.at("pid"), getpid());
    EXPECT_NEAR(h.at("accept_unix_ns").get<double>(), static_cast<double>(accepted_at[client_port]), 5e6);
  }
  std::printf("ACK to accept, trace against the server's schedule: largest difference %.2f %%\n", worst * 100);
  auto l = listener(lines, port);
  EXPECT_EQ(l.at("accepted"), n);
  EXPECT_EQ(l.at("ack_to_accept_us").at("count"), n);
  EXPECT_GE(l.at("ack_to_accept_us").at("max").get<double>(), 900'000.0) << "the tenth waited about a second";
  for (int fd : clients) close(fd);
  close(lfd);
}

// Clients whose handshake ACKs an nft rule drops: the server retransmits its SYN-ACKs (after
// 1 s and 3 s), and trace counts what tshark counts on a capture of the same run.
TEST_F(Trace, SynAckRetransmissionsAreTsharksCount) {
  if (!have_tool("tcpdump") || !have_tool("tshark") || !have_tool("nft")) GTEST_SKIP() << "tcpdump, tshark, nft";
  constexpr uint16_t port = 8081;
  int lfd = listen_in(*ns_, port, 16);
  drop_acks(*ns_, port);
  std::string pcap = dir_.path("synack.pcap");
  background_process tcpdump(ns_->exec({"tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-w", pcap, "tcp port 8081"}),
                             dir_.path("tcpdump.log"));
  ASSERT_TRUE(tcpdump.wait_for_log("listening on", 10'000)) << tcpdump.log();
  start(port, {"--duration", "5"});
  if (HasFatalFailure() || IsSkipped()) return;
  auto clients = connect_in(*ns_, port, 3);
  auto lines = finish(30'000);
  tcpdump.interrupt();  // before the third retransmission, 7 s after the SYN

  auto r = run_command({"tshark", "-n", "-r", pcap, "-Y",
                        "tcp.flags.syn == 1 && tcp.flags.ack == 1 && tcp.analysis.retransmission", "-T", "fields",
                        "-e", "frame.number"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int64_t tshark_count = std::count(r.out.begin(), r.out.end(), '\n');
  EXPECT_GE(tshark_count, 6) << "two retransmissions of each of three SYN-ACKs";
  auto l = listener(lines, port);
  EXPECT_EQ(l.at("synack_retransmits").get<int64_t>(), tshark_count);
  int64_t per_connection = 0;
  for (const auto& h : of_type(lines, "handshake")) per_connection += h.at("synack_retransmits").get<int64_t>();
  EXPECT_EQ(per_connection, tshark_count);
  for (int fd : clients) close(fd);
  close(lfd);
}

// A listener with a backlog of one that never accepts, and both ways the kernel drops for a full
// accept queue: a segment that would complete a handshake (skb:kfree_skb, TCP_LISTEN_OVERFLOW)
// and a SYN (dropped silently: counted as unanswered). trace's total is exactly the kernel's
// ListenOverflows.
TEST_F(Trace, AcceptQueueDropsAreTheListenOverflowsCounter) {
  if (!have_tool("nft")) GTEST_SKIP() << "nft";
  constexpr uint16_t port = 8082;
  int lfd = listen_in(*ns_, port, 1);
  drop_acks(*ns_, port);  // the clients' ACKs held back: their handshakes wait
  int64_t before = tcpext(*ns_, "ListenOverflows");
  start(port, {"--duration", "3"});
  if (HasFatalFailure() || IsSkipped()) return;
  auto clients = connect_in(*ns_, port, 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(ns_->run({"nft", "delete table inet t"}).exit_code, 0);
  // Each client, established on its side, sends a byte: the first two complete their handshakes
  // and fill the queue, the other eight overflow it (and again as the byte is retransmitted).
  for (int fd : clients) ASSERT_EQ(send(fd, "x", 1, MSG_NOSIGNAL), 1);
  auto late = connect_in(*ns_, port, 5);  // SYNs to the full queue, retransmitted after 1 s
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  // Resets end every attempt, so nothing reaches the listener between the trace's end and the
  // counter's reading.
  reset_all(clients);
  reset_all(late);
  auto lines = finish(30'000);
  int64_t after = tcpext(*ns_, "ListenOverflows");
  ASSERT_GT(after - before, 0);
  auto l = listener(lines, port);
  EXPECT_EQ(l.at("accept_queue_drops").get<int64_t>(), after - before) << l.dump();
  EXPECT_GE(l.at("acks_overflowed").get<int64_t>(), 8) << l.dump();
  EXPECT_GE(l.at("syns_unanswered").get<int64_t>(), 5) << l.dump();
  auto s = of_type(lines, "summary").at(0);
  EXPECT_EQ(s.at("kernel_counters").at("TcpExtListenOverflows").get<int64_t>(), after - before) << s.dump();
  close(lfd);
}

// The third way: completing segments of request sockets (not SYN cookies) that find the accept
// queue full, which 6.15+ drops as TCP_LISTEN_OVERFLOW. Three handshakes wait in the SYN queue
// for ACKs an nft rule holds back while five others fill the accept queue (backlog 4 takes five);
// then the three send data, and each segment overflows.
TEST_F(Trace, AcceptQueueDropsOfRequestSocketsCarryTheKernelsReason) {
  if (!have_tool("nft")) GTEST_SKIP() << "nft";
  constexpr uint16_t port = 8087;
  int lfd = listen_in(*ns_, port, 4);
  drop_acks(*ns_, port);
  int64_t before = tcpext(*ns_, "ListenOverflows");
  start(port, {"--duration", "2500ms"});
  if (HasFatalFailure() || IsSkipped()) return;
  auto waiting = connect_in(*ns_, port, 3);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_EQ(ns_->run({"nft", "delete table inet t"}).exit_code, 0);
  auto filling = connect_in(*ns_, port, 5);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (int fd : waiting) ASSERT_EQ(send(fd, "x", 1, MSG_NOSIGNAL), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  reset_all(waiting);
  reset_all(filling);
  auto lines = finish(30'000);
  int64_t after = tcpext(*ns_, "ListenOverflows");
  auto l = listener(lines, port);
  EXPECT_GE(l.at("drops_by_reason").value("TCP_LISTEN_OVERFLOW", 0), 3) << l.dump();
  EXPECT_EQ(l.at("accept_queue_drops").get<int64_t>(), after - before) << l.dump();
  EXPECT_EQ(l.at("established").get<int64_t>(), 5) << l.dump();
  close(lfd);
}

// The SYNs' arrival as trace times them, beside tcpdump's timestamps of the same packets.
TEST_F(Trace, SynArrivalIsTcpdumpsTimestampWithin50us) {
  if (!have_tool("tcpdump") || !have_tool("tshark")) GTEST_SKIP() << "tcpdump, tshark";
  constexpr uint16_t port = 8083;
  int lfd = listen_in(*ns_, port, 64);
  std::string pcap = dir_.path("syn.pcap");
  background_process tcpdump(
      ns_->exec({"tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano", "-w", pcap, "tcp port 8083"}),
      dir_.path("tcpdump.log"));
  ASSERT_TRUE(tcpdump.wait_for_log("listening on", 10'000)) << tcpdump.log();
  start(port, {"-c", "20", "--duration", "30"});
  if (HasFatalFailure() || IsSkipped()) return;
  std::vector<int> clients;
  for (int i = 0; i < 20; ++i) {
    auto one = connect_in(*ns_, port, 1);
    clients.push_back(one[0]);
    int c = accept(lfd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    close(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto lines = finish(30'000);
  tcpdump.interrupt();
  auto r = run_command({"tshark", "-n", "-r", pcap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-T", "fields",
                        "-e", "frame.time_epoch", "-e", "tcp.srcport", "-e", "tcp.seq_raw"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::pair<int, uint32_t>, int64_t> wire;  // (client port, ISN) -> tcpdump's time
  std::istringstream in(r.out);
  for (std::string t, sport, seq; in >> t >> sport >> seq;) {
    wire[{std::stoi(sport), static_cast<uint32_t>(std::stoul(seq))}] = tshark_time_ns(t);
  }
  auto handshakes = of_type(lines, "handshake");
  ASSERT_EQ(handshakes.size(), 20u);
  double worst = 0;
  for (const auto& h : handshakes) {
    int client_port = std::stoi(h.at("client").get<std::string>().substr(10));
    auto it = wire.find({client_port, h.at("client_isn").get<uint32_t>()});
    ASSERT_NE(it, wire.end()) << "the trace's key is the wire's: " << h.dump() << "\ntshark:\n" << r.out << r.err << "\ntcpdump: " << tcpdump.log();
    EXPECT_NEAR(h.at("syn_unix_ns").get<double>(), static_cast<double>(it->second), 50'000.0) << h.dump();
    worst = std::max(worst, std::abs(h.at("syn_unix_ns").get<double>() - static_cast<double>(it->second)));
  }
  std::printf("SYN arrival, trace against tcpdump: largest difference %.1f us of 20\n", worst / 1000);
  for (int fd : clients) close(fd);
  close(lfd);
}

// IPv6, and IPv4 accepted by a dual-stack IPv6 listener: the packets say 127.0.0.1, the child
// socket says ::ffff:127.0.0.1; both must be one handshake, keyed as the packets are.
TEST_F(Trace, Ipv6AndIpv4MappedConnectionsAreOneHandshakeEach) {
  constexpr uint16_t port = 8088;
  int lfd = -1;
  std::vector<int> clients;
  start(port, {"-c", "2", "--duration", "20"});
  if (HasFatalFailure() || IsSkipped()) return;
  in_netns(ns_->name(), [&] {
    lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int zero = 0;
    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_port = htons(port);
    ASSERT_EQ(bind(lfd, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);  // NOLINT
    ASSERT_EQ(listen(lfd, 16), 0);
    int v6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 lo6{};
    lo6.sin6_family = AF_INET6;
    lo6.sin6_port = htons(port);
    lo6.sin6_addr = in6addr_loopback;
    ASSERT_EQ(connect(v6, reinterpret_cast<sockaddr*>(&lo6), sizeof lo6), 0);  // NOLINT
    int v4 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in lo4 = loopback(port);
    ASSERT_EQ(connect(v4, reinterpret_cast<sockaddr*>(&lo4), sizeof lo4), 0);  // NOLINT
    clients = {v6, v4};
  });
  for (int i = 0; i < 2; ++i) {
    int c = accept(lfd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    close(c);
  }
  auto handshakes = of_type(finish(20'000), "handshake");
  ASSERT_EQ(handshakes.size(), 2u);
  std::set<std::string> servers;
  for (const auto& h : handshakes) {
    EXPECT_EQ(h.at("outcome"), "accepted") << h.dump();
    EXPECT_FALSE(h.at("syn_unix_ns").is_null()) << "the SYN and the child are one handshake: " << h.dump();
    EXPECT_FALSE(h.at("ack_to_accept_ns").is_null()) << h.dump();
    servers.insert(h.at("server").get<std::string>());
  }
  EXPECT_EQ(servers, (std::set<std::string>{"127.0.0.1:8088", "[::1]:8088"}));
  for (int fd : clients) close(fd);
  close(lfd);
}

// The exporter with --trace: per-listener histograms and counters that promtool accepts, the
// accept-queue wait of every connection the listener accepted, and no row for a client's port.
TEST_F(Trace, TheExporterServesTheTracesFiguresPerListener) {
  if (!have_tool("curl") || !have_tool("promtool")) GTEST_SKIP() << "curl, promtool";
  constexpr uint16_t port = 8084;
  constexpr int n = 6;
  int lfd = listen_in(*ns_, port, 64);
  background_process exporter(ns_->exec({synscope_binary(), "exporter", "--listen", "127.0.0.1:9852", "--trace"}),
                              dir_.path("exporter.log"));
  ASSERT_TRUE(exporter.wait_for_log("listening on", 20'000)) << exporter.log();
  if (exporter.log().find("serving without the trace collector") != std::string::npos) {
    GTEST_SKIP() << exporter.log();
  }
  auto clients = connect_in(*ns_, port, n);
  for (int i = 0; i < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int c = accept(lfd, nullptr, nullptr);
    ASSERT_GE(c, 0);
    close(c);
  }
  for (int fd : clients) close(fd);  // the clients' FINs and the server's answers: no listener rows of their ports
  // The trace thread reads the ring every 100 ms: scrape until the six are in (5 s at most).
  std::string m;
  auto has = [&](const std::string& line) { return m.find("\n" + line + "\n") != std::string::npos; };
  for (int i = 0; i < 50; ++i) {
    auto scrape = ns_->run({"curl", "-sS", "--max-time", "10", "http://127.0.0.1:9852/metrics"});
    ASSERT_EQ(scrape.exit_code, 0) << scrape.err;
    m = scrape.out;
    if (has("synscope_trace_accepted_total{port=\"8084\"} " + std::to_string(n))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(has("synscope_trace_accepted_total{port=\"8084\"} " + std::to_string(n))) << m;
  EXPECT_TRUE(has("synscope_trace_accept_queue_wait_seconds_count{port=\"8084\"} " + std::to_string(n))) << m;
  EXPECT_TRUE(has("synscope_trace_accept_queue_wait_seconds_bucket{port=\"8084\",le=\"+Inf\"} " + std::to_string(n)));
  EXPECT_TRUE(has("synscope_trace_accept_queue_wait_seconds_bucket{port=\"8084\",le=\"0.01\"} 0"))
      << "the first was accepted 20 ms after it connected: none waited under 10 ms: " << m;
  EXPECT_TRUE(has("synscope_trace_hook_active{tracepoint=\"skb:kfree_skb\"} 1"));
  EXPECT_TRUE(has("synscope_scrape_collector_success{collector=\"trace\"} 1"));
  // Rows for the listener and for the exporter's own port (the scrapes are handshakes too), none
  // for a client's ephemeral port.
  std::istringstream lines(m);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("synscope_trace_syns_total{", 0) != 0) continue;
    EXPECT_TRUE(line.find("port=\"8084\"") != std::string::npos || line.find("port=\"9852\"") != std::string::npos)
        << line;
  }
  std::string file = dir_.path("scrape.txt");
  std::ofstream(file) << m;
  auto check = run_command({"sh", "-c", "promtool check metrics < " + file + " 2>&1 | grep synscope_trace || true"});
  EXPECT_EQ(check.out, "") << "promtool on the trace's series";
  exporter.interrupt();
  close(lfd);
}

// doctor with the trace through its window: a listener that takes 150 ms to accept each
// connection, never with a long queue, is named with its accept-queue wait (tier: eBPF trace);
// with --no-trace the counters alone see nothing wrong, and say so with their tier.
TEST_F(Trace, DoctorNamesASlowAcceptorFromTheTrace) {
  constexpr uint16_t port = 8085;
  int lfd = listen_in(*ns_, port, 64);
  std::atomic<bool> stop{false};
  std::thread slow([&] {  // a connection every 50 ms, each accepted 150 ms after it was made
    std::vector<std::pair<int, int64_t>> waiting;
    int64_t end = core::monotonic_ns() + 8'000'000'000;
    while (!stop && core::monotonic_ns() < end) {
      auto one = connect_in(*ns_, port, 1);
      waiting.emplace_back(one[0], core::monotonic_ns());
      while (!waiting.empty() && core::monotonic_ns() - waiting.front().second >= 150'000'000) {
        int c = accept(lfd, nullptr, nullptr);
        if (c >= 0) close(c);
        close(waiting.front().first);
        waiting.erase(waiting.begin());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& [fd, t] : waiting) close(fd);
  });
  auto doctor = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv{synscope_binary(), "doctor", "--netns", ns_->name(), "--json", "--only", "queues",
                                  "--window", "1s"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto r = run_command(argv, 60'000);
    return of_type(parse_json_lines(r.out), "finding");
  };
  auto traced = doctor({});
  auto plain = doctor({"--no-trace"});
  stop = true;
  slow.join();
  close(lfd);
  bool named = false;
  for (const auto& f : traced) {
    if (f["check"] != "accept-wait") continue;
    named = true;
    EXPECT_EQ(f["verdict"], "WARN") << f.dump();
    EXPECT_EQ(f["evidence"]["port"], "8085") << f.dump();
    EXPECT_EQ(f["evidence"]["tier"], "eBPF trace") << f.dump();
    EXPECT_GE(std::stod(f["evidence"]["accept_wait_p99_ms"].get<std::string>()), 140.0) << f.dump();
  }
  EXPECT_TRUE(named) << nlohmann::json(traced).dump();
  ASSERT_EQ(plain.size(), 1u) << nlohmann::json(plain).dump();
  EXPECT_EQ(plain[0]["verdict"], "PASS");
  EXPECT_EQ(plain[0]["evidence"]["tier"], "counters");
}

// One connection, three views, one key: probe --json (the client), analyze --json of a capture
// taken at the same time (the wire) and trace --json (the server's kernel) name each connection
// by the same client, server and client ISN, so they join; the moments line up.
TEST_F(Trace, ProbeAnalyzeAndTraceNameEachConnectionByTheSameKey) {
  if (!have_tool("tcpdump")) GTEST_SKIP() << "tcpdump";
  constexpr uint16_t port = 8086;
  background_process serve(ns_->exec({synscope_binary(), "serve", "--listen", "127.0.0.1:8086", "--mode", "ack"}),
                           dir_.path("serve.log"));
  ASSERT_TRUE(serve.wait_for_log("8086", 10'000)) << serve.log();
  std::string pcap = dir_.path("key.pcap");
  background_process tcpdump(ns_->exec({"tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "--time-stamp-precision=nano",
                                        "-w", pcap, "tcp port 8086"}),
                             dir_.path("tcpdump.log"));
  ASSERT_TRUE(tcpdump.wait_for_log("listening on", 10'000)) << tcpdump.log();
  start(port, {"-c", "5", "--duration", "30"});
  if (HasFatalFailure() || IsSkipped()) return;
  auto probe = ns_->run({synscope_binary(), "probe", "127.0.0.1:8086", "-c", "5", "-i", "50ms", "--json"});
  ASSERT_EQ(probe.exit_code, 0) << probe.err;
  auto traced = of_type(finish(30'000), "handshake");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  tcpdump.interrupt();
  auto analyzed = run_command({synscope_binary(), "analyze", pcap, "--json"});
  ASSERT_EQ(analyzed.exit_code, 0) << analyzed.err;
  auto wire = of_type(parse_json_lines(analyzed.out), "connection");
  auto key = [](const nlohmann::json& j) {
    return j.at("client").get<std::string>() + " " + j.at("server").get<std::string>() + " " +
           std::to_string(j.at("client_isn").get<uint32_t>());
  };
  std::map<std::string, nlohmann::json> by_trace, by_wire;
  for (const auto& h : traced) by_trace[key(h)] = h;
  for (const auto& c : wire) by_wire[key(c)] = c;
  auto attempts = of_type(parse_json_lines(probe.out), "attempt");
  ASSERT_EQ(attempts.size(), 5u);
  for (const auto& a : attempts) {
    ASSERT_FALSE(a.at("client_isn").is_null()) << "root reads the ISN: " << a.dump();
    std::string k = key(a);
    ASSERT_TRUE(by_trace.count(k)) << k << " not in the trace";
    ASSERT_TRUE(by_wire.count(k)) << k << " not in the capture";
    const auto& t = by_trace[k];
    const auto& w = by_wire[k];
    int64_t syn = t.at("syn_unix_ns").get<int64_t>();
    EXPECT_LE(a.at("time_unix_ns").get<int64_t>(), syn) << "the probe's connect() came before the SYN arrived";
    EXPECT_LT(syn, t.at("synack_unix_ns").get<int64_t>());
    EXPECT_LT(t.at("synack_unix_ns").get<int64_t>(), t.at("ack_unix_ns").get<int64_t>());
    EXPECT_NEAR(static_cast<double>(w.at("first_unix_ns").get<int64_t>()), static_cast<double>(syn), 50'000.0)
        << "the wire's SYN and the kernel's: " << w.dump() << t.dump();
  }

  // One ladder with both: the wire's packets and the server kernel's moments, in time order.
  std::string jsonl = dir_.path("trace.jsonl");
  {
    std::ofstream out(jsonl);
    for (const auto& h : traced) out << h.dump() << "\n";
  }
  uint64_t id = by_wire[key(attempts[0])].at("id").get<uint64_t>();
  auto ladder = run_command({synscope_binary(), "analyze", pcap, "--ladder", std::to_string(id), "--trace", jsonl});
  ASSERT_EQ(ladder.exit_code, 0) << ladder.err;
  const std::string& l = ladder.out;
  size_t syn = l.find("[S] seq=0");
  size_t kernel_syn = l.find("[kernel] SYN reached the server's kernel");
  size_t synack = l.find("[S.] seq=0 ack=1");
  size_t kernel_synack = l.find("[kernel] SYN-ACK left");
  size_t queued = l.find("[kernel] handshake complete: queued for accept()");
  size_t accepted = l.find("[kernel] accept() returned it to synscope");
  for (size_t at : {syn, kernel_syn, synack, kernel_synack, queued, accepted}) ASSERT_NE(at, std::string::npos) << l;
  // The kernel's SYN and tcpdump's are the same moment within microseconds, either first.
  EXPECT_LT(kernel_syn, kernel_synack) << l;
  EXPECT_LT(syn, synack) << l;
  EXPECT_LT(kernel_synack, synack) << "the kernel sends the SYN-ACK before the wire has it: " << l;
  EXPECT_LT(queued, accepted) << l;

  auto bad = run_command({synscope_binary(), "analyze", pcap, "--ladder", "0", "--trace", pcap});
  EXPECT_EQ(bad.exit_code, 4) << bad.err;
  EXPECT_NE(bad.err.find("line 1: not a JSON object"), std::string::npos) << bad.err;
}

TEST(TraceCli, WithoutPrivilegesItSaysWhichCapabilityAndExits77) {
  if (!have_tool("setpriv")) GTEST_SKIP() << "setpriv (util-linux) is not installed";
  auto r = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                        synscope_binary(), "trace", "--duration", "1"});
  EXPECT_EQ(r.exit_code, 77) << r.out << r.err;
  EXPECT_NE(r.err.find("CAP_BPF"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
}

TEST(TraceCli, BadArgumentsAreUsageErrors) {
  auto r = run_command({synscope_binary(), "trace", "-p", "70000"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_command({synscope_binary(), "trace", "--netns", "synscope-no-such-namespace", "--duration", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace synscope::testing
