// bench/analyze: synscope analyze against its anchors on the same capture, in one run.
//
//   build/release/bench/analyze [PACKETS=1000000] [MEMORY_CONNECTIONS=1000000]
//
// 1. Makes a capture of real loopback handshakes: `synscope probe -i 0 --reset` in a network
//    namespace of its own, captured by tcpdump (4 packets per connection: SYN, SYN-ACK, ACK,
//    RST; at most one connection open at a time). Loopback only, bounded by the count.
// 2. Times `cat` (the read limit), `synscope analyze`, `tcpdump -nn -r` and tshark computing
//    initial RTTs on that file, and prints packets/s and the ratios.
// 3. Makes a capture of MEMORY_CONNECTIONS connections the same way and reports synscope's
//    peak memory analyzing it (the bound: 64 MB for a million connections).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "bench_util.h"
#include "wire/capture_reader.h"

namespace {

using namespace synscope;

uint64_t count_frames(const std::string& path) {
  auto reader = wire::capture_reader::open(path);
  if (!reader) return 0;
  wire::frame f;
  uint64_t n = 0;
  while (true) {
    auto more = reader->next(f);
    if (!more || !*more) break;
    ++n;
  }
  return n;
}

// Captures `connections` real loopback handshakes into `path`; returns the packet count.
uint64_t make_capture(const std::string& path, uint64_t connections) {
  std::string ns = fmt::format("synscope-bench-{}", getpid());
  std::string log = path + ".tcpdump.log";
  auto sh = [](const std::string& cmd) { return std::system(cmd.c_str()); };
  if (sh(fmt::format("ip netns add {} && ip -n {} link set lo up", ns, ns)) != 0) {
    fmt::print(stderr, "bench/analyze: cannot create a network namespace (run as root)\n");
    std::exit(3);
  }
  // -s 96 keeps the headers; -B gives the kernel room so that nothing is dropped.
  sh(fmt::format("ip netns exec {} tcpdump -i lo -nn -U -Z root -B 131072 -s 96 -w {} tcp > {} 2>&1 & echo $! > {}.pid",
                 ns, path, log, path));
  for (int i = 0; i < 100; ++i) {
    if (sh(fmt::format("grep -q 'listening on' {} 2>/dev/null", log)) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  sh(fmt::format("ip netns exec {} {} probe -c {} -i 0 -q --reset > /dev/null", ns, SYNSCOPE_BINARY, connections));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // libpcap's buffer timeout
  sh(fmt::format("kill -INT $(cat {}.pid); sleep 1; ip netns del {}", path, ns));
  std::filesystem::remove(path + ".pid");
  std::filesystem::remove(log);
  return count_frames(path);
}


}  // namespace

int main(int argc, char** argv) {
  uint64_t packets = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1'000'000;
  uint64_t memory_connections = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000;
  if (packets < 1000 || packets > 20'000'000 || memory_connections > 5'000'000) {
    fmt::print(stderr, "usage: analyze [PACKETS 1000-20000000] [MEMORY_CONNECTIONS 0-5000000]\n");
    return 2;
  }
  std::string dir = (std::filesystem::temp_directory_path() / fmt::format("synscope-bench-{}", getpid())).string();
  std::filesystem::create_directories(dir);
  std::string file = dir + "/handshakes.pcap";
  uint64_t got = make_capture(file, packets / 4 + 1);
  if (got < packets) {
    fmt::print(stderr, "bench/analyze: the capture has {} packets, fewer than {}\n", got, packets);
    return 1;
  }
  double mb = static_cast<double>(std::filesystem::file_size(file)) / 1e6;
  fmt::print("bench/analyze: {} packets of real loopback handshakes, {:.1f} MB\n", got, mb);
  bench::run({"cat", file});  // warm the page cache for everyone
  double t_cat = bench::best_of(3, {"cat", file}, "bench/analyze");
  double t_ours = bench::best_of(3, {SYNSCOPE_BINARY, "analyze", file}, "bench/analyze");
  double t_tcpdump = bench::best_of(1, {"tcpdump", "-nn", "-r", file}, "bench/analyze");
  double t_tshark = bench::best_of(1, {"tshark", "-r", file, "-T", "fields", "-e", "tcp.analysis.initial_rtt"}, "bench/analyze");
  auto rate = [&](double s) { return static_cast<double>(got) / s / 1e6; };
  fmt::print("  {:<44} {:8.3f} s {:9.2f} M packets/s\n", "cat (the read limit)", t_cat, rate(t_cat));
  fmt::print("  {:<44} {:8.3f} s {:9.2f} M packets/s\n", "synscope analyze", t_ours, rate(t_ours));
  fmt::print("  {:<44} {:8.3f} s {:9.2f} M packets/s\n", "tcpdump -nn -r", t_tcpdump, rate(t_tcpdump));
  fmt::print("  {:<44} {:8.3f} s {:9.2f} M packets/s\n", "tshark -T fields -e tcp.analysis.initial_rtt", t_tshark,
             rate(t_tshark));
  fmt::print("  ratio synscope / tshark   {:8.1f}x   (target >= 200x)\n", t_tshark / t_ours);
  fmt::print("  ratio synscope / tcpdump  {:8.1f}x   (target >= 20x)\n", t_tcpdump / t_ours);
  fmt::print("  synscope / cat            {:8.1f}%   (target >= 20%)\n", 100.0 * t_cat / t_ours);
  std::filesystem::remove(file);

  if (memory_connections > 0) {
    std::string big = dir + "/connections.pcap";
    uint64_t big_packets = make_capture(big, memory_connections);
    auto r = bench::run({SYNSCOPE_BINARY, "analyze", big});
    fmt::print("  peak memory, {} connections ({} packets, at most 1 open at once): {:.1f} MB   (bound: 64 MB)\n",
               memory_connections, big_packets, static_cast<double>(r.max_rss_kib) / 1024.0);
    std::filesystem::remove(big);
  }
  std::filesystem::remove_all(dir);
  return 0;
}
