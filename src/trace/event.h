#pragma once
// One moment of a handshake as the server's kernel lived it, decoded from the record the BPF
// programs write (trace/bpf/events.h), and the key that joins the moments of one connection.
//
//   std::optional<trace::event> e = trace::decode_event(bytes);   // a ring-buffer record
//   trace::connection_key k = e->key();                           // netns, ends and the ISN
//
// The same key (the 4-tuple and the client's initial sequence number) names a connection on
// the wire (a capture) and in the kernel, so the two can be put side by side (docs/trace.md).
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/endpoint.h"

namespace synscope::trace {

enum class event_kind : uint8_t {
  syn = 1,              ///< a SYN arrived at the server (net:netif_receive_skb)
  synack = 2,           ///< a SYN-ACK left for the device (net:net_dev_start_xmit)
  synack_retransmit = 3,  ///< the kernel retransmitted the SYN-ACK (tcp:tcp_retransmit_synack)
  established = 4,      ///< the handshake-completing ACK made the child ESTABLISHED
  accept = 5,           ///< accept() returned the child
  drop = 6,             ///< a segment of the connection was dropped (skb:kfree_skb)
  reset = 7,            ///< the kernel sent a reset for it (tcp:tcp_send_reset)
};

/// "syn", "synack", ... as --json names them.
const char* to_string(event_kind k);

/// A connection as both ends agree on it: the server's network namespace, the client and the
/// server endpoints, and the client's initial sequence number.
struct connection_key {
  uint32_t netns = 0;
  core::ip_endpoint client;
  core::ip_endpoint server;
  uint32_t isn = 0;
  friend bool operator==(const connection_key&, const connection_key&) = default;
};

struct connection_key_hash {
  size_t operator()(const connection_key& k) const noexcept;
};

struct event {
  event_kind kind = event_kind::syn;
  int64_t ts_ns = 0;      ///< CLOCK_MONOTONIC
  connection_key key;
  uint8_t tcp_flags = 0;  ///< drop, reset: the segment's flags (0: a reset not in answer to one)
  uint32_t seq = 0;       ///< drop, reset: the segment's sequence number
  uint32_t reason = 0;    ///< drop: enum skb_drop_reason; reset: enum sk_rst_reason + 1 (0: none given)
  uint32_t pid = 0;       ///< accept: the process
  std::string comm;       ///< accept: the thread's name
};

/// The kernel's names of drop and reset reasons (enum skb_drop_reason, enum sk_rst_reason),
/// read from its BTF: their numbers differ from one kernel version to the next.
struct reason_names {
  std::map<uint32_t, std::string> drop;   ///< "TCP_LISTEN_OVERFLOW", without SKB_DROP_REASON_
  std::map<uint32_t, std::string> reset;  ///< event::reason (value + 1) -> "NO_SOCKET"
  /// The name, or the number as text when the kernel gave no name for it.
  [[nodiscard]] std::string drop_name(uint32_t reason) const;
  [[nodiscard]] std::string reset_name(uint32_t reason) const;
  /// The number of the drop reason named `name` ("TCP_LISTEN_OVERFLOW") in this kernel.
  [[nodiscard]] std::optional<uint32_t> drop_number(std::string_view name) const;
};

/// Size of the kernel's record (struct synscope_event).
extern const size_t event_record_size;

/// Decodes one ring-buffer record. nullopt when it is shorter than a record or names an
/// unknown kind or address family. An IPv4 connection accepted by an IPv6 socket (addresses
/// ::ffff:a.b.c.d) is given as IPv4, as the packets carry it.
std::optional<event> decode_event(std::span<const std::byte> record);

}  // namespace synscope::trace
