#pragma once
// The handshake tracker: feeds decoded TCP segments into per-connection records.
//
//   struct print_sink : tcp::connection_sink {
//     void on_connection(const tcp::connection& c) override { ... }
//   } sink;
//   tcp::tracker t({}, sink);
//   for each frame: if (wire::decode(...) == tcp) t.add(view, frame.ts_ns);
//   t.flush();   // the connections still open at the end of input
//
// A connection is its VLAN tags, its 4-tuple and its client's ISN: a SYN with a new ISN on a
// tuple starts a new connection (port reuse). The same handshake on several VLANs is several
// connections; but a reply on another VLAN than its request (traffic routed between VLANs)
// joins the connection that has not yet seen that direction. A connection is handed to the sink once: when
// it has been closed (FIN both ways, or RST) for `close_linger_ns` of capture time, when it
// has been idle for `idle_timeout_ns`, or at flush(). Memory follows the number of
// connections open at once, not the size of the input.
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "tcp/connection.h"
#include "tcp/flow_index.h"
#include "wire/packet.h"

namespace synscope::tcp {

class connection_sink {
 public:
  virtual ~connection_sink() = default;
  virtual void on_connection(const connection& c) = 0;
};

struct tracker_options {
  int64_t idle_timeout_ns = 300'000'000'000;  ///< Zeek's tcp_inactivity_timeout: 5 min
  int64_t close_linger_ns = 2'000'000'000;    ///< keep a closed connection for late ACKs and RSTs
  size_t max_lingering = 4096;                ///< at most this many closed ones kept (oldest go first)
  /// At most this many connections tracked at once: past it, the least recently active one is
  /// finished early (as an idle timeout would), so memory stays bounded however many
  /// connections a capture holds open at once (a SYN flood of spoofed sources). Under a
  /// kilobyte each: at 262,144, analyze peaked at 229 MB on 10 million connections.
  size_t max_open = 262'144;
  bool vlan_aware = true;                     ///< the same 4-tuple on two VLANs is two connections
};

struct tracker_stats {
  uint64_t segments = 0;
  uint64_t connections = 0;
  uint64_t evicted_idle = 0;
  uint64_t evicted_full = 0;     ///< finished early because max_open connections were tracked
  uint64_t peak_open = 0;
  uint64_t time_jumps_back = 0;      ///< times a segment came more than 1 s before the one before it
  int64_t largest_jump_back_ns = 0;  ///< the largest of those jumps
  uint64_t awaiting_synack = 0;  ///< held connections with a client SYN, no SYN-ACK and no end yet (half-open now; refused ones are not)
};

class tracker {
 public:
  tracker(const tracker_options& options, connection_sink& sink);

  /// One TCP segment captured at `ts_ns`; returns the connection it belongs to, as updated by
  /// it (valid until the next call). Capture time only moves eviction forward; segments
  /// slightly out of order are fine.
  const connection& add(const wire::packet_view& p, int64_t ts_ns) { return add(p, ts_ns, hash_of(p, options_)); }
  /// The same, with `hash` = hash_of(p, options) computed ahead (by another thread, say).
  const connection& add(const wire::packet_view& p, int64_t ts_ns, uint64_t hash);
  /// The hash add() files `p`'s connection under. Pure: any thread may compute it.
  [[nodiscard]] static uint64_t hash_of(const wire::packet_view& p, const tracker_options& options);

  /// For a batch of add()s: prefetch(hash) some segments ahead loads the index bucket, and
  /// prefetch_slot(hash) a few ahead (once the bucket is in) the slot it names, so the cache
  /// misses of many lookups overlap instead of each stalling in turn. Results are unchanged.
  void prefetch(uint64_t hash) const { index_.prefetch(hash); }
  void prefetch_slot(uint64_t hash) const {
    uint32_t ref = index_.first_ref(hash);
    if (ref != flow_index::none) prefetch_index(ref >> 1);
  }

  /// Hands every connection still held to the sink (ended = capture_end unless closed).
  void flush();

  [[nodiscard]] size_t open_connections() const { return slots_.size() - free_.size(); }
  [[nodiscard]] const tracker_stats& stats() const { return stats_; }

