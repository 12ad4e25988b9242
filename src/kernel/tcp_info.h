#pragma once
// The kernel's own view of one TCP socket (struct tcp_info), decoded once for both ways of
// asking: getsockopt(TCP_INFO) on a socket of ours, and INET_DIAG_INFO in a sock_diag dump.
// One table names the negotiated options.
//
//   auto v = kernel::read_tcp_info(fd);
//   if (v.valid) fmt::print("rtt {} us, {}\n", v.rtt_us, fmt::join(kernel::option_names(v.options), ","));
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace synscope::kernel {

/// The subset of struct tcp_info the handshake tools use. Fields the running kernel does not
/// fill stay zero (the struct is copied with min(len, sizeof), as ss does).
struct tcp_info_view {
  bool valid = false;
  uint8_t state = 0;                 ///< TCP_ESTABLISHED, TCP_SYN_SENT, ... (linux/tcp.h numbering)
  uint8_t options = 0;               ///< TCPI_OPT_* bits: what the handshake negotiated
  uint8_t snd_wscale = 0;            ///< peer's window scale (valid with TCPI_OPT_WSCALE)
  uint8_t rcv_wscale = 0;            ///< our window scale
  uint8_t retransmits = 0;           ///< consecutive unanswered retransmissions right now
  uint8_t fastopen_client_fail = 0;  ///< TFO_* reason (kernel >= 5.5)
  uint32_t rtt_us = 0;               ///< smoothed RTT; after a handshake, the SYN->SYN-ACK sample
  uint32_t rttvar_us = 0;
  uint32_t snd_mss = 0;
  uint32_t snd_cwnd = 0;
  uint32_t total_retrans = 0;        ///< every retransmission of this socket, SYNs included
};

/// Decodes the bytes of a struct tcp_info as the kernel gave them (an older kernel gives fewer;
/// a newer one more, of which the known prefix is read). Pure: fuzzed through the netlink target.
tcp_info_view decode_tcp_info(const void* bytes, size_t len) noexcept;

/// getsockopt(TCP_INFO); `valid` is false if the kernel refused (not a TCP socket, closed fd).
tcp_info_view read_tcp_info(int fd) noexcept;

/// The negotiated options in the kernel's bit order: "timestamps", "sack", "wscale", "ecn",
/// "ecn_seen", "syn_data" (the SYN-ACK acknowledged data carried on the SYN: TFO worked).
std::vector<std::string> option_names(uint8_t options);

/// TCPI_OPT_SYN_DATA: the SYN-ACK acknowledged data carried on our SYN (TFO worked).
bool syn_data_acked(const tcp_info_view& view);

/// "cookie_unavailable", "data_not_acked", "syn_retransmitted", or "" for none.
std::string fastopen_fail_name(uint8_t reason);

}  // namespace synscope::kernel
