#pragma once
// The kernel's own view of one TCP socket, read with getsockopt(TCP_INFO).
#include <cstdint>
#include <string>
#include <vector>

namespace synscope::active {

/// The subset of struct tcp_info the handshake tools use. Fields the running kernel does not
/// fill stay zero (the struct is copied with min(len, sizeof), as ss does).
struct tcp_kernel_view {
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
  uint32_t total_retrans = 0;        ///< every retransmission of this socket, SYNs included
};

/// Reads TCP_INFO; `valid` is false if the kernel refused (not a TCP socket, closed fd).
tcp_kernel_view read_tcp_info(int fd) noexcept;

/// Names of the negotiated options: "sack", "timestamps", "wscale", "ecn", "ecn_seen", "syn_data".
std::vector<std::string> option_names(uint8_t options);

/// TCPI_OPT_SYN_DATA: the SYN-ACK acknowledged data carried on our SYN (TFO worked).
bool syn_data_acked(const tcp_kernel_view& view);

/// "cookie_unavailable", "data_not_acked", "syn_retransmitted", or "" for none.
std::string fastopen_fail_name(uint8_t reason);

}  // namespace synscope::active
