#include "tcp/tracker.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>

#include "core/prefault.h"

namespace synscope::tcp {
namespace {

using wire::tcp_flag::ack;
using wire::tcp_flag::fin;
using wire::tcp_flag::rst;
using wire::tcp_flag::syn;

void load_words(const wire::ip_address& a, uint64_t& hi, uint64_t& lo) {
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
}

// Zeek's history letters: uppercase from the originator (our client), lowercase from the
// responder; each recorded once per direction. (Zeek's t, w, g and c are not kept.)
enum class letter : uint8_t { S, H, A, D, F, R, Q };
constexpr char history_letters[] = "SHADFRQ";

void add_history(connection& c, letter l, bool from_client) {
  auto n = static_cast<uint32_t>(l);
  uint32_t bit = 1u << (n * 2 + (from_client ? 0 : 1));
  if ((c.history_seen & bit) != 0 || static_cast<size_t>(c.history_len) + 1 >= c.history.size()) return;
  c.history_seen |= bit;
  char upper = history_letters[n];
  c.history[c.history_len++] = from_client ? upper : static_cast<char>(upper - 'A' + 'a');
  c.history[c.history_len] = '\0';
}

constexpr uint32_t bit_of(letter l) { return 1u << (static_cast<uint32_t>(l) * 2); }

void record_history(connection& c, const wire::packet_view& p, bool from_client) {
  const uint16_t f = p.flags;
  // The letters this segment stands for, as seen-bits; most segments add none.
  uint32_t want = 0;
  if ((f & syn) && (f & (fin | rst))) want |= bit_of(letter::Q);
  if (f & syn) want |= (f & ack) ? bit_of(letter::H) : bit_of(letter::S);
  if (f & fin) want |= bit_of(letter::F);
  if (f & rst) want |= bit_of(letter::R);
  if (p.payload_len > 0) want |= bit_of(letter::D);
  if ((f & ack) && !(f & (syn | fin | rst)) && p.payload_len == 0) want |= bit_of(letter::A);
  want <<= from_client ? 0 : 1;
  if ((want & ~c.history_seen) == 0) return;
  for (letter l : {letter::Q, letter::S, letter::H, letter::F, letter::R, letter::D, letter::A}) {
    if (want & (bit_of(l) << (from_client ? 0 : 1))) add_history(c, l, from_client);
  }
}

// Zeek's endpoint states (TCP_Analyzer), which conn_state is computed from.
void update_zeek(zeek_endpoint& self, zeek_endpoint& peer, uint16_t f) {
  using z = zeek_endpoint;
  if (f & rst) {
    self = z::reset;
    return;
  }
  if (f & syn) {
    if (!(f & ack)) {
      if (self == z::inactive) self = z::syn_sent;
    } else if (self == z::inactive || self == z::syn_sent || self == z::partial) {
      self = z::syn_ack_sent;
    }
  } else {
    if (self == z::inactive) self = z::partial;
    if ((f & ack) && self == z::syn_sent && peer == z::syn_ack_sent) {
      self = z::established;
      peer = z::established;
    } else if ((f & ack) && self == z::syn_ack_sent && (peer == z::syn_sent || peer == z::established)) {
      self = z::established;
    } else if ((f & ack) && self == z::syn_ack_sent && peer == z::syn_ack_sent) {
      // A simultaneous open (RFC 9293 §3.5): both sent a SYN and a SYN-ACK; the first ACK after
      // them establishes both.
      self = z::established;
      peer = z::established;
    }
  }
  if ((f & fin) && self != z::reset) self = z::closed;
}

void step(tcp_state& s, tcp_event e) {
  if (auto n = next_state(s, e)) s = *n;
}

void copy_options(offered_options& o, const wire::tcp_options& w) {
  o.seen = true;
  o.mss = w.has_mss;
  o.mss_value = w.mss;
  o.wscale = w.has_wscale;
  o.wscale_value = w.wscale;
  o.sack_permitted = w.sack_permitted;
  o.timestamps = w.has_timestamps;
  o.fastopen = w.has_fastopen;
  o.fastopen_cookie_len = w.fastopen_cookie_len;
  o.mptcp = w.mptcp;
}

// True when `ack` acknowledges `seq` + 1 (a SYN or a FIN), modulo 2^32 (RFC 9293 §3.4).
bool acks_past(uint32_t ack_no, uint32_t seq) { return static_cast<int32_t>(ack_no - (seq + 1)) >= 0; }

}  // namespace

size_t tracker::flow_hash::operator()(const flow_key& k) const noexcept {
  // Each word times its own odd constant, summed, then murmur3's finalizer.
  uint64_t h = k.w[0] * 0x9e3779b97f4a7c15u + k.w[1] * 0xc2b2ae3d27d4eb4fu + k.w[2] * 0x165667b19e3779f9u +
               k.w[3] * 0xd6e8feb86659fd93u + k.w[4] * 0xff51afd7ed558ccdu + k.w[5] * 0xc4ceb9fe1a85ec53u;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdu;
  h ^= h >> 33;
  return static_cast<size_t>(h);
}

tracker::tracker(const tracker_options& options, connection_sink& sink) : options_(options), sink_(sink) {
  // Room for the closed connections that linger and as many open ones, reserved (not touched):
  // growing the vector through its doublings copied every slot and faulted in each new block.
  slots_.reserve(std::min(options_.max_open, options_.max_lingering * 2 + 1024));
}

uint64_t tracker::hash_of(const wire::packet_view& p, const tracker_options& options) {
  bool src_low = false;
  return flow_hash{}(key_of(p, options.vlan_aware, src_low));
}

tracker::flow_key tracker::key_of(const wire::packet_view& p, bool vlan_aware, bool& src_low) {
  flow_key k;
  uint64_t s0, s1, d0, d1;
  load_words(p.src, s0, s1);
  load_words(p.dst, d0, d1);
  // Any consistent order of the two endpoints will do; compare them as words.
  bool src_first = s0 != d0 ? s0 < d0 : s1 != d1 ? s1 < d1 : p.sport < p.dport;
  src_low = src_first;
  k.w[0] = src_first ? s0 : d0;
  k.w[1] = src_first ? s1 : d1;
  k.w[2] = src_first ? d0 : s0;
  k.w[3] = src_first ? d1 : s1;
  uint64_t port_lo = src_first ? p.sport : p.dport;
  uint64_t port_hi = src_first ? p.dport : p.sport;
  k.w[4] = port_lo | port_hi << 16 | static_cast<uint64_t>(p.src.version) << 32;
  if (vlan_aware && p.vlan_count > 0) {
    k.w[4] |= static_cast<uint64_t>(p.vlan_count) << 40;
    k.w[5] = static_cast<uint64_t>(p.vlan[0]) | static_cast<uint64_t>(p.vlan[1]) << 16 |
             static_cast<uint64_t>(p.vlan[2]) << 32;
  }
  return k;
}

uint32_t tracker::find(const flow_key& key, uint64_t hash) const {
  uint32_t ref = index_.find(hash, [&](uint32_t r) {
    const slot& s = slots_[r >> 1];
    return (r & 1 ? s.alias : s.key) == key;
  });
  return ref == flow_index::none ? none : ref >> 1;
}

uint32_t tracker::find_other_vlan(const flow_key& key, uint64_t hash, bool src_low) {
  auto it = by_tuple_.find(key.without_vlan());
  if (it == by_tuple_.end()) return none;
  slot& s = slots_[it->second];
  if (s.has_alias || s.key == key) return none;
  const connection& c = s.c;
  bool from_client = s.client_low == src_low;
  const direction_stats& dir = from_client ? c.to_server : c.to_client;
  if (dir.packets != 0) return none;  // that direction already travels on the slot's own VLANs
  s.has_alias = true;
  s.alias = key;
  s.alias_hash = hash;
  index_.insert(hash, it->second << 1 | 1);
  return it->second;
}

void tracker::unlink(uint32_t index) {
  slot& s = slots_[index];
  if (s.on == list::free) return;
  if (s.on == list::closed) --closed_count_;
  chain& ch = chain_of(s.on);
  if (s.prev == none) next_evict_ns_ = INT64_MIN;  // a new head
  (s.prev == none ? ch.head : slots_[s.prev].next) = s.next;
  (s.next == none ? ch.tail : slots_[s.next].prev) = s.prev;
  s.prev = s.next = none;
  s.on = list::free;
}

void tracker::push_back(uint32_t index, list which) {
  slot& s = slots_[index];
  chain& ch = chain_of(which);
  if (which == list::closed) ++closed_count_;
  s.on = which;
  s.prev = ch.tail;
  s.next = none;
  if (ch.tail == none) next_evict_ns_ = INT64_MIN;  // a new head
  (ch.tail == none ? ch.head : slots_[ch.tail].next) = index;
  ch.tail = index;
}

uint32_t tracker::create(const flow_key& key, uint64_t hash, const wire::packet_view& p, bool src_low,
                         int64_t ts_ns) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
    static_assert(std::is_trivially_destructible_v<slot>);
    std::construct_at(&slots_[index]);  // reset in place, with no temporary to copy
  } else {
    index = static_cast<uint32_t>(slots_.size());
    // The reserved room is mapped 256 slots at a time, ahead of their first use: one system
    // call instead of a page fault every ten slots.
    constexpr size_t ahead = 256;
    if (index % ahead == 0 && index + ahead <= slots_.capacity()) {
      core::prefault(slots_.data() + index, ahead * sizeof(slot));
    }
    slots_.emplace_back();
  }
  slot& s = slots_[index];
  s.key = key;
  s.key_hash = hash;
  connection& c = s.c;
  c.id = next_id_++;
  c.first_ns = c.last_ns = ts_ns;
  c.vlan = p.vlan;
  c.vlan_count = p.vlan_count;
  endpoint src{p.src, p.sport};
  endpoint dst{p.dst, p.dport};
  bool syn_only = (p.flags & syn) && !(p.flags & ack);
  bool syn_ack = (p.flags & syn) && (p.flags & ack);
  // The SYN-ACK's receiver opened the connection; midstream, a well-known source port is the
  // server's.
  bool src_is_client = syn_only || (!syn_ack && !(p.sport < 1024 && p.dport >= 1024));
  c.client = src_is_client ? src : dst;
  c.server = src_is_client ? dst : src;
  s.client_low = src_is_client == src_low;
  index_.insert(hash, index << 1);
  if (options_.vlan_aware && key.vlan_count() > 0) {  // only tagged traffic can cross VLANs
    by_tuple_[key.without_vlan()] = index;
  }
  push_back(index, list::active);
  ++stats_.connections;
  stats_.peak_open = std::max<uint64_t>(stats_.peak_open, open_connections());
  return index;
}

