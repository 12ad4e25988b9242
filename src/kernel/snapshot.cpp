#include "kernel/snapshot.h"

#include <sys/socket.h>

#include <algorithm>

#include "core/clock.h"

namespace synscope::kernel {

std::vector<listener_load> listener_loads(const std::vector<tcp_socket>& listeners,
                                          const std::vector<tcp_socket>& half_open) {
  std::vector<listener_load> out;
  out.reserve(listeners.size());
  for (const auto& l : listeners) {
    listener_load load{l.local, l.rqueue, l.wqueue, 0};
    bool wildcard = l.local.address.is_unspecified();
    for (const auto& h : half_open) {
      if (h.local.port != l.local.port) continue;
      // A wildcard IPv6 listener also takes IPv4 (unless IPV6_V6ONLY, which sock_diag does not show).
      bool family_ok = h.local.address.version == l.local.address.version || (wildcard && l.local.address.version == 6);
      if (family_ok && (wildcard || h.local.address == l.local.address)) ++load.half_open;
    }
    out.push_back(load);
  }
  std::stable_sort(out.begin(), out.end(), [](const listener_load& a, const listener_load& b) {
    if (a.fill() != b.fill()) return a.fill() > b.fill();
    return a.half_open > b.half_open;
  });
  return out;
}

core::result<socket_summary> summarize_sockets(const socket_filter& f, const sysctl_tree& sysctls) {
  socket_summary out;
  std::vector<tcp_socket> listeners;
  std::vector<tcp_socket> half_open;
  auto dumped = dump_tcp(f.query(), [&](const tcp_socket& t) {
    if (!f.matches(t)) return;
    ++out.counts[static_cast<size_t>(t.state)][t.local.address.version == 4 ? 0 : 1];  // request sockets come as syn-recv
    ++out.total;
    if (t.state == tcp_state::listen) listeners.push_back(t);
    if (t.state == tcp_state::syn_recv) half_open.push_back(t);
  });
  if (!dumped) return dumped.error();
  out.listeners = listener_loads(listeners, half_open);
  if (auto v = sysctls.read_int("net.core.somaxconn")) out.somaxconn = *v;
  return out;
}

core::result<snapshot> take_snapshot(const std::string& proc_root) {
  snapshot s;
  auto sockets = summarize_sockets(socket_filter{}, sysctl_tree(proc_root));
  if (!sockets) return sockets.error();
  s.sockets = std::move(*sockets);
  auto counters = read_counters(proc_root);
  if (!counters) return counters.error();
  s.counters = std::move(*counters);
  s.taken_ns = core::monotonic_ns();
  return s;
}

double rate(const snapshot& before, const snapshot& after, std::string_view name) {
  auto a = find_counter(before.counters, name);
  auto b = find_counter(after.counters, name);
  int64_t dt = after.taken_ns - before.taken_ns;
  if (!a || !b || dt <= 0) return 0.0;
  return static_cast<double>(*b - *a) * 1e9 / static_cast<double>(dt);
}

}  // namespace synscope::kernel
