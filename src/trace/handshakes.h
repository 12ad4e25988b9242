#pragma once
// Joining the kernel's moments into handshakes, and per-listener figures: pure (no I/O, no
// clock; time comes in the events), so tests feed it event sequences.
//
//   trace::handshakes table;
//   table.add(e, [](const trace::handshake& h) { print(h); });   // h ended with e
//   table.expire(now_ns - 75s, print);   // what the kernel gave up on long ago
//   table.flush(print);                  // at the end: everything still pending
//
// A handshake ends when the application accepted its child (with the ACK seen), when the kernel
// reset it, or, never finished, when it has been idle for the time the caller gives to expire
// (the kernel keeps a request for up to 63 s at tcp_synack_retries = 5).
#include <array>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/histogram.h"
#include "trace/event.h"

namespace synscope::trace {

enum class handshake_outcome {
  accepted,      ///< the application accepted the child
  not_accepted,  ///< the handshake completed (ESTABLISHED) but nothing accepted it (yet)
  reset,         ///< the server's kernel answered with a reset
  dropped,       ///< segments were dropped and the handshake never completed
  incomplete,    ///< SYN (and SYN-ACK) seen, no completing ACK
};

/// "accepted", "not_accepted", ... as --json names them.
const char* to_string(handshake_outcome o);

/// One connection attempt. Times are CLOCK_MONOTONIC nanoseconds; 0 = not seen.
struct handshake {
  connection_key key;
  int64_t syn_ns = 0;         ///< the first SYN's arrival
  int64_t synack_ns = 0;      ///< the first SYN-ACK's transmission
  int64_t last_synack_ns = 0; ///< the last SYN-ACK's transmission
  int64_t ack_ns = 0;         ///< the child became ESTABLISHED (the completing ACK)
  int64_t accept_ns = 0;      ///< accept() returned it
  int64_t drop_ns = 0;        ///< the first drop of one of its segments
  int64_t reset_ns = 0;       ///< the kernel's reset
  int64_t last_ns = 0;        ///< its latest event
  uint32_t syns = 0;          ///< SYNs that arrived (more than one: the client retransmitted)
  /// SYNs the kernel answered with nothing: no SYN-ACK, no reset and no drop with a reason. The
  /// kernel frees a SYN it drops for a full accept queue as if consumed (no skb:kfree_skb), and
  /// counts it in ListenOverflows; a full SYN queue without SYN cookies is silent too.
  uint32_t syns_unanswered = 0;
  bool awaiting_answer = false;  ///< the latest SYN has had no answer yet
  uint32_t synacks = 0;       ///< SYN-ACKs that left
  uint32_t synack_retransmits = 0;  ///< the kernel's SYN-ACK retransmissions
  uint32_t drops = 0;
  uint32_t drop_reason = 0;   ///< the first drop's reason (enum skb_drop_reason)
  /// Its completing segments (ACK, seq = ISN + 1) dropped for a full accept queue.
  uint32_t acks_overflowed = 0;
  uint32_t reset_reason = 0;  ///< enum sk_rst_reason + 1; 0 when the kernel gave none
  uint32_t pid = 0;           ///< who accepted it
  std::string comm;