void tracker::emit(uint32_t index, end_reason why) {
  slot& s = slots_[index];
  if (s.awaiting) --stats_.awaiting_synack;
  s.awaiting = false;
  if (s.c.ended == end_reason::open || why == end_reason::superseded) s.c.ended = why;
  sink_.on_connection(s.c);
  unlink(index);
  index_.erase(s.key_hash, index << 1);
  if (s.has_alias) index_.erase(s.alias_hash, index << 1 | 1);
  if (options_.vlan_aware && s.key.vlan_count() > 0) {
    if (auto it = by_tuple_.find(s.key.without_vlan()); it != by_tuple_.end() && it->second == index) {
      by_tuple_.erase(it);
    }
  }
  free_.push_back(index);
}

void tracker::evict(int64_t now_ns) {
  // now - last, not last + wait: no overflow for any pair of capture times and any wait.
  while (closed_.head != none && (now_ns - slots_[closed_.head].c.last_ns > options_.close_linger_ns ||
                                  closed_count_ > options_.max_lingering)) {
    uint32_t next = slots_[closed_.head].next;
    emit(closed_.head, end_reason::open);  // keeps the reason set when it closed
    // The next to go closed thousands of connections ago, so its slot is out of cache: it is
    // asked for now, to arrive while the packets before its turn (usually the next close) go by.
    if (next != none) prefetch_index(next);
  }
  while (active_.head != none && now_ns - slots_[active_.head].c.last_ns > options_.idle_timeout_ns) {
    ++stats_.evicted_idle;
    emit(active_.head, end_reason::idle);
  }
  // Until a head changes, nothing expires before the earlier of the two heads' deadlines.
  auto deadline = [](int64_t last_ns, int64_t wait_ns) {
    return last_ns > INT64_MAX - wait_ns - 1 ? INT64_MAX : last_ns + wait_ns + 1;
  };
  next_evict_ns_ = INT64_MAX;
  if (closed_.head != none) {
    next_evict_ns_ = deadline(slots_[closed_.head].c.last_ns, options_.close_linger_ns);
  }
  if (active_.head != none) {
    next_evict_ns_ = std::min(next_evict_ns_, deadline(slots_[active_.head].c.last_ns, options_.idle_timeout_ns));
  }
}

