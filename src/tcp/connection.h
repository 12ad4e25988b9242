#pragma once
// One TCP connection as the handshake analyzer records it.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "tcp/state_machine.h"
#include "wire/packet.h"

namespace synscope::tcp {

/// One end of a connection (core::to_string writes it).
using endpoint = core::ip_endpoint;

/// Zeek's conn_state (base/protocols/conn/main.zeek), computed the same way.
enum class conn_state : uint8_t { s0, s1, sf, rej, s2, s3, rsto, rstr, rstos0, rstrh, sh, shr, oth };
const char* conn_state_name(conn_state s);
/// What a conn_state means, in a few words: "SYN seen, no reply (half-open)".
const char* conn_state_meaning(conn_state s);

/// Zeek's per-endpoint states, from which conn_state is derived.
enum class zeek_endpoint : uint8_t { inactive, syn_sent, syn_ack_sent, partial, established, closed, reset };

/// Handshake options one side offered on its SYN or SYN-ACK.
struct offered_options {
  bool seen = false;  ///< a SYN (client) or SYN-ACK (server) was seen to read them from
  bool mss = false;
  bool wscale = false;
  bool sack_permitted = false;
  bool timestamps = false;
  bool fastopen = false;
  bool mptcp = false;
  uint16_t mss_value = 0;
  uint8_t wscale_value = 0;
  uint8_t fastopen_cookie_len = 0;
};

/// How the connection's record ended.
enum class end_reason : uint8_t { open, fin, reset, idle, capture_end, superseded };
const char* end_reason_name(end_reason r);

namespace anomaly {
inline constexpr uint32_t synack_wrong_ack = 1u << 0;    ///< SYN-ACK does not acknowledge ISN+1 (+SYN data)
inline constexpr uint32_t ack_not_isn_plus_1 = 1u << 1;  ///< handshake ACK does not acknowledge server ISN+1
inline constexpr uint32_t synack_without_syn = 1u << 2;  ///< a SYN-ACK with no SYN seen before it
inline constexpr uint32_t syn_new_isn_live = 1u << 3;    ///< SYN with a new ISN on a live, established tuple
inline constexpr uint32_t rst_answers_syn = 1u << 4;     ///< the server answered the SYN with a RST
inline constexpr uint32_t synack_before_syn = 1u << 5;   ///< captured out of order
inline constexpr uint32_t bad_options = 1u << 6;         ///< a malformed TCP option on a handshake segment
inline constexpr uint32_t syn_flag_combo = 1u << 7;      ///< SYN with FIN or RST
inline constexpr uint32_t simultaneous_open = 1u << 8;   ///< both sides sent a SYN (RFC 9293 §3.5's simultaneous open, or a split handshake)
inline constexpr uint32_t syn_after_reset = 1u << 9;     ///< the same SYN again after a RST (an old duplicate recovered from, RFC 9293 §3.5, or a refused SYN retried)
}  // namespace anomaly
/// How many anomaly bits there are.
inline constexpr size_t anomaly_count = 10;
/// The name of anomaly bit `i` (0 <= i < anomaly_count): "synack_wrong_ack".
const char* anomaly_name(size_t i);
std::string anomaly_names(uint32_t bits);  ///< "synack_wrong_ack,rst_answers_syn"
std::vector<std::string> anomaly_list(uint32_t bits);  ///< {"synack_wrong_ack", "rst_answers_syn"}

struct direction_stats {
  uint64_t packets = 0;
  uint64_t payload_bytes = 0;
};

struct connection {
  uint64_t id = 0;  ///< 0, 1, 2... in order of first packet (like tshark's tcp.stream)
  endpoint client;  ///< who sent the first SYN (or, with no SYN, the SYN-ACK's receiver)
  endpoint server;
  std::array<uint16_t, 3> vlan{};
  uint8_t vlan_count = 0;

  int64_t first_ns = 0;  ///< first and last packet
  int64_t last_ns = 0;
  int64_t first_syn_ns = -1;
  int64_t last_syn_ns = -1;      ///< the SYN that tshark's initial RTT starts from
  int64_t first_synack_ns = -1;
  int64_t handshake_ack_ns = -1; ///< the ACK that completed the handshake (the client's; a simultaneous open's last)

  uint32_t syn_count = 0;     ///< SYNs from the client (retransmissions included)
  uint32_t synack_count = 0;  ///< SYN-ACKs from the server
  uint32_t client_isn = 0;
  uint32_t server_isn = 0;
  bool have_client_isn = false;
  bool have_server_isn = false;

  bool handshake_complete = false;
  int64_t initial_rtt_ns = -1;  ///< last SYN -> completing ACK: tshark's tcp.analysis.initial_rtt
  int64_t server_rtt_ns = -1;   ///< last SYN before the first SYN-ACK -> that SYN-ACK
  int64_t client_rtt_ns = -1;   ///< last SYN-ACK -> completing ACK
  bool refused = false;         ///< a RST from the server answered the SYN (no SYN-ACK)

  offered_options client_options;
  offered_options server_options;

  bool tfo_cookie_requested = false;  ///< the SYN carried an empty TFO option
  bool tfo_cookie_sent = false;       ///< the SYN carried a cookie
  bool tfo_cookie_granted = false;    ///< the SYN-ACK carried a cookie
  uint32_t syn_data_bytes = 0;        ///< the most payload a SYN carried (TFO data, whether the server took it or not)
  bool syn_data_acked = false;        ///< the SYN-ACK acknowledged it

  zeek_endpoint orig_state = zeek_endpoint::inactive;
  zeek_endpoint resp_state = zeek_endpoint::inactive;
  tcp_state client_tcp = tcp_state::closed;  ///< RFC 9293 state inferred for each side
  tcp_state server_tcp = tcp_state::listen;
  std::array<char, 32> history{};  ///< Zeek's history string, NUL-terminated
  uint8_t history_len = 0;
  uint32_t history_seen = 0;       ///< bit per letter and direction, each recorded once

  direction_stats to_server;
  direction_stats to_client;
  uint32_t anomalies = 0;
  end_reason ended = end_reason::open;

  [[nodiscard]] conn_state state() const;
  /// The connect time as the client saw it: its first SYN to the ACK that completed the
  /// handshake, SYN retransmissions included (what initial_rtt_ns, from the last SYN, leaves
  /// out); -1 when the handshake did not complete.
  [[nodiscard]] int64_t connect_time_ns() const {
    return handshake_complete && first_syn_ns >= 0 && handshake_ack_ns >= first_syn_ns ? handshake_ack_ns - first_syn_ns : -1;
  }
  [[nodiscard]] std::string history_string() const { return std::string(history.data(), history_len); }
};

/// How much a connection needs a look, for the report's table: 4 when it failed (refused, reset,
/// half-open, no handshake), +2 when its SYN was retransmitted, +1 with an anomaly; 0 for one that
/// went as it should. `attention_reasons` says which, in words ("half-open, SYN retransmitted").
int attention_rank(const connection& c);
std::string attention_reasons(const connection& c);

}  // namespace synscope::tcp
