#include "exporter/collectors.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <fstream>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "kernel/counters.h"
#include "kernel/snapshot.h"
#include "kernel/sockets.h"

namespace synscope::exporter {
namespace {

constexpr const char* sysctls[] = {
    "net.core.somaxconn",         "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_syn_retries",   "net.ipv4.tcp_synack_retries",  "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_tw_reuse",      "net.ipv4.tcp_timestamps",      "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.tcp_fastopen",      "net.ipv4.tcp_abort_on_overflow",
};

std::string sysctl_path(const std::string& proc_root, std::string_view name) {
  std::string path = proc_root + "/sys/";
  for (char c : name) path += c == '.' ? '/' : c;
  return path;
}

// One handshake with `target`; the time in seconds, or a negative number when it failed.
double probe_once(const core::socket_address& target, int64_t timeout_ns) {
  core::unique_fd fd(socket(target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return -1;
  linger lg{1, 0};  // end with a RST: a probe every scrape must not pile up TIME-WAIT here
  setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  int64_t start = core::monotonic_ns();
  if (connect(fd.get(), target.data(), target.size()) != 0 && errno != EINPROGRESS) return -1;
  pollfd p{fd.get(), POLLOUT, 0};
  int64_t left = timeout_ns;
  while (left > 0) {
    int n = poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left / core::ns_per_ms)));
    if (n > 0) break;
    if (n < 0 && errno != EINTR) return -1;
    left = timeout_ns - (core::monotonic_ns() - start);
  }
  if (left <= 0) return -1;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) return -1;
  return static_cast<double>(core::monotonic_ns() - start) / 1e9;
}

}  // namespace

const std::vector<double>& probe_buckets() {
  static const std::vector<double> b = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
  return b;
}

collectors::collectors(collector_options options)
    : options_(std::move(options)), fields_(options_.netstat_fields, std::regex::ECMAScript | std::regex::optimize) {
  probe_states_.resize(options_.probes.size());
  for (auto& p : probe_states_) p.buckets.assign(probe_buckets().size(), 0);
}

bool collectors::collect_netstat(exposition& out) {
  auto all = kernel::read_counters(options_.proc_root);
  if (!all) return false;
  // node_exporter's names, types and help, in its order (by name).
  std::vector<std::pair<std::string, const kernel::counter*>> chosen;
  {
    std::lock_guard lock(fields_mutex_);
    for (const auto& c : *all) {
      if (c.table.empty()) continue;
      std::string key = c.table + "_" + c.field;
      auto [it, fresh] = field_chosen_.try_emplace(key, false);
      if (fresh) it->second = std::regex_search(key, fields_);
      if (it->second) chosen.emplace_back("node_netstat_" + key, &c);
    }
  }
  std::sort(chosen.begin(), chosen.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, c] : chosen) {
    out.family(name, fmt::format("Statistic {}{}.", c->table, c->field), metric_type::untyped);
    out.sample(name, {}, static_cast<double>(c->value));
  }
  return true;
}

bool collectors::collect_sockets(exposition& out) {
  // count_tcp(): the counts of a full dump without a message per TIME-WAIT socket (with
  // 50,000 of them those messages were most of a scrape).
  std::vector<kernel::tcp_socket> listeners;
  std::vector<kernel::tcp_socket> half_open;
  auto counted = kernel::count_tcp([&](const kernel::tcp_socket& s) {
    if (s.state == kernel::tcp_state::listen) listeners.push_back(s);
    if (s.state == kernel::tcp_state::syn_recv) half_open.push_back(s);
  });
  if (!counted) return false;
  const auto& counts = *counted;
  out.family("synscope_tcp_sockets", "TCP sockets by state and address family (request sockets count as syn-recv).",
             metric_type::gauge);
  for (int i = 1; i <= kernel::tcp_state_max; ++i) {
    auto st = static_cast<kernel::tcp_state>(i);
    if (st == kernel::tcp_state::new_syn_recv) continue;
    out.sample("synscope_tcp_sockets", {{"family", "ipv4"}, {"state", kernel::state_name(st)}},
               static_cast<double>(counts[static_cast<size_t>(i)][0]));
    out.sample("synscope_tcp_sockets", {{"family", "ipv6"}, {"state", kernel::state_name(st)}},
               static_cast<double>(counts[static_cast<size_t>(i)][1]));
  }
  auto loads = kernel::listener_loads(listeners, half_open);
  std::vector<std::string> names;
  for (const auto& l : loads) names.push_back(kernel::to_string(l.local));
  out.family("synscope_tcp_listener_accept_queue", "Connections completed and waiting for accept(), per listener.",
             metric_type::gauge);
  for (size_t i = 0; i < loads.size(); ++i) {
    out.sample("synscope_tcp_listener_accept_queue", {{"listener", names[i]}}, loads[i].accept_queue);
  }
  out.family("synscope_tcp_listener_accept_queue_max", "The accept queue's limit (listen() backlog, capped by somaxconn).",
             metric_type::gauge);
  for (size_t i = 0; i < loads.size(); ++i) {
    out.sample("synscope_tcp_listener_accept_queue_max", {{"listener", names[i]}}, loads[i].backlog);
  }
  out.family("synscope_tcp_listener_half_open", "SYN-RECV request sockets (half-open connections), per listener.",
             metric_type::gauge);
  for (size_t i = 0; i < loads.size(); ++i) {
    out.sample("synscope_tcp_listener_half_open", {{"listener", names[i]}}, loads[i].half_open);
  }
  return true;
}

