// bench/probe_overhead: synscope probe's per-connect cost beside a minimal C connect-close loop,
// same target, same run. Both close with RST (SO_LINGER 0 / --reset) so neither fills the
// ephemeral port range with TIME_WAIT sockets. Loopback only; bounded by the count.
//
//   build/release/bench/probe_overhead [CONNECTS] [ROUNDS]
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "active/loopback_listener.h"
#include "bench_util.h"
#include "core/clock.h"

namespace {

using namespace synscope;

// The loop a C programmer would write: blocking socket, connect, close.
double c_loop_us(const core::socket_address& target, int n) {
  int64_t begin = core::monotonic_ns();
  for (int i = 0; i < n; ++i) {
    int fd = socket(target.family(), SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, target.data(), target.size()) != 0) {
      fmt::print(stderr, "probe_overhead: C loop connect failed at {}\n", i);
      std::exit(1);
    }
    linger lg{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
  }
  return core::ns_to_us(core::monotonic_ns() - begin) / n;
}

// The whole synscope process, start-up included, divided by the connects it made.
double synscope_us(const core::socket_address& target, int n) {
  auto r = bench::run({SYNSCOPE_BINARY, "probe", target.to_string(), "-c", std::to_string(n), "-i", "0", "-q",
                       "--reset"});
  if (r.status != 0) {
    fmt::print(stderr, "probe_overhead: synscope probe failed (status {})\n", r.status);
    std::exit(1);
  }
  return r.seconds * 1e6 / n;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  if (n <= 0 || n > 1'000'000 || rounds <= 0 || rounds > 20) {
    fmt::print(stderr, "usage: probe_overhead [CONNECTS 1-1000000] [ROUNDS 1-20]\n");
    return 2;
  }
  auto listener = active::loopback_listener::start({});
  if (!listener) {
    fmt::print(stderr, "probe_overhead: {}\n", listener.error().message);
    return 3;
  }
  const auto& target = listener->address();
  std::vector<double> c_runs, s_runs;
  for (int r = 0; r < rounds; ++r) {  // alternate, so drift on a shared machine hits both alike
    c_runs.push_back(c_loop_us(target, n));
    s_runs.push_back(synscope_us(target, n));
  }
  double c_best = *std::min_element(c_runs.begin(), c_runs.end());
  double s_best = *std::min_element(s_runs.begin(), s_runs.end());
  fmt::print("probe_overhead: {} connects to {} per run, {} rounds, best run of each\n", n, target.to_string(), rounds);
  fmt::print("  minimal C loop (socket, connect, close)    {:8.2f} us/connect\n", c_best);
  fmt::print("  synscope probe -i 0 -q --reset (whole run) {:8.2f} us/connect\n", s_best);
  fmt::print("  ratio synscope / C loop                    {:8.2f}x\n", s_best / c_best);
  return 0;
}
