#include "tcp/summary.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace synscope::tcp {

double server_half_open::rate_per_s() const {
  // Over at least one second: a burst of a few SYNs within microseconds is not "a million per second".
  double span_s = std::max(1.0, static_cast<double>(last_ns - first_ns) / 1e9);
  return static_cast<double>(half_open) / span_s;
}

double summary::success_rate() const {
  return attempts == 0 ? 0.0 : static_cast<double>(completed) / static_cast<double>(attempts);
}

size_t summary_builder::endpoint_hash::operator()(const endpoint& e) const noexcept {
  uint64_t a = 0;
  uint64_t b = 0;
  std::memcpy(&a, e.address.bytes.data(), 8);
  std::memcpy(&b, e.address.bytes.data() + 8, 8);
  return static_cast<size_t>((a * 0x9e3779b97f4a7c15u) ^ (b + e.port) * 0xff51afd7ed558ccdu);
}

summary_builder::summary_builder(size_t top_n, syn_flood_thresholds flood) : top_n_(top_n), flood_(flood) {}

void summary_builder::on_connection(const connection& c) {
  ++s_.connections;
  conn_state st = c.state();
  ++s_.by_state[static_cast<size_t>(st)];
  for (uint32_t bits = c.anomalies; bits != 0; bits &= bits - 1) {
    auto i = static_cast<size_t>(std::countr_zero(bits));
    if (i < s_.anomalies.size()) ++s_.anomalies[i];
  }
  if (c.syn_count == 0) return;  // not an attempt we saw begin
  ++s_.attempts;
  ++s_.syn_retransmits[c.syn_count - 1];
  if (c.handshake_complete) {
    ++s_.completed;
    ++second_of(c.handshake_ack_ns).completed;  // the second of the completing ACK
    if (c.initial_rtt_ns >= 0) s_.initial_rtt.record(c.initial_rtt_ns);
    if (int64_t t = c.connect_time_ns(); t >= 0) s_.connect_time.record(t);
    if (c.client_rtt_ns >= 0) s_.client_rtt.record(c.client_rtt_ns);
  }
  if (c.server_rtt_ns >= 0) s_.server_rtt.record(c.server_rtt_ns);
  if (c.refused) {
    ++s_.refused;
    ++refused_ports_[c.server.port];
  }
  auto [it, fresh] = servers_.try_emplace(c.server);
  server_half_open& srv = it->second;
  if (fresh) {
    srv.server = c.server;
    srv.first_ns = c.first_ns;
  }
  ++srv.attempts;
  if (st == conn_state::s0) {
    if (srv.half_open == 0) srv.first_ns = c.first_ns;
    ++srv.half_open;
    srv.last_ns = std::max(srv.last_ns, c.first_ns);
  }
}

timeline_second& summary_builder::second_of(int64_t ts_ns) {
  if (cached_ && static_cast<uint64_t>(ts_ns) - static_cast<uint64_t>(cached_from_ns_) < 1'000'000'000u) {
    return timeline_[cached_index_];
  }
  int64_t sec = ts_ns >= 0 ? ts_ns / 1'000'000'000 : (ts_ns - 999'999'999) / 1'000'000'000;
  // A timeline longer than ~11.6 days means a corrupt timestamp: counting it in a bucket of its
  // own keeps the timeline from allocating years of empty seconds.
  constexpr int64_t max_span_s = 1'000'000;
  auto end = timeline_base_ + static_cast<int64_t>(timeline_.size());
  if (!timeline_.empty() && std::max(end, sec + 1) - std::min(timeline_base_, sec) > max_span_s) {
    cached_ = false;
    return wild_;
  }
  if (timeline_.empty()) {
    timeline_base_ = sec;
  } else if (sec < timeline_base_) {
    timeline_.insert(timeline_.begin(), static_cast<size_t>(timeline_base_ - sec), timeline_second{});
    timeline_base_ = sec;
  }
  auto index = static_cast<size_t>(sec - timeline_base_);
  if (index >= timeline_.size()) {
    timeline_.resize(index + 1);
  }
  cached_ = sec > INT64_MIN / 1'000'000'000 && sec < INT64_MAX / 1'000'000'000;
  cached_from_ns_ = cached_ ? sec * 1'000'000'000 : 0;
  cached_index_ = index;
  return timeline_[index];
}

void summary_builder::add_segment(const wire::packet_view& p, int64_t ts_ns) {
  using namespace wire::tcp_flag;
  uint16_t f = p.flags;
  if (!(f & (syn | rst)) && !(f & ack)) return;
  bool is_syn = (f & syn) && !(f & ack);
  bool is_synack = (f & syn) && (f & ack);
  bool is_rst = (f & rst) != 0;
  if (!is_syn && !is_synack && !is_rst) return;
  timeline_second& t = second_of(ts_ns);
  if (is_syn) ++t.syns;
  if (is_synack) ++t.synacks;
  if (is_rst) ++t.resets;
}

summary summary_builder::finish() const {
  summary out = s_;
  // Every second from the first with a handshake event to the last, the quiet ones as zeros: a
  // gap in the traffic is a gap on the timeline, not two busy seconds drawn side by side.
  auto busy = [](const timeline_second& t) { return t.syns + t.synacks + t.completed + t.resets > 0; };
  size_t first = 0;
  size_t last = timeline_.size();
  while (first < last && !busy(timeline_[first])) ++first;
  while (last > first && !busy(timeline_[last - 1])) --last;
  for (size_t i = first; i < last; ++i) {
    timeline_second copy = timeline_[i];
    copy.second = timeline_base_ + static_cast<int64_t>(i);
    out.timeline.push_back(copy);
  }
  for (const auto& [ep, srv] : servers_) {
    if (srv.half_open == 0) continue;
    server_half_open h = srv;
    h.syn_flood = h.half_open >= flood_.min_half_open &&
                  static_cast<double>(h.half_open) >= flood_.min_share * static_cast<double>(h.attempts) &&
                  h.rate_per_s() >= flood_.min_rate_per_s;
    out.top_half_open.push_back(h);
  }
  std::sort(out.top_half_open.begin(), out.top_half_open.end(), [](const auto& a, const auto& b) {
    return a.half_open != b.half_open ? a.half_open > b.half_open : a.first_ns < b.first_ns;
  });
  if (out.top_half_open.size() > top_n_) out.top_half_open.resize(top_n_);
  for (const auto& [port, n] : refused_ports_) out.top_refused.push_back({port, n});
  std::sort(out.top_refused.begin(), out.top_refused.end(), [](const auto& a, const auto& b) {
    return a.refused != b.refused ? a.refused > b.refused : a.port < b.port;
  });
  if (out.top_refused.size() > top_n_) out.top_refused.resize(top_n_);
  return out;
}

}  // namespace synscope::tcp