const connection& tracker::add(const wire::packet_view& p, int64_t ts_ns, uint64_t hash) {
  ++stats_.segments;
  if (last_ts_ns_ != INT64_MIN && ts_ns < last_ts_ns_ - backwards_tolerance_ns) {
    // Time went back (files joined or merged out of order): counted, and eviction follows the
    // new time from here on.
    ++stats_.time_jumps_back;
    stats_.largest_jump_back_ns = std::max(stats_.largest_jump_back_ns, last_ts_ns_ - ts_ns);
    now_ns_ = ts_ns;
    next_evict_ns_ = INT64_MIN;
  }
  last_ts_ns_ = ts_ns;
  if (ts_ns > now_ns_) {
    now_ns_ = ts_ns;
    if (now_ns_ >= next_evict_ns_ || closed_count_ > options_.max_lingering) evict(now_ns_);
  }
  bool src_low = false;
  flow_key key = key_of(p, options_.vlan_aware, src_low);
  uint32_t index = find(key, hash);
  const bool syn_only = (p.flags & syn) && !(p.flags & ack) && !(p.flags & rst);
  if (index != none) {
    // A record never spans a jump back in time (files joined out of order) or a silence longer
    // than the idle timeout (which eviction, keyed to the latest time seen, misses after a jump
    // back): this packet belongs to another connection on the same tuple.
    const connection& held = slots_[index].c;
    if (ts_ns < held.first_ns - backwards_tolerance_ns) {
      emit(index, held.ended == end_reason::open ? end_reason::superseded : held.ended);
      index = none;
    } else if (ts_ns - held.last_ns > options_.idle_timeout_ns) {
      ++stats_.evicted_idle;
      emit(index, end_reason::idle);
      index = none;
    }
  }
  if (index != none && syn_only) {
    slot& held = slots_[index];
    connection& old = held.c;
    bool same_client = held.client_low == src_low;
    if (same_client && old.have_client_isn && p.seq == old.client_isn && old.ended == end_reason::reset &&
        !old.handshake_complete) {
      // The same SYN again after a RST, before any handshake completed: the client recovering
      // from an old duplicate (RFC 9293 §3.5: a stale ACK, its RST, the SYN again) or retrying a
      // refused SYN. The same ISN is the same connection: it goes on, open again.
      reopen(index);
    } else if (same_client && old.have_client_isn && p.seq != old.client_isn) {
      // A new ISN on this tuple: port reuse starts a new connection. On a live, established
      // connection that is odd enough to flag.
      bool live = old.handshake_complete && old.ended == end_reason::open;
      if (live) old.anomalies |= anomaly::syn_new_isn_live;
      emit(index, old.ended == end_reason::open ? end_reason::superseded : old.ended);
      index = none;
    } else if (!same_client && old.syn_count == 0 && old.synack_count == 0) {
      // Midstream traffic guessed the roles wrong; a SYN from the other side settles them.
      emit(index, end_reason::superseded);
      index = none;
    }
  }
  if (index == none && !syn_only && options_.vlan_aware && !by_tuple_.empty()) {
    index = find_other_vlan(key, hash, src_low);
  }
  if (index == none) {
    index = create(key, hash, p, src_low, ts_ns);
    // Full: the least recently active goes, a lingering closed one before a live one. The new
    // connection is the newest, so never the one chosen.
    while (open_connections() > std::max<size_t>(options_.max_open, 1)) {
      uint32_t oldest = closed_.head != none ? closed_.head : active_.head;
      if (oldest == none || oldest == index) break;
      if (oldest == active_.head) {
        ++stats_.evicted_full;
        emit(oldest, end_reason::idle);
      } else {
        emit(oldest, end_reason::open);  // keeps the reason set when it closed
      }
    }
  }
  slot& s = slots_[index];
  if (s.on == list::active && active_.tail != index) {
    unlink(index);
    push_back(index, list::active);
  }
  update(s, p, s.client_low == src_low, ts_ns);
  return s.c;
}

