#pragma once
// One look at the kernel's handshake state: socket counts per TCP state, the listeners with
// their queues and half-open counts, and every counter. `synscope top` takes one a second;
// rates come from the difference of two.
//
//   auto a = kernel::take_snapshot();  ...  auto b = kernel::take_snapshot();
//   double opens_per_s = kernel::rate(*a, *b, "TcpActiveOpens");
#include <array>
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "kernel/counters.h"
#include "kernel/sockets.h"

namespace synscope::kernel {

struct listener_load {
  ip_endpoint local;
  uint32_t accept_queue = 0;  ///< connections completed, waiting for accept()
  uint32_t backlog = 0;       ///< the accept queue's limit
  uint32_t half_open = 0;     ///< SYN-RECV request sockets for this listener
  [[nodiscard]] double fill() const { return backlog == 0 ? 0.0 : static_cast<double>(accept_queue) / backlog; }
};

struct snapshot {
  int64_t taken_ns = 0;  ///< CLOCK_MONOTONIC
  std::array<uint64_t, tcp_state_max + 1> by_state{};  ///< indexed by tcp_state (new_syn_recv counted as syn_recv)
  uint64_t sockets = 0;
  std::vector<listener_load> listeners;  ///< fullest accept queue first
  std::vector<counter> counters;
};

/// Takes a snapshot of the namespace the calling thread is in.
core::result<snapshot> take_snapshot();

/// Per-second rate of counter `name` between two snapshots (0 when missing or no time passed).
double rate(const snapshot& before, const snapshot& after, std::string_view name);

/// Attributes request sockets to listeners: a SYN-RECV socket belongs to the listener on its
/// local port whose address is its own or the wildcard. Sorts fullest first.
std::vector<listener_load> listener_loads(const std::vector<tcp_socket>& listeners,
                                          const std::vector<tcp_socket>& half_open);

}  // namespace synscope::kernel
