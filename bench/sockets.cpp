// bench/sockets: counting TIME-WAIT sockets, synscope against ss and /proc/net/tcp, in one run.
//
//   build/release/bench/sockets [SOCKETS=50000] [ROUNDS=5]      # as root
//
// 1. Makes a network namespace of its own and, inside it, SOCKETS loopback connections that
//    each end in TIME-WAIT on the client side: a listener on 127.0.0.1:9000, clients bound to
//    127.0.0.2-127.0.0.51 (so no source port is short), connect, accept, client closes first,
//    server closes. Bounded by the count; the namespace (and every socket) goes at the end.
// 2. Moves itself into the namespace, so the commands it starts look there without
//    `ip netns exec` in the timing, and takes the best of ROUNDS runs of each:
//      synscope sockets --state time-wait --count
//      sh -c 'ss -tan state time-wait | wc -l'
//      cat /proc/net/tcp   (the old interface: every socket formatted by the kernel)
//    then prints the times and synscope's share of ss's time (target: at most 1/3).
// 3. Start-up, which every short command pays: the best of 10*ROUNDS runs of `synscope --version`
//    beside `ss -V` (target: at most 1.5x).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "bench_util.h"
#include "core/unique_fd.h"

namespace {

using namespace synscope;


}  // namespace

int main(int argc, char** argv) {
  uint64_t sockets = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 50'000;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  if (sockets < 100 || sockets > 100'000 || rounds < 1 || rounds > 50) {
    fmt::print(stderr, "usage: sockets [SOCKETS 100-100000] [ROUNDS 1-50]\n");
    return 2;
  }
  std::string ns = fmt::format("synscope-bench-sockets-{}", getpid());
  if (std::system(fmt::format("ip netns add {} && ip -n {} link set lo up", ns, ns).c_str()) != 0) {
    fmt::print(stderr, "bench/sockets: cannot create a network namespace (run as root)\n");
    return 3;
  }
  core::unique_fd nsfd(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
  int status = 1;
  if (nsfd && setns(nsfd.get(), CLONE_NEWNET) == 0 && bench::make_time_wait(sockets, 9000)) {
    auto count = bench::run({SYNSCOPE_BINARY, "sockets", "--state", "time-wait", "--count"}, "/tmp/bench-sockets-count");
    std::FILE* f = std::fopen("/tmp/bench-sockets-count", "r");
    unsigned long long n = 0;
    if (f != nullptr) {
      if (std::fscanf(f, "%llu", &n) != 1) n = 0;
      std::fclose(f);
    }
    std::remove("/tmp/bench-sockets-count");
    fmt::print("bench/sockets: {} TIME-WAIT sockets in namespace {} (synscope counts {}), best of {}\n", sockets, ns, n,
               rounds);
    if (count.status == 0 && n >= sockets) {
      double ours = bench::best_of(rounds, {SYNSCOPE_BINARY, "sockets", "--state", "time-wait", "--count"}, "bench/sockets");
      double ss = bench::best_of(rounds, {"sh", "-c", "ss -tan state time-wait | wc -l"}, "bench/sockets");
      double proc = bench::best_of(rounds, {"cat", "/proc/net/tcp"}, "bench/sockets");
      fmt::print("  {:<50} {:8.2f} ms\n", "synscope sockets --state time-wait --count", ours * 1e3);
      fmt::print("  {:<50} {:8.2f} ms\n", "ss -tan state time-wait | wc -l", ss * 1e3);
      fmt::print("  {:<50} {:8.2f} ms\n", "cat /proc/net/tcp", proc * 1e3);
      fmt::print("  synscope / ss       {:6.3f}   (target <= 0.333)\n", ours / ss);
      fmt::print("  synscope / proc     {:6.3f}\n", ours / proc);
      double start = bench::best_of(rounds * 10, {SYNSCOPE_BINARY, "--version"}, "bench/sockets");
      double ss_start = bench::best_of(rounds * 10, {"ss", "-V"}, "bench/sockets");
      fmt::print("start-up, best of {}\n", rounds * 10);
      fmt::print("  {:<50} {:8.2f} ms\n", "synscope --version", start * 1e3);
      fmt::print("  {:<50} {:8.2f} ms\n", "ss -V", ss_start * 1e3);
      fmt::print("  synscope / ss       {:6.3f}   (target <= 1.5)\n", start / ss_start);
      status = 0;
    }
  } else {
    fmt::print(stderr, "bench/sockets: could not set up {} TIME-WAIT sockets\n", sockets);
  }
  std::system(fmt::format("ip netns del {}", ns).c_str());
  return status;
}
