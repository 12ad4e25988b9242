// bench/connect_rate: connections per second, synscope against its anchors, in one run.
//
//   build/release/bench/connect_rate [CONNECTIONS=100000] [CONCURRENCY=64]     # as root
//
// Everything runs inside a network namespace the benchmark makes (and deletes), on its
// loopback, with tcp_tw_reuse=1 and source ports 10000-65535 there (so TIME-WAIT never runs the
// client out of ports, and no source port takes a server port): the host is not touched.
//   1. the floor: a minimal C client in this process (one epoll loop keeping CONCURRENCY
//      non-blocking connects in flight, closing each once connected) against a thread that
//      accepts and closes: what the kernel can do;
//   2. synscope bench --mode connect against synscope serve (one thread each);
//   3. synscope bench --mode request and ab, same concurrency, against synscope serve --mode http;
//   4. ab against nginx (one worker, returning the same 3 bytes).
// It prints connections (or requests) per second and the ratios the issue sets targets for.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench_util.h"
#include "core/clock.h"
#include "core/unique_fd.h"

namespace {

using namespace synscope;

sockaddr_in loopback(uint16_t port) { return bench::loopback_v4(INADDR_LOOPBACK, port); }

// The floor: accept-and-close in one thread, CONCURRENCY connects in flight in another.
double c_floor(uint64_t connections, int concurrency) {
  core::unique_fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a = loopback(9100);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(listener.get(), 4096) != 0) {  // NOLINT
    return 0;
  }
  std::thread server([&] {
    for (;;) {
      int fd = accept(listener.get(), nullptr, nullptr);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
        return;  // shut down
      }
      close(fd);
    }
  });
  core::unique_fd ep(epoll_create1(EPOLL_CLOEXEC));
  uint64_t started = 0;
  uint64_t done = 0;
  auto start_one = [&] {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ++started;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {  // NOLINT
      close(fd);
      ++done;
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.fd = fd;
    epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
  };
  int64_t t0 = core::monotonic_ns();
  for (int i = 0; i < concurrency && started < connections; ++i) start_one();
  epoll_event events[256];
  while (done < connections) {
    int n = epoll_wait(ep.get(), events, 256, 1000);
    for (int i = 0; i < n; ++i) {
      close(events[i].data.fd);  // closing removes it from the epoll set
      ++done;
      if (started < connections) start_one();
    }
  }
  double seconds = static_cast<double>(core::monotonic_ns() - t0) / 1e9;
  shutdown(listener.get(), SHUT_RDWR);
  server.join();
  return static_cast<double>(connections) / seconds;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a command with stdout to `out`; returns the regex's first group as a number (0 if absent).
double rate_of(const std::vector<std::string>& argv, const std::string& out, const std::string& pattern) {
  auto r = bench::run(argv, out.c_str());
  std::smatch m;
  std::string text = slurp(out);
  if (r.status < 0 || !std::regex_search(text, m, std::regex(pattern))) {
    fmt::print(stderr, "bench/connect_rate: '{}' gave no rate (exit {}):\n{}\n", argv.front(), r.status, text);
    return 0;
  }
  return std::stod(m[1].str());
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t connections = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100'000;
  int concurrency = argc > 2 ? std::atoi(argv[2]) : 64;
  if (connections < 1000 || connections > 10'000'000 || concurrency < 1 || concurrency > 1000) {
    fmt::print(stderr, "usage: connect_rate [CONNECTIONS 1000-10000000] [CONCURRENCY 1-1000]\n");
    return 2;
  }
  std::string ns = fmt::format("synscope-bench-rate-{}", getpid());
  std::string dir = (std::filesystem::temp_directory_path() / ns).string();
  std::filesystem::create_directories(dir);
  auto sh = [](const std::string& cmd) { return std::system(cmd.c_str()); };
  if (sh(fmt::format("ip netns add {} && ip -n {} link set lo up", ns, ns)) != 0) {
    fmt::print(stderr, "bench/connect_rate: cannot create a network namespace (run as root)\n");
    return 3;
  }
  sh(fmt::format("ip netns exec {} sysctl -qw net.ipv4.tcp_tw_reuse=1 'net.ipv4.ip_local_port_range=10000 65535' "
                 "net.core.somaxconn=4096",
                 ns));
  core::unique_fd nsfd(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (!nsfd || setns(nsfd.get(), CLONE_NEWNET) != 0) {
    fmt::print(stderr, "bench/connect_rate: cannot enter {}\n", ns);
    sh("ip netns del " + ns);
    return 3;
  }
  std::string n = std::to_string(connections);
  std::string c = std::to_string(concurrency);
  fmt::print("bench/connect_rate: {} connections, concurrency {}, in namespace {}\n", connections, concurrency, ns);

  double floor = c_floor(connections, concurrency);
  double ours_connect = 0;
  double ours_request = 0;
  double ab_single = 0;
  double ab_ours = 0;
  double ab_nginx = 0;
  {
    bench::child serve({SYNSCOPE_BINARY, "serve", "--listen", "127.0.0.1:9200", "--mode", "ack", "--backlog", "4096"},
                dir + "/serve-ack.log");
    if (!bench::wait_for_port(9200)) fmt::print(stderr, "{}", slurp(dir + "/serve-ack.log"));
    else {
      ours_connect = rate_of({SYNSCOPE_BINARY, "bench", "127.0.0.1:9200", "--mode", "connect", "-n", n, "-c", c, "--json"},
                             dir + "/bench-connect.json", "\"per_s\":([0-9.e+]+)");
    }
  }
  // synscope serve --mode http and nginx run side by side; ab drives each in turn, three
  // times, best kept (ab, one thread, is the slower side here, so single runs are noisy).
  bench::child serve({SYNSCOPE_BINARY, "serve", "--listen", "127.0.0.1:9300", "--mode", "http", "--backlog", "4096"},
              dir + "/serve-http.log");
  std::optional<bench::child> nginx;
  if (std::system("command -v nginx > /dev/null") == 0) {
    std::ofstream conf(dir + "/nginx.conf");
    conf << "worker_processes 1;\nerror_log " << dir << "/nginx-error.log;\npid " << dir << "/nginx.pid;\n"
         << "events { worker_connections 4096; }\n"
         << "http {\n  access_log off;\n  client_body_temp_path " << dir << ";\n  proxy_temp_path " << dir
         << ";\n  fastcgi_temp_path " << dir << ";\n  uwsgi_temp_path " << dir << ";\n  scgi_temp_path " << dir
         << ";\n  server {\n    listen 127.0.0.1:9400 backlog=4096;\n"
         << "    location / { default_type text/plain; return 200 \"OK\\n\"; }\n  }\n}\n";
    conf.close();
    nginx.emplace(std::vector<std::string>{"nginx", "-c", dir + "/nginx.conf", "-p", dir, "-g", "daemon off;"},
                  dir + "/nginx.log");
  }
  bool serve_up = bench::wait_for_port(9300);
  if (!serve_up) fmt::print(stderr, "{}", slurp(dir + "/serve-http.log"));
  bool nginx_up = nginx && bench::wait_for_port(9400);
  if (nginx && !nginx_up) fmt::print(stderr, "{}{}", slurp(dir + "/nginx.log"), slurp(dir + "/nginx-error.log"));
  if (serve_up) {
    ours_request = rate_of({SYNSCOPE_BINARY, "bench", "127.0.0.1:9300", "--mode", "request", "--data",
                            "GET / HTTP/1.0\\r\\n\\r\\n", "-n", n, "-c", c, "--json"},
                           dir + "/bench-request.json", "\"per_s\":([0-9.e+]+)");
  }
  // One ab process is CPU-bound on one core and costs the same per request whichever server
  // answers (measured: 42-43 us of its own CPU per request against both), so it cannot tell
  // servers apart. Two ab processes, each with half the requests and half the concurrency,
  // fill both cores: then the CPU a server spends per connection is CPU the clients lack, and
  // the rate shows it. Same clients for both servers; best of three rounds.
  auto ab_pair = [&](const std::string& port, const std::string& name) {
    std::string half_n = std::to_string(connections / 2);
    std::string half_c = std::to_string(std::max(1, concurrency / 2));
    std::string url = "http://127.0.0.1:" + port + "/";
    auto one = [&](int i) {
      return rate_of({"ab", "-q", "-n", half_n, "-c", half_c, url}, fmt::format("{}/ab-{}-{}.txt", dir, name, i),
                     "Requests per second:\\s+([0-9.]+)");
    };
    auto first = std::async(std::launch::async, one, 1);
    double second = one(2);
    double a = first.get();
    return a > 0 && second > 0 ? a + second : 0.0;
  };
  for (int round = 0; round < 3; ++round) {
    if (serve_up) {
      ab_single = std::max(ab_single, rate_of({"ab", "-q", "-n", n, "-c", c, "http://127.0.0.1:9300/"},
                                              dir + "/ab-single.txt", "Requests per second:\\s+([0-9.]+)"));
    }
    if (serve_up) ab_ours = std::max(ab_ours, ab_pair("9300", "serve"));
    if (nginx_up) ab_nginx = std::max(ab_nginx, ab_pair("9400", "nginx"));
  }
  fmt::print("  {:<62} {:>10.0f} /s\n", "C floor: epoll connects, accept-and-close thread", floor);
  fmt::print("  {:<62} {:>10.0f} /s\n", "synscope bench --mode connect  vs synscope serve", ours_connect);
  fmt::print("  {:<62} {:>10.0f} /s\n", "synscope bench --mode request  vs synscope serve --mode http", ours_request);
  fmt::print("  {:<62} {:>10.0f} /s\n", "ab -n -c (best of 3)           vs synscope serve --mode http", ab_single);
  fmt::print("  {:<62} {:>10.0f} /s\n", "2 x ab, n/2 c/2 each (best of 3) vs synscope serve --mode http", ab_ours);
  fmt::print("  {:<62} {:>10.0f} /s\n", "2 x ab, n/2 c/2 each (best of 3) vs nginx (1 worker)", ab_nginx);
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  fmt::print("  bench connect / C floor             {:6.2f}   (target >= 0.90)\n", ratio(ours_connect, floor));
  fmt::print("  bench request / ab, same server     {:6.2f}   (target >= 1.00)\n", ratio(ours_request, ab_single));
  fmt::print("  serve under 2 ab / nginx under 2 ab {:6.2f}   (target >= 1.00)\n", ratio(ab_ours, ab_nginx));
  nginx.reset();  // ended by PID before their files go
  std::filesystem::remove_all(dir);
  sh("ip netns del " + ns);
  return floor > 0 && ours_connect > 0 && ours_request > 0 ? 0 : 1;
}