bool collectors::collect_sysctls(exposition& out) {
  bool ok = true;
  out.family("synscope_sysctl", "Kernel settings that shape connection establishment (sysctl name as label).",
             metric_type::gauge);
  for (const char* name : sysctls) {
    std::ifstream in(sysctl_path(options_.proc_root, name));
    double v = 0;
    if (in >> v) {
      out.sample("synscope_sysctl", {{"name", name}}, v);
    } else {
      ok = false;  // a kernel without this setting: left out, and the collector says so
    }
  }
  std::ifstream range(sysctl_path(options_.proc_root, "net.ipv4.ip_local_port_range"));
  double low = 0;
  double high = 0;
  out.family("synscope_local_port_range", "net.ipv4.ip_local_port_range: the ports connect() chooses from.",
             metric_type::gauge);
  if (range >> low >> high) {
    out.sample("synscope_local_port_range", {{"bound", "low"}}, low);
    out.sample("synscope_local_port_range", {{"bound", "high"}}, high);
  } else {
    ok = false;
  }
  return ok;
}

bool collectors::collect_probes(exposition& out) {
  if (options_.probes.empty()) return true;
  std::lock_guard lock(probes_mutex_);
  bool ok = true;
  for (size_t i = 0; i < options_.probes.size(); ++i) {
    double t = probe_once(options_.probes[i].address, options_.probe_timeout_ns);
    probe_state& s = probe_states_[i];
    s.last_ok = t >= 0;
    ok = ok && s.last_ok;
    if (!s.last_ok) continue;
    s.last_seconds = t;
    ++s.count;
    s.sum_seconds += t;
    for (size_t b = 0; b < probe_buckets().size(); ++b) {
      if (t <= probe_buckets()[b]) ++s.buckets[b];
    }
  }
  out.family("synscope_probe_handshake_seconds", "Time to complete a TCP handshake with each probe target.",
             metric_type::histogram);
  for (size_t i = 0; i < options_.probes.size(); ++i) {
    const auto& s = probe_states_[i];
    const std::string& target = options_.probes[i].name;
    for (size_t b = 0; b < probe_buckets().size(); ++b) {
      std::string le = format_value(probe_buckets()[b]);
      out.sample("synscope_probe_handshake_seconds_bucket", {{"target", target}, {"le", le}},
                 static_cast<double>(s.buckets[b]));
    }
    out.sample("synscope_probe_handshake_seconds_bucket", {{"target", target}, {"le", "+Inf"}},
               static_cast<double>(s.count));
    out.sample("synscope_probe_handshake_seconds_sum", {{"target", target}}, s.sum_seconds);
    out.sample("synscope_probe_handshake_seconds_count", {{"target", target}}, static_cast<double>(s.count));
  }
  out.family("synscope_probe_success", "1 when this scrape's handshake with the target completed, else 0.",
             metric_type::gauge);
  for (size_t i = 0; i < options_.probes.size(); ++i) {
    out.sample("synscope_probe_success", {{"target", options_.probes[i].name}}, probe_states_[i].last_ok ? 1 : 0);
  }
  return ok;
}

std::string collectors::scrape(format f) {
  exposition out(f);
  struct result {
    const char* name;
    double seconds;
    bool ok;
  };
  std::vector<result> results;
  auto timed = [&](const char* name, bool (collectors::*fn)(exposition&)) {
    int64_t t0 = core::monotonic_ns();
    bool ok = (this->*fn)(out);
    results.push_back({name, static_cast<double>(core::monotonic_ns() - t0) / 1e9, ok});
  };
  timed("netstat", &collectors::collect_netstat);
  timed("sockets", &collectors::collect_sockets);
  timed("sysctl", &collectors::collect_sysctls);
  timed("probe", &collectors::collect_probes);
  out.family("synscope_scrape_collector_duration_seconds", "How long each collector took in this scrape.",
             metric_type::gauge);
  for (const auto& r : results) out.sample("synscope_scrape_collector_duration_seconds", {{"collector", r.name}}, r.seconds);
  out.family("synscope_scrape_collector_success", "1 when the collector read everything it reads, else 0.",
             metric_type::gauge);
  for (const auto& r : results) out.sample("synscope_scrape_collector_success", {{"collector", r.name}}, r.ok ? 1 : 0);
  return out.finish();
}

}  // namespace synscope::exporter
