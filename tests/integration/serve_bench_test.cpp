// synscope serve and synscope bench, on loopback inside namespaces the tests create: every
// serve mode answers as it should, ab gets 100 % against --mode http, bench's counts add up,
// TFO carries data on the SYN, a narrow port range gives the explicit exhaustion message, and a
// server that stops accepting shows in open-loop latency.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

void in_ns(const std::string& ns, const std::function<void()>& f) { in_netns(ns, f); }

// Connects to 127.0.0.1:port in `ns`, sends `data`, optionally shuts down writing, and reads
// until the server closes (3 s at most).
std::string exchange(const std::string& ns, uint16_t port, const std::string& data, bool shut_write) {
  std::string got;
  in_ns(ns, [&] {
    core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{3, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a = loopback(port);
    ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    ASSERT_EQ(send(fd.get(), data.data(), data.size(), MSG_NOSIGNAL), static_cast<ssize_t>(data.size()));
    if (shut_write) shutdown(fd.get(), SHUT_WR);
    char buf[4096];
    for (;;) {
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  });
  return got;
}

class ServeBench : public netns_test {
 protected:
  // Starts `synscope serve` in the namespace on 127.0.0.1:port; waits until it listens.
  std::unique_ptr<background_process> serve(uint16_t port, std::vector<std::string> extra) {
    std::vector<std::string> argv{synscope_binary(), "serve", "--listen", "127.0.0.1:" + std::to_string(port)};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<background_process>(ns_->exec(argv), dir_.path("serve-" + std::to_string(port) + ".log"));
    EXPECT_TRUE(p->wait_for_log("synscope serve:", 10'000)) << p->log();
    return p;
  }
  nlohmann::json bench(std::vector<std::string> args, command_result* raw = nullptr) {
    std::vector<std::string> argv{synscope_binary(), "bench"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.emplace_back("--json");
    auto r = ns_->run(argv, 120'000);
    if (raw != nullptr) *raw = r;
    auto lines = parse_json_lines(r.out);
    EXPECT_EQ(lines.size(), 1u) << r.out << r.err;
    return lines.empty() ? nlohmann::json{} : lines[0];
  }
  temp_dir dir_;
};

TEST_F(ServeBench, ListenTakesANameAndListensOnEachOfItsAddresses) {
  // Each address the resolver gives for localhost (/etc/hosts: 127.0.0.1, and ::1 where listed).
  auto hosts = run_command({"getent", "ahosts", "localhost"});
  ASSERT_EQ(hosts.exit_code, 0);
  std::vector<std::string> expected;
  std::istringstream lines_in(hosts.out);
  std::string address;
  std::string kind;
  while (lines_in >> address >> kind) {
    if (kind != "STREAM") continue;
    std::string shown = address.find(':') != std::string::npos ? "[" + address + "]:8609" : address + ":8609";
    if (std::find(expected.begin(), expected.end(), shown) == expected.end()) expected.push_back(shown);
    std::string rest;
    std::getline(lines_in, rest);
  }
  ASSERT_FALSE(expected.empty()) << hosts.out;
  auto r = ns_->run({synscope_binary(), "serve", "--listen", "localhost:8609", "--duration", "300ms", "--json"}, 20'000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = of_type(parse_json_lines(r.out), "listening");
  ASSERT_EQ(lines.size(), 1u) << r.out;
  auto listen = lines[0]["listen"].get<std::vector<std::string>>();
  std::sort(listen.begin(), listen.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listen, expected);
  auto bad = ns_->run({synscope_binary(), "serve", "--listen", "no-such-host.invalid:80", "--duration", "100ms"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_EQ(bad.err.rfind("synscope: --listen: cannot resolve host 'no-such-host.invalid'", 0), 0u) << bad.err;
}

TEST_F(ServeBench, EveryModeAnswersAsItShould) {
  auto ack = serve(8001, {"--mode", "ack"});
  auto echo = serve(8002, {"--mode", "echo", "--threads", "2"});
  auto discard = serve(8003, {"--mode", "discard"});
  auto http = serve(8004, {"--mode", "http"});
  EXPECT_EQ(exchange(ns_->name(), 8001, "hello server\n", false), "ACK\n");  // and the server closed
  EXPECT_EQ(exchange(ns_->name(), 8002, "abc\ndef\n", true), "abc\ndef\n");
  EXPECT_EQ(exchange(ns_->name(), 8003, "swallowed", true), "");
  std::string one = exchange(ns_->name(), 8004, "GET / HTTP/1.0\r\n\r\n", false);
  EXPECT_EQ(one.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << one;
  EXPECT_NE(one.find("Connection: close\r\n"), std::string::npos) << one;
  EXPECT_EQ(one.substr(one.size() - 3), "OK\n");
  // HTTP/1.1 keeps the connection for a second request; "Connection: close" ends it.
  std::string two = exchange(ns_->name(), 8004,
                             "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                             "Connection: close\r\n\r\nbody",
                             false);
  EXPECT_EQ(two.find("HTTP/1.1 200 OK"), 0u);
  EXPECT_NE(two.find("HTTP/1.1 200 OK", 10), std::string::npos) << two;
  EXPECT_NE(two.find("Connection: keep-alive"), std::string::npos);
  std::string bad = exchange(ns_->name(), 8004, "NONSENSE\r\n\r\n", false);
  EXPECT_EQ(bad.rfind("HTTP/1.1 400 Bad Request", 0), 0u) << bad;
  // SIGINT: stop, drain, statistics, exit 0.
  EXPECT_EQ(ack->interrupt(), 0);
  EXPECT_NE(ack->log().find("accepted 1, active 0"), std::string::npos) << ack->log();
  EXPECT_EQ(echo->interrupt(), 0);
  EXPECT_EQ(discard->interrupt(), 0);
  EXPECT_EQ(http->interrupt(), 0);
  EXPECT_NE(http->log().find("requests 3,"), std::string::npos) << http->log();  // the 400 is not one
}

TEST_F(ServeBench, HttpAnswersAGetWithABodyAsCurlSendsIt) {
  if (!have_tool("curl")) GTEST_SKIP() << "curl is needed";
  auto http = serve(8005, {"--mode", "http"});
  // A GET with a body as curl sends it: the body right after the head.
  std::string body = dir_.path("body.bin");
  std::ofstream(body) << std::string(4000, 'x');
  auto r = ns_->run({"curl", "-sS", "-X", "GET", "--data-binary", "@" + body, "--expect100-timeout", "30", "--max-time",
                     "10", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:8005/"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "200");
  // A client that says "Expect: 100-continue" (curl does for a POST over 1 KiB) sends the body
  // only after "100 Continue": a server that never sends it never gets the body, and never
  // answers. The 100 first, then, with the body, the answer.
  in_ns(ns_->name(), [&] {
    core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    timeval tv{3, 0};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a = loopback(8005);
    ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    std::string head = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n";
    ASSERT_EQ(send(fd.get(), head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
    char buf[512];
    ssize_t n = read(fd.get(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_EQ(send(fd.get(), "hello", 5, MSG_NOSIGNAL), 5);
    n = read(fd.get(), buf, sizeof buf);
    ASSERT_GT(n, 0);
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)).rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  });
  EXPECT_EQ(http->interrupt(), 0);
}

TEST_F(ServeBench, AbGetsEveryRequestAnsweredByModeHttp) {
  if (!have_tool("ab")) GTEST_SKIP() << "no ab";
  auto http = serve(8080, {"--mode", "http", "--threads", "2"});
  for (bool keep_alive : {false, true}) {
    std::vector<std::string> argv{"ab", "-n", "3000", "-c", "20"};
    if (keep_alive) argv.emplace_back("-k");
    argv.emplace_back("http://127.0.0.1:8080/");
    auto r = ns_->run(argv);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("Complete requests:      3000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Failed requests:        0"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("Non-2xx responses"), std::string::npos) << r.out;
  }
  EXPECT_EQ(http->interrupt(), 0);
}

// Against nginx (gzip makes its replies chunked): bench reads chunked bodies to their end, on
// closing and on kept-alive connections, and counts a 404 as ab does ("Non-2xx responses").
TEST_F(ServeBench, BenchReadsNginxChunkedRepliesAndCountsStatusAsAb) {
  if (!have_tool("nginx") || !have_tool("ab")) GTEST_SKIP() << "nginx and ab are needed";
  std::string d = dir_.path("nginx");
  std::filesystem::create_directories(d);
  {
    std::ofstream conf(d + "/nginx.conf");
    conf << "worker_processes 1;\npid " << d << "/nginx.pid;\nerror_log " << d << "/error.log;\ndaemon off;\nuser root;\n"
         << "events { worker_connections 256; }\nhttp {\n  access_log off;\n";
    for (const char* t : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) conf << "  " << t << "_temp_path " << d << "/" << t << ";\n";
    conf << "  gzip on; gzip_min_length 0; gzip_types text/plain; gzip_comp_level 1;\n"
         << "  server {\n    listen 127.0.0.1:8093;\n"
         << "    location = /ok { default_type text/plain; return 200 \"hello hello hello hello\\n\"; }\n"
         << "    location = /missing { return 404; }\n  }\n}\n";
  }
  background_process nginx(ns_->exec({"nginx", "-c", d + "/nginx.conf"}), d + "/out.log");
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    up = ns_->run({synscope_binary(), "probe", "127.0.0.1:8093", "-c", "1", "-q"}).exit_code == 0;
  }
  ASSERT_TRUE(up) << nginx.log();
  const std::string gzip_get = "GET /ok HTTP/1.1\\r\\nHost: t\\r\\nAccept-Encoding: gzip\\r\\n\\r\\n";
  for (const char* mode : {"request", "pooled"}) {
    SCOPED_TRACE(mode);
    auto j = bench({"127.0.0.1:8093", "--mode", mode, "-n", "200", "-c", "4", "--timeout", "2s", "--data", gzip_get});
    EXPECT_EQ(j["succeeded"], 200) << j.dump();
    EXPECT_EQ(j["http_status"]["200"], 200) << j.dump();
    EXPECT_EQ(j["chunked_replies"], 200) << "nginx sends gzip chunked: " << j.dump();
    EXPECT_EQ(j["non_2xx"], 0);
  }
  auto missing = bench({"127.0.0.1:8093", "--mode", "pooled", "-n", "150", "-c", "3", "--data",
                        "GET /missing HTTP/1.1\\r\\nHost: t\\r\\n\\r\\n"});
  auto ab = ns_->run({"ab", "-n", "150", "-c", "3", "http://127.0.0.1:8093/missing"});
  ASSERT_EQ(ab.exit_code, 0) << ab.err;
  EXPECT_NE(ab.out.find("Non-2xx responses:      150"), std::string::npos) << ab.out;
  EXPECT_EQ(missing["non_2xx"], 150) << missing.dump();
  EXPECT_EQ(missing["http_status"]["404"], 150) << missing.dump();
  EXPECT_EQ(nginx.interrupt(10'000), 0) << nginx.log();
}

// The last answer goes out corked, so close() puts the FIN on the answer's own segment; and
// delayed ACKs from accept on let that segment carry the ACK of the request. tcpdump counts
// the segments. The client here waits 50 ms after connecting before it sends, so the server
// has accepted (and turned quick ACKs off) by then: a request that lands before accept() is
// ACKed at once, which ab's requests, sent at once, often do on a loaded machine.
TEST_F(ServeBench, TheLastAnswerCarriesTheFinAndTheAck) {
  if (!have_tool("tcpdump")) GTEST_SKIP() << "tcpdump is needed";
  auto http = serve(8090, {"--mode", "http"});
  std::string pcap = dir_.path("fin.pcap");
  background_process capture(ns_->exec({"tcpdump", "-i", "lo", "-nn", "-U", "-Z", "root", "-w", pcap, "tcp port 8090"}),
                             dir_.path("tcpdump.log"));
  ASSERT_TRUE(capture.wait_for_log("listening on", 20'000)) << capture.log();
  const std::string request = "GET / HTTP/1.0\r\n\r\n";  // 18 bytes: its ACK is "ack 19"
  constexpr int connections = 20;
  int answered = 0;
  in_ns(ns_->name(), [&] {
    for (int i = 0; i < connections; ++i) {
      core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      timeval tv{3, 0};
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      sockaddr_in a = loopback(8090);
      ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ASSERT_EQ(send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL), static_cast<ssize_t>(request.size()));
      std::string got;
      char buf[4096];
      for (ssize_t n; (n = read(fd.get(), buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
      answered += got.rfind("HTTP/1.1 200 OK", 0) == 0 ? 1 : 0;
    }
  });
  EXPECT_EQ(answered, connections);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // libpcap's buffer timeout
  EXPECT_EQ(capture.interrupt(), 0) << capture.log();
  auto text = run_command({"tcpdump", "-r", pcap, "-nn"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  std::istringstream lines(text.out);
  std::string line;
  int answers = 0, answers_with_fin = 0, bare_acks_of_requests = 0, segments = 0;
  while (std::getline(lines, line)) {
    if (line.find(" IP ") == std::string::npos) continue;
    ++segments;
    if (line.find("127.0.0.1.8090 >") == std::string::npos) continue;
    bool data = line.find("length 0") == std::string::npos;
    bool fin = line.find("Flags [F") != std::string::npos;
    if (data) {
      ++answers;
      answers_with_fin += fin ? 1 : 0;
    } else if (!fin && line.find("Flags [.], ack 19,") != std::string::npos) {
      ++bare_acks_of_requests;  // the request ACKed by a segment of its own
    }
  }
  SCOPED_TRACE(text.out.substr(0, 4000));
  EXPECT_EQ(answers, connections);
  EXPECT_EQ(answers_with_fin, connections);
  EXPECT_EQ(bare_acks_of_requests, 0);
  EXPECT_EQ(segments, connections * 7);  // SYN, SYN-ACK, ACK, request, answer+FIN, FIN, ACK
  EXPECT_EQ(http->interrupt(), 0);
}

TEST_F(ServeBench, BenchCountsAddUp) {
  auto ack = serve(8101, {"--mode", "ack", "--threads", "2"});
  auto echo = serve(8102, {"--mode", "echo"});
  auto connect = bench({"127.0.0.1:8101", "-n", "3000", "-c", "32", "--threads", "2"});
  EXPECT_EQ(connect["started"], 3000);
  EXPECT_EQ(connect["started"].get<uint64_t>(), connect["succeeded"].get<uint64_t>() + connect["failed"].get<uint64_t>());
  EXPECT_EQ(connect["succeeded"], 3000);
  EXPECT_EQ(connect["handshake_us"]["count"], connect["succeeded"]);
  EXPECT_EQ(connect["latency_us"]["count"], connect["succeeded"]);
  EXPECT_GE(connect["kernel_delta"]["TcpExtTW"].get<int64_t>(), 2900);  // the client closed first, each time
  std::string html = dir_.path("bench.html");
  auto request = bench({"127.0.0.1:8101", "--mode", "request", "-n", "1000", "-c", "8", "--report", html});
  EXPECT_EQ(request["succeeded"], 1000);
  {
    std::ifstream in(html);
    std::stringstream page;
    page << in.rdbuf();
    EXPECT_EQ(page.str().rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(page.str().find("handshake (1000 samples)"), std::string::npos);  // the bars' and the CDF's legends
    EXPECT_NE(page.str().find("succeeded 1000"), std::string::npos);
  }
  EXPECT_EQ(request["connections"], 1000);
  EXPECT_EQ(request["latency_us"]["count"], 1000);
  auto pooled = bench({"127.0.0.1:8102", "--mode", "pooled", "-n", "1000", "-c", "4", "--data", "ping\\n"});
  EXPECT_EQ(pooled["succeeded"], 1000);
  EXPECT_EQ(pooled["connections"], 4);  // the seed's pool: four connections carried every request
  EXPECT_EQ(pooled["handshake_us"]["count"], 4);
  // Nobody listening: every attempt refused, and said so.
  command_result raw;
  auto refused = bench({"127.0.0.1:8199", "-n", "20"}, &raw);
  EXPECT_EQ(raw.exit_code, 1);
  EXPECT_EQ(refused["failed"], 20);
  EXPECT_EQ(refused["errors"]["ECONNREFUSED"], 20);
  EXPECT_EQ(ack->interrupt(), 0);
  EXPECT_NE(ack->log().find("accepted 4000"), std::string::npos) << ack->log();
  EXPECT_EQ(echo->interrupt(), 0);
}

TEST_F(ServeBench, FastOpenCarriesTheRequestInTheSyn) {
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_fastopen=3"}).exit_code, 0);
  auto ack = serve(8201, {"--mode", "ack", "--fastopen", "64"});
  auto r = bench({"127.0.0.1:8201", "--mode", "request", "--fastopen", "-n", "50", "-c", "1"});
  EXPECT_EQ(r["succeeded"], 50);
  EXPECT_GE(r["data_in_syn"].get<uint64_t>(), 45u);  // the first asks for the cookie
  EXPECT_GE(r["kernel_delta"]["TcpExtTCPFastOpenPassive"].get<int64_t>(), 45);
  EXPECT_GE(r["kernel_delta"]["TcpExtTCPFastOpenActive"].get<int64_t>(), 45);
  EXPECT_EQ(ack->interrupt(), 0);
}

TEST_F(ServeBench, ANarrowPortRangeGivesTheExhaustionMessageAndSourcesFixIt) {
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.ip_local_port_range=40000 40049"}).exit_code, 0);
  ASSERT_EQ(ns_->run({"sysctl", "-qw", "net.ipv4.tcp_tw_reuse=0"}).exit_code, 0);
  auto ack = serve(8301, {"--mode", "ack"});
  command_result raw;
  auto r = bench({"127.0.0.1:8301", "-n", "200", "-c", "1"}, &raw);
  EXPECT_EQ(raw.exit_code, 1);
  EXPECT_GE(r["errors"]["EADDRNOTAVAIL"].get<uint64_t>(), 100u) << raw.out;
  EXPECT_NE(raw.err.find("local ports exhausted (TIME_WAIT)"), std::string::npos) << raw.err;
  EXPECT_NE(raw.err.find("--source"), std::string::npos);
  // Eight source addresses: eight times the ports (50 each).
  auto spread = bench({"127.0.0.1:8301", "-n", "200", "-c", "1", "--source", "127.0.0.2-127.0.0.9"});
  EXPECT_EQ(spread["succeeded"], 200) << spread.dump();
  EXPECT_EQ(ack->interrupt(), 0);
}

TEST_F(ServeBench, AServerThatStopsAcceptingShowsInOpenLoopLatency) {
  auto healthy = serve(8401, {"--mode", "ack"});
  auto good = bench({"127.0.0.1:8401", "--rate", "100/s", "--duration", "2s", "-c", "8", "--timeout", "10s"});
  ASSERT_EQ(good["succeeded"], 200);
  EXPECT_LT(good["latency_us"]["p90"].get<double>(), 100'000.0);
  // A listener (backlog 1) whose application takes one connection a second: the accept queue
  // stays full, SYNs are dropped and retransmitted, and the attempts due meanwhile wait for a
  // free slot. Their latency counts from when they were due, so it grows past the handshake's.
  std::atomic<bool> done{false};
  int listener = -1;
  in_ns(ns_->name(), [&] {
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a = loopback(8402);
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
    ASSERT_EQ(listen(listener, 1), 0);
  });
  std::thread slow([&] {
    while (!done) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      int fd = accept(listener, nullptr, nullptr);
      if (fd >= 0) close(fd);
    }
  });
  auto stalled = bench({"127.0.0.1:8402", "--rate", "100/s", "--duration", "2s", "-c", "8", "--timeout", "10s"});
  done = true;
  slow.join();
  close(listener);
  EXPECT_EQ(stalled["started"].get<uint64_t>(), stalled["succeeded"].get<uint64_t>() + stalled["failed"].get<uint64_t>());
  EXPECT_EQ(stalled["started"].get<uint64_t>() + stalled["not_started"].get<uint64_t>(), 200u) << stalled.dump();
  double latency_p90 = stalled["latency_us"]["p90"].get<double>();
  double handshake_p90 = stalled["handshake_us"]["p90"].get<double>();
  EXPECT_GT(latency_p90, 1'000'000.0) << stalled.dump();
  EXPECT_GT(latency_p90, handshake_p90 + 500'000.0) << "waiting for a slot must count" << stalled.dump();
  EXPECT_GT(latency_p90, 10 * good["latency_us"]["p90"].get<double>());
  EXPECT_EQ(healthy->interrupt(), 0);
}

// CPU seconds (user + system) process `pid` has used.
double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(f);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

TEST_F(ServeBench, OutOfDescriptorsPausesAcceptingWithoutSpinning) {
  // 32 descriptors: fewer than the 60 connections made. The server must pause accept() while
  // out of descriptors, not burn a CPU, and take new connections once those are gone.
  std::vector<std::string> argv = ns_->exec({"prlimit", "--nofile=32:32", synscope_binary(), "serve", "--listen",
                                             "127.0.0.1:8501", "--mode", "echo", "--json"});
  background_process server(argv, dir_.path("serve-emfile.log"));
  ASSERT_TRUE(server.wait_for_log("\"listening\"", 10'000)) << server.log();
  auto first = parse_json_lines(server.log().substr(0, server.log().find('\n') + 1));
  ASSERT_EQ(first.size(), 1u);
  int pid = first[0]["pid"].get<int>();
  // 60 idle connections: the kernel completes every handshake; the server runs out of
  // descriptors after about 25 and the listener stays readable.
  std::vector<core::unique_fd> held;
  in_ns(ns_->name(), [&] {
    for (int i = 0; i < 60; ++i) {
      core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a = loopback(8501);
      ASSERT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);  // NOLINT
      held.push_back(std::move(fd));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double cpu_before = cpu_seconds(pid);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  double cpu = cpu_seconds(pid) - cpu_before;
  EXPECT_LT(cpu, 0.2) << "a busy loop: " << cpu << " s of CPU in 1 s with nothing to do";
  held.clear();  // the server's descriptors come back as these close
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(exchange(ns_->name(), 8501, "still here", true), "still here");
  EXPECT_EQ(server.interrupt(), 0);
  auto lines = parse_json_lines(server.log());
  ASSERT_GE(lines.size(), 2u);
  const auto& stats = lines.back();
  EXPECT_GT(stats["accept_pauses"].get<uint64_t>(), 0u) << stats.dump();
  EXPECT_GT(stats["errors"]["EMFILE"].get<uint64_t>(), 0u) << stats.dump();
}

TEST_F(ServeBench, ASecondServerOnTheSamePortIsRefusedNotJoined) {
  // serve's listeners are SO_REUSEPORT; a second serve on the port must not join the group and
  // take half the connections, on the same address or the wildcard.
  auto first = serve(8701, {"--mode", "ack", "--threads", "2"});
  for (const std::string addr : {"127.0.0.1:8701", "0.0.0.0:8701"}) {
    auto second = ns_->run({synscope_binary(), "serve", "--listen", addr, "--duration", "2s"});
    EXPECT_EQ(second.exit_code, 3);
    EXPECT_EQ(second.err, "synscope: cannot listen on " + addr +
                              ": bind: Address already in use (EADDRINUSE): a socket listens there already (ss -ltnp "
                              "shows whose)\n");
  }
  auto b = bench({"127.0.0.1:8701", "-n", "200", "-c", "4"});
  EXPECT_EQ(b["succeeded"], 200);
  EXPECT_EQ(first->interrupt(), 0);
  EXPECT_NE(first->log().find("accepted 200"), std::string::npos) << first->log();
  // Once it is gone the port is free again, its TIME-WAIT connections notwithstanding.
  auto again = ns_->run({synscope_binary(), "serve", "--listen", "127.0.0.1:8701", "--duration", "100ms"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(ServeBench, BenchLiftsTheSoftDescriptorLimitOrSaysWhy) {
  // A soft limit of 20 open files under -c 100: bench lifts it toward the hard limit, as the
  // prober does, instead of failing attempts with EMFILE.
  auto server = serve(8601, {"--mode", "ack"});
  auto argv = [](const std::string& limit) {
    return std::vector<std::string>{"prlimit", "--nofile=" + limit, synscope_binary(), "bench", "127.0.0.1:8601",
                                    "-n", "1000", "-c", "100", "--json"};
  };
  auto lifted = ns_->run(argv("20:400"));
  EXPECT_EQ(lifted.exit_code, 0) << lifted.err;
  auto lines = parse_json_lines(lifted.out);
  ASSERT_EQ(lines.size(), 1u) << lifted.out;
  EXPECT_EQ(lines[0]["succeeded"], 1000) << lines[0].dump();
  EXPECT_FALSE(lines[0]["errors"].contains("EMFILE")) << lines[0].dump();
  // A hard limit too low: nothing is started; one line names the option and the limit.
  auto refused = ns_->run(argv("20:100"));
  EXPECT_EQ(refused.exit_code, 3);
  EXPECT_EQ(refused.out, "");
  EXPECT_EQ(refused.err,
            "synscope: --concurrency 100 needs about 164 open files, but this process may open only 100 (raise the "
            "hard limit: ulimit -Hn, or LimitNOFILE= in a systemd unit)\n");
  EXPECT_EQ(server->interrupt(), 0);
  EXPECT_NE(server->log().find("accepted 1000"), std::string::npos) << server->log();
}

}  // namespace
}  // namespace synscope::testing
