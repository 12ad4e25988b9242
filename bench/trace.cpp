// bench/trace: what tracing every handshake costs a server at full rate, in one run.
//
//   build/release/bench/trace [CONNECTIONS=50000] [CONCURRENCY=64] [ROUNDS=3]     # as root
//
// Each run in a network namespace of its own (deleted after it; the host is not touched): synscope
// serve --mode ack, and synscope bench --mode connect against it, ROUNDS times without and ROUNDS
// times with `synscope trace` attached (alternating, so a busy minute of the host falls on both),
// the best of each kept. It prints both rates, their ratio (issue 22's goal: the rate drops by at
// most 5 %, a ratio of at least 0.95), and what the trace saw and lost.
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench_util.h"
#include "core/unique_fd.h"

namespace {

using namespace synscope;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The first number the regex's group finds in `text`, or 0.
double number(const std::string& text, const std::string& pattern) {
  std::smatch m;
  return std::regex_search(text, m, std::regex(pattern)) ? std::stod(m[1].str()) : 0.0;
}

bool wait_for_text(const std::string& path, const std::string& text, int seconds) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (slurp(path).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

// One bench --mode connect run against serve, in a namespace made for it alone (so no run
// inherits another's TIME-WAIT sockets, which slow connect()'s port search), with or without
// `synscope trace` attached. Its rate; the trace's summary in *trace_summary.
double one_run(const std::string& dir, const std::string& name, uint64_t connections, int concurrency, bool traced,
               std::string* trace_summary) {
  std::string ns = fmt::format("synscope-bench-trace-{}-{}", getpid(), name);
  auto sh = [](const std::string& cmd) { return std::system(cmd.c_str()); };
  if (sh(fmt::format("ip netns add {} && ip -n {} link set lo up", ns, ns)) != 0) {
    fmt::print(stderr, "bench/trace: cannot create a network namespace (run as root)\n");
    return 0;
  }
  sh(fmt::format("ip netns exec {} sysctl -qw net.ipv4.tcp_tw_reuse=1 'net.ipv4.ip_local_port_range=10000 65535' "
                 "net.core.somaxconn=4096",
                 ns));
  double rate = 0;
  {
    bench::child serve({"ip", "netns", "exec", ns, SYNSCOPE_BINARY, "serve", "--listen", "127.0.0.1:9200", "--mode",
                        "ack", "--backlog", "4096"},
                       dir + "/serve-" + name + ".log");
    bool up = false;
    std::thread([&] {
      core::unique_fd nsfd(open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC));
      up = nsfd && setns(nsfd.get(), CLONE_NEWNET) == 0 && bench::wait_for_port(9200);
    }).join();
    std::optional<bench::child> trace;
    std::string log = dir + "/trace-" + name + ".log";
    if (up && traced) {
      trace.emplace(std::vector<std::string>{SYNSCOPE_BINARY, "trace", "--netns", ns, "-p", "9200", "--json", "-q"},
                    log);
      up = wait_for_text(log, "tracing handshakes", 20);
      if (!up) fmt::print(stderr, "bench/trace: synscope trace did not start:\n{}", slurp(log));
    }
    if (up) {
      std::string out = dir + "/" + name + ".json";
      auto r = bench::run({"ip", "netns", "exec", ns, SYNSCOPE_BINARY, "bench", "127.0.0.1:9200", "--mode", "connect",
                           "-n", std::to_string(connections), "-c", std::to_string(concurrency), "--json"},
                          out.c_str());
      rate = number(slurp(out), "\"per_s\":([0-9.e+]+)");
      if (r.status != 0 || rate == 0) fmt::print(stderr, "bench/trace: synscope bench failed (exit {}):\n{}", r.status, slurp(out));
    }
    trace.reset();  // SIGTERM: it prints its summary and exits
    if (traced) *trace_summary = slurp(log);
  }
  sh("ip netns del " + ns);
  return rate;
}

int main(int argc, char** argv) {
  uint64_t connections = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 50'000;
  int concurrency = argc > 2 ? std::atoi(argv[2]) : 64;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  if (connections < 1000 || connections > 10'000'000 || concurrency < 1 || concurrency > 1000 || rounds < 1 ||
      rounds > 20) {
    fmt::print(stderr, "usage: trace [CONNECTIONS 1000-10000000] [CONCURRENCY 1-1000] [ROUNDS 1-20]\n");
    return 2;
  }
  std::string dir = (std::filesystem::temp_directory_path() / fmt::format("synscope-bench-trace-{}", getpid())).string();
  std::filesystem::create_directories(dir);
  fmt::print("bench/trace: {} connections, concurrency {}, {} rounds each way, a fresh namespace a run\n", connections,
             concurrency, rounds);
  double plain = 0;
  double traced = 0;
  double handshakes = 0;
  double lost = 0;
  for (int round = 0; round < rounds; ++round) {
    std::string summary;
    double a = one_run(dir, fmt::format("plain-{}", round), connections, concurrency, false, nullptr);
    double b = one_run(dir, fmt::format("traced-{}", round), connections, concurrency, true, &summary);
    fmt::print("  round {}: {:>8.0f} /s plain, {:>8.0f} /s traced\n", round + 1, a, b);
    plain = std::max(plain, a);
    traced = std::max(traced, b);
    handshakes = std::max(handshakes, number(summary, "\"outcomes\":\\{\"accepted\":([0-9]+)"));
    lost = std::max(lost, number(summary, "\"lost_events\":([0-9]+)"));
  }
  fmt::print("  {:<58} {:>10.0f} /s\n", "synscope bench --mode connect vs serve (best)", plain);
  fmt::print("  {:<58} {:>10.0f} /s\n", "the same with synscope trace attached (best)", traced);
  fmt::print("  {:<58} {:>10.0f}\n", "handshakes the trace saw accepted (a round, most)", handshakes);
  fmt::print("  {:<58} {:>10.0f}\n", "events it lost (ring buffer full)", lost);
  fmt::print("  traced / plain rate                {:6.3f}   (target >= 0.95)\n", plain > 0 ? traced / plain : 0.0);
  std::filesystem::remove_all(dir);
  return plain > 0 && traced > 0 ? 0 : 1;
}
