// Each event sets one moment of its handshake and adds to its listener's figures at once, so
// the figures need no second pass; a handshake is handed on when nothing more is expected.
#include "trace/handshakes.h"

#include <algorithm>
#include <vector>

namespace synscope::trace {

namespace {
constexpr uint8_t th_syn = 0x02;
constexpr uint8_t th_ack = 0x10;
}  // namespace

const char* to_string(handshake_outcome o) {
  switch (o) {
    case handshake_outcome::accepted: return "accepted";
    case handshake_outcome::not_accepted: return "not_accepted";
    case handshake_outcome::reset: return "reset";
    case handshake_outcome::dropped: return "dropped";
    case handshake_outcome::incomplete: return "incomplete";
  }
  return "unknown";
}

handshake_outcome handshake::outcome() const {
  if (accept_ns) return handshake_outcome::accepted;
  if (ack_ns) return handshake_outcome::not_accepted;
  if (reset_ns) return handshake_outcome::reset;
  if (drops || (syns_unanswered && !synack_ns)) return handshake_outcome::dropped;
  return handshake_outcome::incomplete;
}

uint64_t listener_stats::drops() const {
  uint64_t n = 0;
  for (const auto& [reason, count] : drops_by_reason) n += count;
  return n;
}

handshakes::handshakes(size_t max_pending, size_t max_listeners, overflow_reasons overflow)
    : max_pending_(std::max<size_t>(max_pending, 1)), max_listeners_(max_listeners), overflow_(std::move(overflow)) {}

listener_stats& handshakes::listener(const connection_key& k) {
  listener_key lk{k.netns, k.server.port};
  auto it = listeners_.find(lk);
  if (it != listeners_.end()) return it->second;
  if (listeners_.size() >= max_listeners_) lk = {0, 0};
  return listeners_[lk];
}

void handshakes::finish(const connection_key& k, const done_fn& done) {
  auto it = pending_.find(k);
  if (it == pending_.end()) return;
  handshake h = std::move(it->second.h);
  if (recent_.insert(k).second) {
    recent_order_.push_back(k);
    if (recent_order_.size() > 4096) {
      recent_.erase(recent_order_.front());
      recent_order_.pop_front();
    }
  }
  if (h.awaiting_answer) {  // its last SYN was answered by nothing
    h.awaiting_answer = false;
    ++h.syns_unanswered;
    ++listener(k).syns_unanswered;
  }
  pending_.erase(it);
  done(h);
}

void handshakes::add(const event& e, const done_fn& done) {
  ++events_[static_cast<size_t>(e.kind) & 7];
  // A drop or a reset speaks of a listener only when its port has one (a SYN came to it, or a
  // child was made there) or when its segment is a SYN: a segment to a client's ephemeral port
  // makes no listener row.
  bool segment_event = e.kind == event_kind::drop || e.kind == event_kind::reset;
  if (segment_event && !(e.tcp_flags & th_syn) && !listeners_.count({e.key.netns, e.key.server.port})) return;
  listener_stats& ls = listener(e.key);
  // Drops and resets name a handshake only when their segment is one of it: a SYN, or the ACK
  // that would have completed it (its sequence number is the ISN + 1).
  bool handshake_segment = (e.tcp_flags & th_syn) || (e.tcp_flags & th_ack);
  const bool listen_overflow = e.kind == event_kind::drop && overflow_.listen_overflow == e.reason;
  if (e.kind == event_kind::drop) {
    ++ls.drops_by_reason[e.reason];
    if (listen_overflow) ++ls.acks_overflowed;  // whichever segment it was: the reason says it
    if (!handshake_segment) return;
  }
  if (e.kind == event_kind::reset) {
    ++ls.resets;
    if (!handshake_segment) return;
  }
  auto it = pending_.find(e.key);
  if (it == pending_.end()) {
    bool opens = e.kind != event_kind::drop && e.kind != event_kind::reset;
    if (!opens && !(e.tcp_flags & th_syn)) return;  // a drop or reset of an unknown connection's ACK
    if (!opens && recent_.count(e.key)) return;      // the tail of one already handed on
    while (pending_.size() >= max_pending_ && !order_.empty()) {
      auto [oldest, arrival] = order_.front();
      order_.pop_front();
      auto o = pending_.find(oldest);
      if (o == pending_.end() || o->second.arrival != arrival) continue;  // handed on already
      ++evicted_;
      finish(oldest, done);
    }
    if (order_.size() > 2 * pending_.size() + 1024) {  // mostly handed-on keys: keep the live ones
      std::erase_if(order_, [this](const auto& ka) {
        auto o = pending_.find(ka.first);
        return o == pending_.end() || o->second.arrival != ka.second;
      });
    }
    it = pending_.emplace(e.key, entry{handshake{.key = e.key}, ++arrivals_}).first;
    order_.emplace_back(e.key, arrivals_);
  }
  handshake& h = it->second.h;
  h.last_ns = std::max(h.last_ns, e.ts_ns);
  switch (e.kind) {
    case event_kind::syn:
      ++ls.syns;
      ++h.syns;
      if (h.awaiting_answer) {  // the client retransmitted a SYN nothing answered
        ++h.syns_unanswered;
        ++ls.syns_unanswered;
      }
      h.awaiting_answer = true;
      if (!h.syn_ns) h.syn_ns = e.ts_ns;
      return;
    case event_kind::synack:
      ++ls.synacks;
      ++h.synacks;
      h.awaiting_answer = false;
      h.last_synack_ns = e.ts_ns;
      if (!h.synack_ns) {
        h.synack_ns = e.ts_ns;
        if (h.syn_ns) ls.syn_to_synack.record(h.synack_ns - h.syn_ns);
      }
      return;
    case event_kind::synack_retransmit:
      ++ls.synack_retransmits;
      ++h.synack_retransmits;
      return;
    case event_kind::established:
      ++ls.established;
      h.ack_ns = e.ts_ns;
      if (h.synack_ns) ls.synack_to_ack.record(h.ack_ns - h.synack_ns);
      // accept() can return the child before the softirq marks it ESTABLISHED on another CPU
      // (it is queued first, tcp_child_process runs after): then the accept came first.
      if (h.accept_ns) {
        ls.ack_to_accept.record(std::max<int64_t>(h.accept_ns - h.ack_ns, 0));
        finish(e.key, done);
      }
      return;
    case event_kind::accept:
      ++ls.accepted;
      h.accept_ns = e.ts_ns;
      h.pid = e.pid;
      h.comm = e.comm;
      if (h.ack_ns) {
        ls.ack_to_accept.record(h.accept_ns - h.ack_ns);
        finish(e.key, done);
      } else if (!h.syn_ns && !h.synack_ns) {
        finish(e.key, done);  // a connection made before the trace began: nothing more will come
      }
      return;
    case event_kind::drop:
      if (e.tcp_flags & th_syn) h.awaiting_answer = false;  // the SYN's answer is its drop
      // The completing segment of a handshake whose SYN-ACK left, dropped before any child
      // was made, for one of the reasons a full accept queue is given.
      if (listen_overflow) {
        ++h.acks_overflowed;
      } else if (!(e.tcp_flags & th_syn) && (e.tcp_flags & th_ack) && h.synack_ns && !h.ack_ns &&
                 std::find(overflow_.when_completing.begin(), overflow_.when_completing.end(), e.reason) !=
                     overflow_.when_completing.end()) {
        ++h.acks_overflowed;
        ++ls.acks_overflowed;
      }
      if (!h.drops) {
        h.drop_ns = e.ts_ns;
        h.drop_reason = e.reason;
      }
      ++h.drops;
      return;
    case event_kind::reset:
      h.awaiting_answer = false;
      h.reset_ns = e.ts_ns;
      h.reset_reason = e.reason;
      if (!h.ack_ns) finish(e.key, done);
      return;
  }
}

void handshakes::expire(int64_t before_ns, const done_fn& done) {
  std::vector<connection_key> old;
  for (const auto& [k, en] : pending_) {
    if (en.h.last_ns < before_ns) old.push_back(k);
  }
  std::sort(old.begin(), old.end(), [this](const connection_key& a, const connection_key& b) {
    return pending_.at(a).h.last_ns < pending_.at(b).h.last_ns;
  });
  for (const auto& k : old) finish(k, done);
}

void handshakes::flush(const done_fn& done) { expire(INT64_MAX, done); }

}  // namespace synscope::trace
