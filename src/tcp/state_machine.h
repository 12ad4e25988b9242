#pragma once
// The TCP connection state machine of RFC 9293 §3.3.2 (Figure 5), as a table: pure, no I/O,
// no clock. Usable on its own; the tracker drives one per endpoint from what it sees on the
// wire.
//
//   tcp::tcp_state s = tcp::tcp_state::closed;
//   s = tcp::next_state(s, tcp::tcp_event::snd_syn).value();      // SYN-SENT
//   s = tcp::next_state(s, tcp::tcp_event::rcv_syn_ack).value();  // ESTABLISHED
#include <cstdint>
#include <optional>

namespace synscope::tcp {

enum class tcp_state : uint8_t {
  closed,
  listen,
  syn_sent,
  syn_received,
  established,
  fin_wait_1,
  fin_wait_2,
  close_wait,
  closing,
  last_ack,
  time_wait,
};
inline constexpr int tcp_state_count = 11;

/// What happens to one endpoint: user calls (passive open, close), segments it sends, segments
/// it receives, and the 2 MSL timer.
enum class tcp_event : uint8_t {
  passive_open,        ///< LISTEN
  snd_syn,             ///< active open, or a send from LISTEN
  rcv_syn,             ///< a SYN without ACK
  rcv_syn_ack,         ///< a SYN with ACK acknowledging our SYN
  rcv_ack_of_syn,      ///< an ACK acknowledging our SYN
  snd_fin,             ///< the application closed: a FIN is sent
  rcv_fin,             ///< a FIN that does not acknowledge our FIN
  rcv_ack_of_fin,      ///< an ACK acknowledging our FIN
  rcv_fin_ack_of_fin,  ///< a FIN that also acknowledges our FIN
  rcv_rst,             ///< an acceptable RST
  abort,               ///< the application aborted, or we sent a RST
  timeout_2msl,        ///< TIME-WAIT's timer ran out
};
inline constexpr int tcp_event_count = 12;

/// The state after `event`, or nullopt when RFC 9293 has no such transition from `state` (the
/// segment is then dropped or answered without a state change).
std::optional<tcp_state> next_state(tcp_state state, tcp_event event) noexcept;

/// "ESTABLISHED", "SYN-SENT", ... as RFC 9293 writes them.
const char* tcp_state_name(tcp_state s) noexcept;
/// "snd_syn", "rcv_fin", ...
const char* tcp_event_name(tcp_event e) noexcept;

}  // namespace synscope::tcp
