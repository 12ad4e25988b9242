#pragma once
// What `synscope analyze` says about a whole capture: built from finished connections (and,
// for the per-second timeline, from every segment).
#include <array>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <vector>

#include "core/histogram.h"
#include "tcp/tracker.h"

namespace synscope::tcp {

/// A server is flagged as under a SYN flood when, over the capture, at least this many of its
/// connection attempts stayed half-open (S0), they were at least this share of its attempts,
/// and they arrived at least this fast (S0 count over the time between the first and the last).
struct syn_flood_thresholds {
  uint64_t min_half_open = 20;
  double min_share = 0.5;
  double min_rate_per_s = 10.0;
};

struct server_half_open {
  endpoint server;
  uint64_t half_open = 0;  ///< S0 connections
  uint64_t attempts = 0;   ///< connections with a SYN
  int64_t first_ns = 0;
  int64_t last_ns = 0;
  bool syn_flood = false;
  /// Half-open connections per second between the first and the last (a span of at least 1 s).
  [[nodiscard]] double rate_per_s() const;
};

struct refused_port {
  uint16_t port = 0;
  uint64_t refused = 0;
};

struct timeline_second {
  int64_t second = 0;  ///< Unix time, whole seconds
  uint64_t syns = 0;
  uint64_t synacks = 0;
  uint64_t completed = 0;
  uint64_t resets = 0;
};

struct summary {
  uint64_t connections = 0;
  uint64_t attempts = 0;   ///< connections with a SYN from the client
  uint64_t completed = 0;  ///< of those, handshakes completed
  uint64_t refused = 0;
  std::array<uint64_t, 13> by_state{};  ///< indexed by conn_state
  core::histogram initial_rtt;          ///< ns
  core::histogram connect_time;         ///< ns: first SYN to the completing ACK (connection::connect_time_ns)
  core::histogram server_rtt;
  core::histogram client_rtt;
  std::map<uint32_t, uint64_t> syn_retransmits;  ///< retransmitted SYNs -> connections
  std::vector<server_half_open> top_half_open;   ///< most S0 first
  std::vector<refused_port> top_refused;         ///< most refusals first
  std::vector<timeline_second> timeline;         ///< every second from the first handshake event to the last, in order
  std::array<uint64_t, anomaly_count> anomalies{};  ///< connections with each anomaly bit
  [[nodiscard]] double success_rate() const;     ///< completed / attempts (0 when none)
};

class summary_builder : public connection_sink {
 public:
  explicit summary_builder(size_t top_n = 10, syn_flood_thresholds flood = {});
  void on_connection(const connection& c) override;
  /// Every segment, for the timeline.
  void add_segment(const wire::packet_view& p, int64_t ts_ns);
  [[nodiscard]] summary finish() const;

 private:
  struct endpoint_hash {
    size_t operator()(const endpoint& e) const noexcept;
  };
  size_t top_n_;
  syn_flood_thresholds flood_;
  summary s_;
  std::unordered_map<endpoint, server_half_open, endpoint_hash> servers_;
  std::unordered_map<uint16_t, uint64_t> refused_ports_;
  // Seconds from timeline_base_ on, indexed directly (captures are close to time order); a
  // segment earlier than the base moves the base back.
  std::vector<timeline_second> timeline_;
  int64_t timeline_base_ = 0;
  timeline_second& second_of(int64_t ts_ns);
  timeline_second wild_;  // segments with corrupt timestamps: not on the timeline
  bool cached_ = false;  // the second last asked for: most segments fall in it
  int64_t cached_from_ns_ = 0;
  size_t cached_index_ = 0;
};

}  // namespace synscope::tcp