 private:
  // The lower endpoint, the higher endpoint (addresses as two words each), then ports,
  // version and VLAN count in one word and the VLAN ids in the last: hashing and comparing a
  // key is a handful of word operations on the per-packet path.
  struct flow_key {
    std::array<uint64_t, 6> w{};
    friend bool operator==(const flow_key& a, const flow_key& b) {
      // No early exit and no memcmp call: six XORs and ORs.
      return ((a.w[0] ^ b.w[0]) | (a.w[1] ^ b.w[1]) | (a.w[2] ^ b.w[2]) | (a.w[3] ^ b.w[3]) |
              (a.w[4] ^ b.w[4]) | (a.w[5] ^ b.w[5])) == 0;
    }
    [[nodiscard]] uint8_t vlan_count() const { return static_cast<uint8_t>(w[4] >> 40); }
    [[nodiscard]] flow_key without_vlan() const {
      flow_key k = *this;
      k.w[4] &= ~(uint64_t{0xff} << 40);
      k.w[5] = 0;
      return k;
    }
  };
  struct flow_hash {
    size_t operator()(const flow_key& k) const noexcept;
  };
  static constexpr uint32_t none = UINT32_MAX;
  enum class list : uint8_t { free, active, closed };
  // What a lookup and the LRU lists touch comes first: the key, its hash and the links fill
  // the slot's first cache line.
  struct slot {
    flow_key key;
    uint32_t prev = none;
    uint32_t next = none;
    uint64_t key_hash = 0;
    list on = list::free;
    bool client_low = false;  // the client is the key's lower endpoint: from_client is one compare
    bool has_alias = false;   // a second key (the reply direction's VLANs) names this slot
    bool client_fin = false;
    bool server_fin = false;
    bool awaiting = false;    // counted in stats_.awaiting_synack
    uint32_t client_fin_seq = 0;
    uint32_t server_fin_seq = 0;
    int64_t last_synack_ns = -1;
    uint64_t alias_hash = 0;
    flow_key alias;
    connection c;
  };
  struct chain {
    uint32_t head = none;
    uint32_t tail = none;
  };

  void prefetch_index(uint32_t index) const {
    const auto* at = reinterpret_cast<const char*>(&slots_[index]);  // NOLINT: addresses for prefetch
    for (size_t line = 0; line < sizeof(slot); line += 64) __builtin_prefetch(at + line);
  }
  // The key of the packet's connection; `src_low` says whether its source is the lower endpoint.
  static flow_key key_of(const wire::packet_view& p, bool vlan_aware, bool& src_low);
  uint32_t find(const flow_key& key, uint64_t hash) const;
  uint32_t find_other_vlan(const flow_key& key, uint64_t hash, bool src_low);
  uint32_t create(const flow_key& key, uint64_t hash, const wire::packet_view& p, bool src_low, int64_t ts_ns);
  void update(slot& s, const wire::packet_view& p, bool from_client, int64_t ts_ns);
  void emit(uint32_t index, end_reason why);
  void reopen(uint32_t index);
  // A packet this much earlier than its connection's first one is from another time (files
  // joined out of order): pcapng files merged from several interfaces are out of order by far less.
  static constexpr int64_t backwards_tolerance_ns = 1'000'000'000;
  void evict(int64_t now_ns);
  void unlink(uint32_t index);
  void push_back(uint32_t index, list which);
  chain& chain_of(list which) { return which == list::active ? active_ : closed_; }

  tracker_options options_;
  connection_sink& sink_;
  std::vector<slot> slots_;
  std::vector<uint32_t> free_;
  flow_index index_;  // key hash -> slot << 1 | (1 when it is the slot's alias key)
  std::unordered_map<flow_key, uint32_t, flow_hash> by_tuple_;  // VLAN-less key -> newest slot
  chain active_;  // least recently seen first
  chain closed_;  // closed longest ago first
  size_t closed_count_ = 0;
  int64_t now_ns_ = INT64_MIN;
  int64_t last_ts_ns_ = INT64_MIN;  // the previous segment's time, for jumps back
  // No list head can expire before this capture time; INT64_MIN forces a look (a head changed).
  int64_t next_evict_ns_ = INT64_MIN;
  uint64_t next_id_ = 0;
  tracker_stats stats_;
};

}  // namespace synscope::tcp