  [[nodiscard]] handshake_outcome outcome() const;
};

/// The drop reasons that mean "the accept queue was full".
struct overflow_reasons {
  /// TCP_LISTEN_OVERFLOW (6.15+): any segment dropped with it, a request socket's completing
  /// segment (its ACK, or data after the ACK was lost), counts.
  std::optional<uint32_t> listen_overflow;
  /// NO_SOCKET (a SYN cookie's completing segment, dropped in cookie_v4_check) and, before 6.15,
  /// NOT_SPECIFIED: they count only for the completing segment of a handshake whose SYN-ACK was
  /// seen and that has no child yet (sequence = ISN + 1).
  std::vector<uint32_t> when_completing;
};

/// A listener as the figures group it: the server's network namespace and port.
struct listener_key {
  uint32_t netns = 0;
  uint16_t port = 0;  ///< 0: every listener past max_listeners, together
  friend auto operator<=>(const listener_key&, const listener_key&) = default;
};

struct listener_stats {
  uint64_t syns = 0;
  uint64_t syns_unanswered = 0;  ///< see handshake::syns_unanswered
  uint64_t acks_overflowed = 0;  ///< see handshake::acks_overflowed
  uint64_t synacks = 0;
  uint64_t synack_retransmits = 0;
  uint64_t established = 0;
  uint64_t accepted = 0;
  uint64_t resets = 0;
  std::map<uint32_t, uint64_t> drops_by_reason;  ///< enum skb_drop_reason -> segments
  core::histogram syn_to_synack;  ///< ns: the first SYN's arrival to the first SYN-ACK out
  core::histogram synack_to_ack;  ///< ns: the first SYN-ACK out to the completing ACK
  core::histogram ack_to_accept;  ///< ns: the child's time in the accept queue

  [[nodiscard]] uint64_t drops() const;
  /// Segments dropped for a full accept queue: completing ACKs and SYNs answered by nothing.
  /// What ListenOverflows counts, where the SYN queue does not overflow too (docs/trace.md).
  [[nodiscard]] uint64_t accept_queue_drops() const { return acks_overflowed + syns_unanswered; }
};

class handshakes {
 public:
  using done_fn = std::function<void(const handshake&)>;

  /// At most `max_pending` handshakes are kept (the one that came first is handed on when one
  /// more comes: constant time, so a SYN flood costs each SYN the same)
  /// and at most `max_listeners` listeners have figures of their own. `overflow` names the drop
  /// reasons (enum skb_drop_reason) the kernel gives a segment it drops for a full accept queue.
  explicit handshakes(size_t max_pending = 1 << 16, size_t max_listeners = 1024, overflow_reasons overflow = {});

  /// Takes one event. `done` is called for a handshake that this event ended, or pushed out.
  void add(const event& e, const done_fn& done);
  /// Hands on (to `done`) every handshake whose latest event is older than `before_ns`.
  void expire(int64_t before_ns, const done_fn& done);
  /// Hands on every pending handshake.
  void flush(const done_fn& done);

  [[nodiscard]] const std::map<listener_key, listener_stats>& listeners() const { return listeners_; }
  [[nodiscard]] size_t pending() const { return pending_.size(); }
  /// Handshakes handed on early because max_pending were pending.
  [[nodiscard]] uint64_t evicted() const { return evicted_; }
  /// Events taken, by kind (index: event_kind's value).
  [[nodiscard]] const std::array<uint64_t, 8>& events() const { return events_; }

 private:
  listener_stats& listener(const connection_key& k);
  void finish(const connection_key& k, const done_fn& done);

  size_t max_pending_;
  size_t max_listeners_;
  overflow_reasons overflow_;
  /// A pending handshake and when it came (its place in order_).
  struct entry {
    handshake h;
    uint64_t arrival = 0;
  };
  std::unordered_map<connection_key, entry, connection_key_hash> pending_;
  /// Pending keys in the order they came, for O(1) eviction under a flood; entries of handshakes
  /// already handed on are skipped when met (their arrival differs) and compacted away.
  std::deque<std::pair<connection_key, uint64_t>> order_;
  uint64_t arrivals_ = 0;
  /// The last handshakes handed on: a drop or reset that trails its handshake's end (the kernel
  /// frees a refused SYN after it sent the reset) is counted, and opens no second record.
  std::unordered_set<connection_key, connection_key_hash> recent_;
  std::deque<connection_key> recent_order_;
  std::map<listener_key, listener_stats> listeners_;
  uint64_t evicted_ = 0;
  std::array<uint64_t, 8> events_{};
};

}  // namespace synscope::trace
