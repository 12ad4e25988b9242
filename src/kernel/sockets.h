#pragma once
// TCP sockets from the kernel through netlink sock_diag (INET_DIAG), the interface `ss` uses.
// The state filter travels to the kernel, so only sockets in the asked-for states cross into
// user space; request sockets (half-open connections, NEW_SYN_RECV) come with SYN-RECV.
//
//   kernel::socket_query q;
//   q.states = kernel::state_bit(kernel::tcp_state::time_wait);
//   uint64_t n = 0;
//   auto r = kernel::dump_tcp(q, [&](const kernel::tcp_socket&) { ++n; });
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/endpoint.h"
#include "core/error.h"
#include "kernel/tcp_info.h"

namespace synscope::kernel {

/// The kernel's TCP states (include/net/tcp_states.h), with their numbers.
enum class tcp_state : uint8_t {
  established = 1, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait, close, close_wait, last_ack, listen, closing,
  new_syn_recv,
};
inline constexpr int tcp_state_max = 12;
constexpr uint32_t state_bit(tcp_state s) { return 1u << static_cast<uint32_t>(s); }
inline constexpr uint32_t all_states = 0xfffu << 1;  // 1..12

/// ss's name for a state ("time-wait", "syn-recv", "listen"...); TCP_CLOSE is "closed", the
/// word ss filters it by (ss prints it as UNCONN).
const char* state_name(tcp_state s);
/// ss's state names and groups (all, connected, synchronized, bucket, big) as a state mask;
/// "listening" is accepted for "listen" and "unconnected" for "closed", in any case, as ss does.
std::optional<uint32_t> parse_states(std::string_view name);

using core::ip_endpoint;
/// As ss writes a socket's end: "127.0.0.1:80", "[::1]:80", "0.0.0.0:80", and a port of zero
/// as '*': "0.0.0.0:*", "[::]:*".
std::string socket_text(const ip_endpoint& e);

struct tcp_socket {
  tcp_state state = tcp_state::close;
  ip_endpoint local;
  ip_endpoint remote;
  uint32_t rqueue = 0;  ///< listeners: accept queue now; others: bytes unread
  uint32_t wqueue = 0;  ///< listeners: accept queue limit (backlog); others: bytes unacknowledged
  uint32_t uid = 0;
  uint64_t inode = 0;   ///< 0 for TIME-WAIT and request sockets (no file)
  uint8_t timer = 0;    ///< 0 none, 1 retransmit, 2 keepalive, 3 TIME-WAIT, 4 zero-window probe
  uint8_t retrans = 0;
  uint32_t expires_ms = 0;
  std::optional<tcp_info_view> info;  ///< INET_DIAG_INFO of a full socket, when asked for
};

struct socket_query {
  uint32_t states = all_states;  ///< state_bit() mask; filtered in the kernel
  bool ipv4 = true;
  bool ipv6 = true;
  bool tcp_info = false;         ///< ask for INET_DIAG_INFO (full sockets only)
};

/// Socket counts per state (tcp_state as index) and family (0 IPv4, 1 IPv6).
using state_counts = std::array<std::array<uint64_t, 2>, tcp_state_max + 1>;

/// The counts a full dump_tcp() would give, at a fraction of its cost when TIME-WAIT sockets
/// are many: building one message per socket is most of a dump (about two thirds with 50,000
/// TIME-WAIT), and TIME-WAIT sockets need none here. On two threads at once:
///  - one dump of every state but TIME-WAIT (listeners, request sockets, FIN-WAIT-2
///    mini-sockets with them), each of which also goes to `each`;
///  - one dump of IPv6 TIME-WAIT only, which the kernel walks past IPv4 without a message.
/// IPv4 TIME-WAIT is then /proc/net/sockstat's `tw` (this namespace's TIME-WAIT and FIN-WAIT-2
/// mini-sockets, both families) less the mini-sockets and IPv6 TIME-WAIT the dumps saw. The
/// three readings are not one instant: sockets changing state in between can move the IPv4
/// TIME-WAIT figure by as many (never below 0); a full dump has the same blur over its length.
core::result<state_counts> count_tcp(const std::function<void(const tcp_socket&)>& each);

core::result<void> dump_tcp(const socket_query& query, const std::function<void(const tcp_socket&)>& each);

/// Parses one sock_diag reply message (an inet_diag_msg with its attributes). False when the
/// bytes are not a well-formed message. Pure: the fuzz target calls it on arbitrary input.
bool parse_diag_message(const void* msg, size_t len, tcp_socket& out);

/// Walks the netlink messages in a receive buffer: each SOCK_DIAG_BY_FAMILY message goes to
/// `each`. Returns 1 when NLMSG_DONE was seen, 0 when more is to come, or an error (a
/// NLMSG_ERROR from the kernel, or a malformed buffer).
core::result<int> walk_replies(const void* buf, size_t len, const std::function<void(const tcp_socket&)>& each);

/// socket inode -> "pid/comm" of the process holding it, from /proc/<pid>/fd (all processes
/// this user may look into). For -p.
struct socket_owner {
  int pid = 0;
  std::string comm;
};
std::vector<std::pair<uint64_t, socket_owner>> socket_owners(const std::string& proc_root = "/proc");

}  // namespace synscope::kernel
