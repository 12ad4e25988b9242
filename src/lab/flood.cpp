#include "lab/flood.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "lab/testbed.h"

namespace synscope::lab {
namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum) {
  for (size_t i = 0; i + 1 < n; i += 2) sum += static_cast<uint32_t>(p[i] << 8 | p[i + 1]);
  if (n % 2 == 1) sum += static_cast<uint32_t>(p[n - 1] << 8);
  return sum;
}

uint16_t fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// xorshift64*: sources, ports and sequence numbers need to differ, not to be secret.
struct random_bits {
  uint64_t state;
  uint32_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return static_cast<uint32_t>((state * 0x2545F4914F6CDD1DULL) >> 32);
  }
};

}  // namespace

size_t build_syn(std::span<uint8_t> out, uint32_t source, uint16_t source_port, uint32_t target, uint16_t port,
                 uint32_t seq) {
  constexpr size_t ip_len = 20;
  constexpr size_t tcp_len = 24;
  if (out.size() < ip_len + tcp_len) return 0;
  uint8_t* ip = out.data();
  std::memset(ip, 0, ip_len + tcp_len);
  ip[0] = 0x45;                                       // IPv4, 20-byte header
  put16(ip + 2, static_cast<uint16_t>(ip_len + tcp_len));
  ip[6] = 0x40;                                       // don't fragment
  ip[8] = 64;                                         // TTL
  ip[9] = IPPROTO_TCP;
  put32(ip + 12, source);
  put32(ip + 16, target);                             // id and checksum: the kernel's
  uint8_t* tcp = ip + ip_len;
  put16(tcp, source_port);
  put16(tcp + 2, port);
  put32(tcp + 4, seq);
  tcp[12] = static_cast<uint8_t>((tcp_len / 4) << 4);
  tcp[13] = 0x02;                                     // SYN
  put16(tcp + 14, 64240);                             // window
  tcp[20] = 2;                                        // MSS option, 1460
  tcp[21] = 4;
  put16(tcp + 22, 1460);
  uint8_t pseudo[12];
  put32(pseudo, source);
  put32(pseudo + 4, target);
  pseudo[8] = 0;
  pseudo[9] = IPPROTO_TCP;
  put16(pseudo + 10, static_cast<uint16_t>(tcp_len));
  put16(tcp + 16, fold(sum16(tcp, tcp_len, sum16(pseudo, sizeof pseudo, 0))));
  return ip_len + tcp_len;
}

core::result<flood_report> syn_flood(const flood_options& o, const std::atomic<bool>& stop) {
  if (!in_lab(o.target)) {
    return core::error{core::exit_code::usage, "lab: a flood goes only to the lab's own link, 10.203.0.0/24"};
  }
  if (o.duration_ns <= 0 || !(o.rate > 0)) {
    return core::error{core::exit_code::usage, "lab: a flood needs a rate and a duration (every flood is bounded)"};
  }
  core::unique_fd fd(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!fd) {
    auto e = core::system_error("lab flood", "socket(SOCK_RAW)", errno);
    if (errno == EPERM) e.code = core::exit_code::no_permission;
    return e;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(o.target);
  random_bits rnd{static_cast<uint64_t>(core::monotonic_ns()) | 1u};
  flood_report r;
  uint8_t packet[64];
  int64_t start = core::monotonic_ns();
  for (;;) {
    int64_t now = core::monotonic_ns();
    r.elapsed_ns = now - start;
    if (stop.load(std::memory_order_relaxed) || r.elapsed_ns >= o.duration_ns || r.sent + r.send_errors >= o.max_packets) {
      break;
    }
    auto due = static_cast<uint64_t>(o.rate * static_cast<double>(r.elapsed_ns) / 1e9);
    if (due > o.max_packets) due = o.max_packets;
    while (r.sent + r.send_errors < due) {
      uint32_t host = rnd.next() % 0xfffe + 1;  // 10.204.0.1 - 10.204.255.254
      auto sport = static_cast<uint16_t>(1024 + rnd.next() % (65536 - 1024));
      size_t len = build_syn(packet, spoofed_network | host, sport, o.target, o.port, rnd.next());
      if (sendto(fd.get(), packet, len, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) < 0) {  // NOLINT
        ++r.send_errors;
      } else {
        ++r.sent;
      }
    }
    timespec ts{0, 1'000'000};  // 1 ms ticks: at 2,000/s, two SYNs a tick
    nanosleep(&ts, nullptr);
  }
  r.elapsed_ns = core::monotonic_ns() - start;
  return r;
}

}  // namespace synscope::lab
