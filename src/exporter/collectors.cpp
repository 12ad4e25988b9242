#include "exporter/collectors.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "core/endpoint.h"
#include "core/clock.h"
#include "core/unique_fd.h"
#include "kernel/counters.h"
#include "kernel/snapshot.h"
#include "kernel/sockets.h"
#include "kernel/sysctl.h"

namespace synscope::exporter {
namespace {

constexpr const char* sysctls[] = {
    "net.core.somaxconn",         "net.ipv4.tcp_max_syn_backlog", "net.ipv4.tcp_syncookies",
    "net.ipv4.tcp_syn_retries",   "net.ipv4.tcp_synack_retries",  "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_tw_reuse",      "net.ipv4.tcp_timestamps",      "net.ipv4.tcp_max_tw_buckets",
    "net.ipv4.tcp_fastopen",      "net.ipv4.tcp_abort_on_overflow",
};

}  // namespace

core::result<void> check_options(const collector_options& o) {
  try {
    std::regex check(o.netstat_fields, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return core::error{core::exit_code::usage, fmt::format("--netstat-fields '{}': not a regular expression ({})",
                                                           core::printable(o.netstat_fields), e.what())};
  }
  for (const auto& l : o.listeners) {
    bool port = !l.empty() && l.find_first_not_of("0123456789") == std::string::npos;
    if (!port && !core::parse_endpoint(l, {})) {
      return core::error{core::exit_code::usage,
                         fmt::format("--listener '{}': a port or ADDR:PORT (as 'synscope sockets -l' prints them)",
                                     core::printable(l))};
    }
  }
  if (o.probe_interval_ns < o.probe_timeout_ns) {
    return core::error{core::exit_code::usage, "--probe-interval: shorter than --probe-timeout"};
  }
  return {};
}

collectors::collectors(collector_options options)
    : options_(std::move(options)),
      fields_(options_.netstat_fields, std::regex::ECMAScript | std::regex::optimize),
      probes_(options_.probes, options_.probe_timeout_ns, options_.probe_interval_ns) {}

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
  auto all_loads = kernel::listener_loads(listeners, half_open);  // fullest first
  // Bounded: the listeners asked for by name or port, then the fullest, up to listeners_max.
  std::vector<kernel::listener_load> loads;
  std::vector<std::string> names;
  std::vector<bool> taken(all_loads.size(), false);
  auto named = [&](const kernel::listener_load& l, const std::string& name) {
    for (const auto& want : options_.listeners) {
      if (want == name || want == std::to_string(l.local.port)) return true;
    }
    return false;
  };
  auto take = [&](size_t i, std::string name) {
    taken[i] = true;
    loads.push_back(all_loads[i]);
    names.push_back(std::move(name));
  };
  for (size_t i = 0; i < all_loads.size(); ++i) {
    if (std::string name = kernel::socket_text(all_loads[i].local); named(all_loads[i], name)) take(i, std::move(name));
  }
  for (size_t i = 0; i < all_loads.size() && loads.size() < options_.listeners_max; ++i) {
    if (!taken[i]) take(i, kernel::socket_text(all_loads[i].local));
  }
  out.family("synscope_tcp_listeners", "Listening TCP sockets, all of them (per-listener series show at most --listeners-max).",
             metric_type::gauge);
  out.sample("synscope_tcp_listeners", {}, static_cast<double>(all_loads.size()));
  out.family("synscope_tcp_listeners_not_shown",
             "Listeners left out of the per-listener series (beyond --listeners-max, not named by --listener).",
             metric_type::gauge);
  out.sample("synscope_tcp_listeners_not_shown", {}, static_cast<double>(all_loads.size() - loads.size()));
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
  kernel::sysctl_tree tree(options_.proc_root);
  for (const char* name : sysctls) {
    if (auto v = tree.read_int(name)) {
      out.sample("synscope_sysctl", {{"name", name}}, static_cast<double>(*v));
    } else {
      ok = false;  // a kernel without this setting: left out, and the collector says so
    }
  }
  out.family("synscope_local_port_range", "net.ipv4.ip_local_port_range: the ports connect() chooses from.",
             metric_type::gauge);
  auto range = tree.read_ints("net.ipv4.ip_local_port_range");
  if (range && range->size() == 2) {
    out.sample("synscope_local_port_range", {{"bound", "low"}}, static_cast<double>((*range)[0]));
    out.sample("synscope_local_port_range", {{"bound", "high"}}, static_cast<double>((*range)[1]));
  } else {
    ok = false;
  }
  return ok;
}

bool collectors::collect_probes(exposition& out) {
  if (options_.probes.empty()) return true;
  // The latest results: probing happens on its own thread, never in a scrape.
  auto results = probes_.results();
  int64_t now = core::monotonic_ns();
  bool ok = true;
  out.family("synscope_probe_handshake_seconds", "Time to complete a TCP handshake with each probe target.",
             metric_type::histogram);
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const std::string& target = options_.probes[i].name;
    for (size_t b = 0; b < probe_buckets().size(); ++b) {
      std::string le = format_value(probe_buckets()[b]);
      out.sample("synscope_probe_handshake_seconds_bucket", {{"target", target}, {"le", le}},
                 static_cast<double>(r.buckets[b]));
    }
    out.sample("synscope_probe_handshake_seconds_bucket", {{"target", target}, {"le", "+Inf"}}, static_cast<double>(r.count));
    out.sample("synscope_probe_handshake_seconds_sum", {{"target", target}}, r.sum_seconds);
    out.sample("synscope_probe_handshake_seconds_count", {{"target", target}}, static_cast<double>(r.count));
  }
  out.family("synscope_probe_success", "1 when the latest handshake with the target completed, else 0.", metric_type::gauge);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ran) continue;  // no round has finished yet
    ok = ok && results[i].last_ok;
    out.sample("synscope_probe_success", {{"target", options_.probes[i].name}}, results[i].last_ok ? 1 : 0);
  }
  out.family("synscope_probe_age_seconds", "Time since the latest probe of the target finished (probes run every --probe-interval).",
             metric_type::gauge);
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ran) continue;
    out.sample("synscope_probe_age_seconds", {{"target", options_.probes[i].name}},
               static_cast<double>(now - results[i].last_done_ns) / 1e9);
  }
  out.family("synscope_probe_attempts_total", "Handshakes the exporter's probes tried (each counts in the kernel's Tcp_ActiveOpens).",
             metric_type::counter);
  for (size_t i = 0; i < results.size(); ++i) {
    out.sample("synscope_probe_attempts_total", {{"target", options_.probes[i].name}}, static_cast<double>(results[i].attempts));
  }
  out.family("synscope_probe_failures_total",
             "Probe handshakes that did not complete, by reason: refused and unreachable ones count in the kernel's "
             "Tcp_AttemptFails, timeout and local ones do not.",
             metric_type::counter);
  for (size_t i = 0; i < results.size(); ++i) {
    for (size_t k = 0; k < probe_failure_kinds; ++k) {
      out.sample("synscope_probe_failures_total",
                 {{"target", options_.probes[i].name}, {"reason", probe_failure_name(static_cast<probe_failure>(k))}},
                 static_cast<double>(results[i].failures[k]));
    }
  }
  out.family("synscope_probe_syn_retransmits_total",
             "SYNs the exporter's probes sent again (each counts in the kernel's TcpExt_TCPSynRetrans).",
             metric_type::counter);
  for (size_t i = 0; i < results.size(); ++i) {
    out.sample("synscope_probe_syn_retransmits_total", {{"target", options_.probes[i].name}},
               static_cast<double>(results[i].syn_retransmits));
  }
  return ok;
}

