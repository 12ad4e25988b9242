#pragma once
// One look at the kernel's handshake state: socket counts per TCP state, the listeners with
// their queues and half-open counts, and every counter. `synscope top` takes one a second;
// rates come from the difference of two.
//
//   auto a = kernel::take_snapshot();  ...  auto b = kernel::take_snapshot();
//   double opens_per_s = kernel::rate(*a, *b, "TcpActiveOpens");
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernel/counters.h"
#include "kernel/socket_filter.h"
#include "kernel/sockets.h"
#include "kernel/sysctl.h"

namespace synscope::kernel {

struct listener_load {
  ip_endpoint local;
  uint32_t accept_queue = 0;  ///< connections completed, waiting for accept()
  uint32_t backlog = 0;       ///< the accept queue's limit
  uint32_t half_open = 0;     ///< SYN-RECV request sockets for this listener
  [[nodiscard]] double fill() const { return backlog == 0 ? 0.0 : static_cast<double>(accept_queue) / backlog; }
};

/// The socket summary every view shares (`sockets -s`, `top`, the doctor): counts per state and
/// family, the listeners with their queues and half-open connections, and the somaxconn that
/// caps their backlogs.
struct socket_summary {
  state_counts counts{};                 ///< [tcp_state][0 IPv4, 1 IPv6]; request sockets as syn_recv
  uint64_t total = 0;
  std::vector<listener_load> listeners;  ///< fullest accept queue first
  int64_t somaxconn = -1;                ///< net.core.somaxconn, -1 when it could not be read
  [[nodiscard]] uint64_t in_state(tcp_state s) const {
    const auto& c = counts[static_cast<size_t>(s)];
    return c[0] + c[1];
  }
  /// The backlog is somaxconn: the application may have asked for more and been capped.
  [[nodiscard]] bool capped_by_somaxconn(const listener_load& l) const {
    return somaxconn >= 0 && static_cast<int64_t>(l.backlog) == somaxconn;
  }
};

/// The summary of the sockets `f` selects, in the namespace the calling thread is in; somaxconn
/// read from `sysctls` (so --proc-root and a namespace entered are honoured).
core::result<socket_summary> summarize_sockets(const socket_filter& f, const sysctl_tree& sysctls);

struct snapshot {
  int64_t taken_ns = 0;  ///< CLOCK_MONOTONIC
  socket_summary sockets;
  std::vector<counter> counters;
};

/// Takes a snapshot of the namespace the calling thread is in: every socket, the counters
/// under `proc_root`.
core::result<snapshot> take_snapshot(const std::string& proc_root = "/proc");

/// Per-second rate of counter `name` between two snapshots (0 when missing or no time passed).
double rate(const snapshot& before, const snapshot& after, std::string_view name);

/// Attributes request sockets to listeners: a SYN-RECV socket belongs to the listener on its
/// local port whose address is its own or the wildcard. Sorts fullest first.
std::vector<listener_load> listener_loads(const std::vector<tcp_socket>& listeners,
                                          const std::vector<tcp_socket>& half_open);

}  // namespace synscope::kernel