void tracker::update(slot& s, const wire::packet_view& p, bool from_client, int64_t ts_ns) {
  connection& c = s.c;
  const uint16_t f = p.flags;
  c.last_ns = std::max(c.last_ns, ts_ns);
  direction_stats& dir = from_client ? c.to_server : c.to_client;
  ++dir.packets;
  dir.payload_bytes += p.payload_len;
  record_history(c, p, from_client);
  if (from_client) {
    update_zeek(c.orig_state, c.resp_state, f);
  } else {
    update_zeek(c.resp_state, c.orig_state, f);
  }
  if ((f & syn) && (p.options.malformed)) c.anomalies |= anomaly::bad_options;
  if ((f & syn) && (f & (fin | rst))) c.anomalies |= anomaly::syn_flag_combo;

  // ---- the handshake ----
  if ((f & syn) && !(f & ack) && from_client) {
    ++c.syn_count;
    if (!s.awaiting && c.synack_count == 0 && c.ended == end_reason::open) {
      s.awaiting = true;
      ++stats_.awaiting_synack;
    }
    if (c.first_syn_ns < 0) c.first_syn_ns = ts_ns;
    c.last_syn_ns = ts_ns;  // tshark's initial RTT counts from the most recent SYN
    if (c.synack_count > 0 && c.syn_count == 1) c.anomalies |= anomaly::synack_before_syn;
    c.client_isn = p.seq;
    c.have_client_isn = true;
    copy_options(c.client_options, p.options);
    if (p.options.has_fastopen) {
      (p.options.fastopen_cookie_len == 0 ? c.tfo_cookie_requested : c.tfo_cookie_sent) = true;
    }
    // A SYN that carried data and then one without it (Linux retransmits a TFO SYN without its
    // data): the data was offered all the same.
    c.syn_data_bytes = std::max(c.syn_data_bytes, p.payload_len);
    step(c.client_tcp, tcp_event::snd_syn);
    step(c.server_tcp, tcp_event::rcv_syn);
  } else if ((f & syn) && !(f & ack) && !from_client && c.syn_count > 0) {
    c.anomalies |= anomaly::simultaneous_open;  // the server sent a SYN of its own
  } else if ((f & syn) && (f & ack) && !from_client) {
    ++c.synack_count;
    if (s.awaiting) {
      s.awaiting = false;
      --stats_.awaiting_synack;
    }
    if (c.first_synack_ns < 0) {
      c.first_synack_ns = ts_ns;
      if (c.last_syn_ns >= 0 && ts_ns >= c.last_syn_ns) c.server_rtt_ns = ts_ns - c.last_syn_ns;  // a reply never precedes its request
    }
    s.last_synack_ns = ts_ns;
    if (c.last_syn_ns < 0) c.anomalies |= anomaly::synack_without_syn;
    c.server_isn = p.seq;
    c.have_server_isn = true;
    copy_options(c.server_options, p.options);
    if (p.options.has_fastopen && p.options.fastopen_cookie_len > 0) c.tfo_cookie_granted = true;
    if (c.have_client_isn) {
      if (c.syn_data_bytes > 0 && p.ack == c.client_isn + 1 + c.syn_data_bytes) {
        c.syn_data_acked = true;
      } else if (p.ack != c.client_isn + 1) {
        c.anomalies |= anomaly::synack_wrong_ack;
      }
    }
    step(c.client_tcp, tcp_event::rcv_syn_ack);
  } else if (!(f & syn) && (f & ack) && !(f & rst) && from_client && c.synack_count > 0 && c.syn_count > 0 &&
             !c.handshake_complete) {
    // Completed: SYN, SYN-ACK and now the client's ACK. With no SYN captured the handshake
    // was not seen (and there is no initial RTT to give).
    c.handshake_complete = true;
    c.refused = false;  // a RST before a real SYN-ACK and a completed handshake was not a refusal
    c.handshake_ack_ns = ts_ns;
    if (c.last_syn_ns >= 0 && ts_ns >= c.last_syn_ns) c.initial_rtt_ns = ts_ns - c.last_syn_ns;
    if (s.last_synack_ns >= 0 && ts_ns >= s.last_synack_ns) c.client_rtt_ns = ts_ns - s.last_synack_ns;
    if (c.have_server_isn && p.ack != c.server_isn + 1) c.anomalies |= anomaly::ack_not_isn_plus_1;
    step(c.server_tcp, tcp_event::rcv_ack_of_syn);
  }
  if ((f & rst) && !from_client && c.synack_count == 0 && c.syn_count > 0) {
    c.refused = true;
    c.anomalies |= anomaly::rst_answers_syn;
  }
  if (!c.handshake_complete && c.syn_count > 0 && c.orig_state == zeek_endpoint::established &&
      c.resp_state == zeek_endpoint::established) {
    // Established without the usual SYN, SYN-ACK, ACK from the client: a simultaneous open or
    // a split handshake (the server's SYN, the client's SYN-ACK, the server's ACK). No initial
    // RTT in tshark's sense; the handshake did complete.
    c.handshake_complete = true;
    c.handshake_ack_ns = ts_ns;
    c.anomalies |= anomaly::simultaneous_open;
  }

  // ---- the close, for the RFC states and for when the record is done ----
  if ((f & ack) && !(f & rst)) {
    // This segment acknowledges the peer's FIN?
    if (from_client && s.server_fin && acks_past(p.ack, s.server_fin_seq)) {
      step(c.server_tcp, tcp_event::rcv_ack_of_fin);
    } else if (!from_client && s.client_fin && acks_past(p.ack, s.client_fin_seq)) {
      step(c.client_tcp, tcp_event::rcv_ack_of_fin);
    }
  }
  if (f & fin) {
    uint32_t fin_seq = p.seq + p.payload_len + ((f & syn) ? 1 : 0);
    if (from_client && !s.client_fin) {
      s.client_fin = true;
      s.client_fin_seq = fin_seq;
      step(c.client_tcp, tcp_event::snd_fin);
      step(c.server_tcp, tcp_event::rcv_fin);
    } else if (!from_client && !s.server_fin) {
      s.server_fin = true;
      s.server_fin_seq = fin_seq;
      step(c.server_tcp, tcp_event::snd_fin);
      step(c.client_tcp, tcp_event::rcv_fin);
    }
  }
  if (f & rst) {
    step(from_client ? c.client_tcp : c.server_tcp, tcp_event::abort);
    step(from_client ? c.server_tcp : c.client_tcp, tcp_event::rcv_rst);
  }
  bool closed_now = (f & rst) || (s.client_fin && s.server_fin);
  if (closed_now && s.awaiting) {  // refused (or reset) before any SYN-ACK: not half-open any more
    s.awaiting = false;
    --stats_.awaiting_synack;
  }
  if (closed_now && c.ended == end_reason::open) {
    c.ended = (f & rst) ? end_reason::reset : end_reason::fin;
    uint32_t index = static_cast<uint32_t>(&s - slots_.data());
    unlink(index);
    push_back(index, list::closed);
  }
}

void tracker::reopen(uint32_t index) {
  slot& s = slots_[index];
  connection& c = s.c;
  c.ended = end_reason::open;
  c.anomalies |= anomaly::syn_after_reset;
  c.refused = false;  // a refusal it recovered from; rst_answers_syn stays among its anomalies
  // Zeek's endpoint states and the RFC ones start over: what follows is a fresh handshake.
  c.orig_state = zeek_endpoint::inactive;
  c.resp_state = zeek_endpoint::inactive;
  c.client_tcp = tcp_state::closed;
  c.server_tcp = tcp_state::listen;
  s.client_fin = s.server_fin = false;
  unlink(index);
  push_back(index, list::active);
}

void tracker::flush() {
  // Oldest first, so output keeps the order connections were seen in as far as it can.
  std::vector<uint32_t> order;
  order.reserve(open_connections());
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].on != list::free) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return slots_[a].c.id < slots_[b].c.id; });
  for (uint32_t index : order) emit(index, end_reason::capture_end);
}

}  // namespace synscope::tcp
