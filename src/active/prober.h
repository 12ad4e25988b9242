#pragma once
// The handshake prober: repeated TCP connects to one or more addresses, each timed on the
// monotonic clock from connect() to the socket turning writable, with the kernel's own view
// (TCP_INFO) beside it.
//
//   active::probe_options opts;
//   opts.targets = {addr};
//   opts.count = 5;
//   auto report = active::run_probe(opts, [](const active::attempt& a) { ... }, nullptr);
//   report->targets[0].handshake.percentile(50);   // nanoseconds
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "active/connector.h"
#include "active/socket_options.h"
#include "kernel/tcp_info.h"
#include "core/endpoint.h"
#include "core/error.h"
#include "core/histogram.h"

namespace synscope::active {

enum class outcome {
  connected,  ///< the handshake completed
  refused,    ///< a RST answered the SYN (ECONNREFUSED)
  timeout,    ///< no answer before the attempt's timeout
  error,      ///< any other failure (EHOSTUNREACH, EADDRNOTAVAIL, ...): see attempt::error_number
};
const char* outcome_name(outcome o);

struct probe_options {
  std::vector<core::socket_address> targets;
  uint64_t count = 10;                    ///< attempts per target; 0 = until *stop is set
  int64_t interval_ns = 1'000'000'000;    ///< between the starts of successive rounds
  int64_t timeout_ns = 2'000'000'000;     ///< per attempt
  unsigned concurrency = 1;               ///< attempts in flight at once
  client_socket_options socket;
  bool fastopen = false;                  ///< connect with MSG_FASTOPEN, carrying `data`
  std::string data;                       ///< sent once connected (on the SYN with fastopen)
};

struct attempt {
  size_t target = 0;           ///< index into probe_options::targets
  uint64_t seq = 0;            ///< 1-based, per target
  int64_t started_unix_ns = 0;
  int64_t elapsed_ns = 0;      ///< connect() to connected, or to the failure
  outcome result = outcome::error;
  int error_number = 0;        ///< errno for refused and error
  core::socket_address local;  ///< the local address the kernel chose (empty if none)
  /// The SYN's sequence number, for connected and refused attempts where the prober may read it
  /// (CAP_NET_ADMIN: active::read_client_isn): with `local` and the target, the key analyze
  /// and trace give the same connection.
  std::optional<uint32_t> client_isn;
  kernel::tcp_info_view kernel;      ///< TCP_INFO read just before close
  uint32_t syn_retransmits = 0;
  /// The kernel's RTT is a measurement of this handshake: connected, TCP_INFO read, and no SYN
  /// retransmitted. After a retransmission Karn's rule gives the kernel no sample, and what
  /// tcpi_rtt holds is the timestamp clock's granularity (1 ms), not a round trip.
  [[nodiscard]] bool kernel_rtt_known() const {
    return kernel.valid && result == outcome::connected && syn_retransmits == 0;
  }
  tfo_use tfo = tfo_use::off;
  size_t syn_data_bytes = 0;   ///< bytes that rode on the SYN
  bool syn_data_acked = false; ///< the SYN-ACK acknowledged them
};

struct target_stats {
  core::socket_address address;
  uint64_t sent = 0;  ///< attempts that finished (attempts cut off by a stop are not counted)
  uint64_t connected = 0;
  uint64_t refused = 0;
  uint64_t timed_out = 0;
  uint64_t errors = 0;
  std::map<std::string, uint64_t> errors_by_name;  ///< errno name -> count, for outcome::error
  core::histogram handshake;       ///< every connected attempt, ns
  core::histogram clean;           ///< connected with no SYN retransmission
  core::histogram retransmitted;   ///< connected after one or more SYN retransmissions
  core::histogram kernel_rtt;      ///< tcpi_rtt of connected attempts whose RTT is known (attempt::kernel_rtt_known), ns
  uint64_t tfo_cookie_requested = 0;
  uint64_t tfo_data_in_syn = 0;
  uint64_t tfo_data_acked = 0;

  [[nodiscard]] double loss_pct() const;
};

struct probe_report {
  std::vector<target_stats> targets;
  bool stopped = false;  ///< *stop ended the run before every attempt was made
  int64_t elapsed_ns = 0;

  [[nodiscard]] bool all_connected() const;
};

/// Runs the probe and calls `on_attempt` for each attempt as it finishes (completion order).
/// Returns when every attempt finished or when `*stop` becomes true (checked at least every
/// interval). Fails only when the system cannot run it at all (no epoll, no sockets).
core::result<probe_report> run_probe(const probe_options& options,
                                     const std::function<void(const attempt&)>& on_attempt,
                                     const std::atomic<bool>* stop);

}  // namespace synscope::active