// Per listener (its port; "other" for those past --listeners-max together): the three intervals
// of each handshake as histograms, and what was retransmitted and dropped. Read under the trace
// thread's lock, which holds events in the ring buffer meanwhile, not lost.
bool collectors::collect_trace(exposition& out) {
  if (!options_.trace) return true;
  bool ok = true;
  options_.trace([&](const trace::view& v) {
    auto port = [](const trace::listener_key& k) { return k.port ? std::to_string(k.port) : std::string("other"); };
    auto histogram = [&](std::string_view name, std::string_view help,
                         const core::histogram trace::listener_stats::*which) {
      out.family(name, help, metric_type::histogram);
      std::string bucket = std::string(name) + "_bucket";
      for (const auto& [k, s] : v.listeners) {
        const core::histogram& h = s.*which;
        std::string p = port(k);
        for (double bound : probe_buckets()) {
          std::string le = format_value(bound);
          auto ns = static_cast<int64_t>(bound * 1e9 + 0.5);
          out.sample(bucket, {{"port", p}, {"le", le}}, static_cast<double>(h.count_at_or_below(ns)));
        }
        out.sample(bucket, {{"port", p}, {"le", "+Inf"}}, static_cast<double>(h.count()));
        out.sample(std::string(name) + "_sum", {{"port", p}}, h.mean() * static_cast<double>(h.count()) / 1e9);
        out.sample(std::string(name) + "_count", {{"port", p}}, static_cast<double>(h.count()));
      }
    };
    histogram("synscope_trace_syn_to_synack_seconds",
              "From a SYN's arrival to the server's first SYN-ACK, per listener port (eBPF trace).",
              &trace::listener_stats::syn_to_synack);
    histogram("synscope_trace_synack_to_ack_seconds",
              "From the first SYN-ACK to the ACK that completed the handshake, retransmissions included.",
              &trace::listener_stats::synack_to_ack);
    histogram("synscope_trace_accept_queue_wait_seconds",
              "From the completing ACK to accept() returning the connection: its time in the accept queue.",
              &trace::listener_stats::ack_to_accept);
    auto counter = [&](std::string_view name, std::string_view help, uint64_t trace::listener_stats::*which) {
      out.family(name, help, metric_type::counter);
      for (const auto& [k, s] : v.listeners) out.sample(name, {{"port", port(k)}}, static_cast<double>(s.*which));
    };
    counter("synscope_trace_syns_total", "SYNs that arrived, retransmitted ones included.", &trace::listener_stats::syns);
    counter("synscope_trace_accepted_total", "Connections accept() returned.", &trace::listener_stats::accepted);
    counter("synscope_trace_synack_retransmits_total", "SYN-ACKs the kernel retransmitted.",
            &trace::listener_stats::synack_retransmits);
    counter("synscope_trace_resets_total", "Resets the kernel sent for segments to the listener's port.",
            &trace::listener_stats::resets);
    out.family("synscope_trace_accept_queue_drops_total",
               "Segments dropped for a full accept queue: completing ACKs and SYNs the kernel answered with nothing "
               "(what TcpExt_ListenOverflows counts).",
               metric_type::counter);
    for (const auto& [k, s] : v.listeners) {
      out.sample("synscope_trace_accept_queue_drops_total", {{"port", port(k)}}, static_cast<double>(s.accept_queue_drops()));
    }
    out.family("synscope_trace_drops_total", "TCP segments to the listener's port the kernel dropped, by its drop reason.",
               metric_type::counter);
    for (const auto& [k, s] : v.listeners) {
      std::string p = port(k);
      for (const auto& [reason, n] : s.drops_by_reason) {
        std::string name = v.reasons.drop_name(reason);
        out.sample("synscope_trace_drops_total", {{"port", p}, {"reason", name}}, static_cast<double>(n));
      }
    }
    out.family("synscope_trace_events_lost_total", "Trace events the kernel could not hand on (ring buffer full).",
               metric_type::counter);
    out.sample("synscope_trace_events_lost_total", {}, static_cast<double>(v.lost));
    out.family("synscope_trace_hook_active", "1 for each tracepoint the trace is attached to, 0 for one it could not attach.",
               metric_type::gauge);
    for (const auto& h : v.hooks) {
      out.sample("synscope_trace_hook_active", {{"tracepoint", h.tracepoint}}, h.active ? 1 : 0);
      ok = ok && h.active;
    }
  });
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
  if (options_.trace) timed("trace", &collectors::collect_trace);
  out.family("synscope_scrape_collector_duration_seconds", "How long each collector took in this scrape.",
             metric_type::gauge);
  for (const auto& r : results) out.sample("synscope_scrape_collector_duration_seconds", {{"collector", r.name}}, r.seconds);
  out.family("synscope_scrape_collector_success", "1 when the collector read everything it reads, else 0.",
             metric_type::gauge);
  for (const auto& r : results) out.sample("synscope_scrape_collector_success", {{"collector", r.name}}, r.ok ? 1 : 0);
  return out.finish();
}

}  // namespace synscope::exporter
