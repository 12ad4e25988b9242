// bench/exporter: scrape time and memory, synscope exporter against node_exporter, in one run.
//
//   build/release/bench/exporter [TIME_WAIT=50000] [SCRAPES=50]     # as root
//
// In a network namespace of its own with TIME_WAIT loopback sockets in it, it starts
// `synscope exporter` and node_exporter with the collectors that cover the same ground
// (netstat, sockstat, tcpstat), scrapes each SCRAPES times (alternating, one at a time, over a
// plain HTTP/1.0 GET), and prints the median scrape time and each exporter's resident memory
// (VmRSS after the scrapes, and its peak, VmHWM), with the ratios the issue sets targets for.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench_util.h"

namespace {

using namespace synscope;

// One GET /metrics over a fresh connection; the seconds it took, or -1.
double scrape(uint16_t port, size_t& bytes) {
  int64_t t0 = core::monotonic_ns();
  core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a = bench::loopback_v4(0x7f000001, port);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;  // NOLINT
  const char request[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(fd.get(), request, sizeof request - 1, MSG_NOSIGNAL) < 0) return -1;
  char buf[65536];
  bytes = 0;
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0) return -1;
    if (n == 0) break;
    bytes += static_cast<size_t>(n);
  }
  return static_cast<double>(core::monotonic_ns() - t0) / 1e9;
}

bool wait_for(uint16_t port) {
  for (int i = 0; i < 200; ++i) {
    size_t bytes = 0;
    if (scrape(port, bytes) >= 0 && bytes > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// VmRSS and VmHWM of `pid`, in MB.
std::pair<double, double> memory_mb(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  double rss = 0;
  double hwm = 0;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024.0;
    if (line.rfind("VmHWM:", 0) == 0) hwm = std::stod(line.substr(6)) / 1024.0;
  }
  return {rss, hwm};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t time_wait = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 50'000;
  int scrapes = argc > 2 ? std::atoi(argv[2]) : 50;
  if (time_wait > 100'000 || scrapes < 1 || scrapes > 10'000) {
    fmt::print(stderr, "usage: exporter [TIME_WAIT 0-100000] [SCRAPES 1-10000]\n");
    return 2;
  }
  std::string ns = fmt::format("synscope-bench-exporter-{}", getpid());
  std::string dir = (std::filesystem::temp_directory_path() / ns).string();
  std::filesystem::create_directories(dir);
  if (std::system(fmt::format("ip netns add {} && ip -n {} link set lo up", ns, ns).c_str()) != 0) {
    fmt::print(stderr, "bench/exporter: cannot create a network namespace (run as root)\n");
    return 3;
  }
  int status = 1;
  core::unique_fd nsfd(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  if (nsfd && setns(nsfd.get(), CLONE_NEWNET) == 0 && bench::make_time_wait(time_wait, 9000)) {
    bench::child ours({SYNSCOPE_BINARY, "exporter", "--listen", "127.0.0.1:9851"}, dir + "/synscope.log");
    bench::child theirs({"prometheus-node-exporter", "--web.listen-address=127.0.0.1:9100", "--collector.disable-defaults",
                         "--collector.netstat", "--collector.sockstat", "--collector.tcpstat"},
                        dir + "/node_exporter.log");
    if (wait_for(9851) && wait_for(9100)) {
      std::vector<double> t_ours;
      std::vector<double> t_theirs;
      size_t b_ours = 0;
      size_t b_theirs = 0;
      for (int i = 0; i < scrapes; ++i) {
        t_ours.push_back(scrape(9851, b_ours));
        t_theirs.push_back(scrape(9100, b_theirs));
      }
      auto [rss_ours, hwm_ours] = memory_mb(ours.pid);
      auto [rss_theirs, hwm_theirs] = memory_mb(theirs.pid);
      double m_ours = median(t_ours);
      double m_theirs = median(t_theirs);
      fmt::print("bench/exporter: {} TIME-WAIT sockets in namespace {}, {} scrapes each, alternating\n", time_wait, ns,
                 scrapes);
      fmt::print("  {:<58} {:8.2f} ms  {:6.1f} MB resident ({:.1f} MB peak)  {} bytes\n",
                 "synscope exporter", m_ours * 1e3, rss_ours, hwm_ours, b_ours);
      fmt::print("  {:<58} {:8.2f} ms  {:6.1f} MB resident ({:.1f} MB peak)  {} bytes\n",
                 "node_exporter (netstat, sockstat, tcpstat)", m_theirs * 1e3, rss_theirs, hwm_theirs, b_theirs);
      fmt::print("  scrape time   synscope / node_exporter  {:6.3f}   (target <= 0.333)\n", m_ours / m_theirs);
      fmt::print("  resident      synscope / node_exporter  {:6.3f}   (target <= 0.5)\n", rss_ours / rss_theirs);
      status = 0;
    } else {
      fmt::print(stderr, "bench/exporter: an exporter did not answer\n");
    }
  } else {
    fmt::print(stderr, "bench/exporter: could not set up {} TIME-WAIT sockets\n", time_wait);
  }
  std::filesystem::remove_all(dir);
  std::system(fmt::format("ip netns del {}", ns).c_str());
  return status;
}
