// synscope exporter: the kernel's handshake state for Prometheus, node_exporter-compatible.
#include <sys/resource.h>

#include <optional>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "exporter/collectors.h"
#include "exporter/http.h"
#include "exporter/probe_config.h"
#include "exporter/probe_endpoint.h"
#include "kernel/netns.h"
#include "trace/live.h"

namespace synscope::cli {
namespace {

struct exporter_args {
  std::string listen = fmt::format("127.0.0.1:{}", exporter::default_port);
  std::string netns;
  std::string proc_root = "/proc";
  std::string netstat_fields = exporter::default_netstat_fields;
  std::vector<std::string> probes;
  std::string probe_timeout = "1s";
  std::string probe_interval = "15s";
  std::vector<std::string> listeners;
  size_t listeners_max = 100;
  unsigned connection_limit = 512;
  unsigned per_ip_limit = 32;
  unsigned max_requests = 40;
  std::string timeout = "10s";
  std::string header_timeout = "5s";
  std::string duration;
  bool listen_in_netns = false;
  bool trace = false;
  std::string probe_config;
  unsigned probe_concurrency = 16;
};

int run(const exporter_args& args) {
  exporter::collector_options co;
  co.netstat_fields = args.netstat_fields;
  co.proc_root = args.proc_root;
  for (const auto& p : args.probes) {
    auto spec = core::parse_endpoint(p, {});
    if (!spec) return fail(spec.error());
    auto addrs = core::resolve(*spec, core::address_family::any);
    if (!addrs) return fail(addrs.error());
    co.probes.push_back({p, addrs->front()});
  }
  auto pt = core::parse_duration(args.probe_timeout, "--probe-timeout");
  if (!pt) return fail(pt.error());
  co.probe_timeout_ns = *pt;
  auto pi = core::parse_duration(args.probe_interval, "--probe-interval");
  if (!pi) return fail(pi.error());
  co.probe_interval_ns = *pi;
  co.listeners = args.listeners;
  co.listeners_max = args.listeners_max;
  if (auto c = exporter::check_options(co); !c) return fail(c.error());
  exporter::http_options ho;
  auto listen = core::parse_local_address(args.listen, "--listen");
  if (!listen) return fail(listen.error());
  ho.listen = *listen;
  if (args.connection_limit == 0) return fail(core::error{core::exit_code::usage, "--connection-limit: at least 1"});
  ho.max_connections = args.connection_limit;
  ho.per_address_limit = args.per_ip_limit;
  ho.max_in_flight = args.max_requests;
  auto timeout = core::parse_duration(args.timeout, "--timeout");
  if (!timeout) return fail(timeout.error());
  ho.idle_timeout_ns = *timeout;
  auto header_timeout = core::parse_duration(args.header_timeout, "--header-timeout");
  if (!header_timeout) return fail(header_timeout.error());
  ho.header_timeout_ns = *header_timeout;
  int64_t duration = 0;
  if (!args.duration.empty()) {
    auto d = core::parse_duration(args.duration, "--duration");
    if (!d) return fail(d.error());
    duration = *d;
  }
  // --probe-config: /probe, read and checked before anything listens (a bad file is exit 2 or 4).
  std::optional<exporter::probe_config> probe_config;
  if (!args.probe_config.empty()) {
    auto config = exporter::load_probe_config(args.probe_config);
    if (!config) return fail(config.error());
    if (args.probe_concurrency == 0) return fail(core::error{core::exit_code::usage, "--probe-concurrency: at least 1"});
    probe_config = std::move(*config);
  }
  // With --netns the HTTP listener is made here first, in the namespace synscope was started in
  // (where Prometheus is), and only then does the process enter the one it exports: a socket
  // stays in the namespace it was made in, and the server's threads, started after, read the
  // exported namespace's /proc/net and sock_diag. --listen-in-netns listens inside it instead.
  core::unique_fd listener;
  if (!args.netns.empty() && !args.listen_in_netns) {
    auto l = exporter::open_listener(ho);
    if (!l) return fail(l.error());
    listener = std::move(*l);
  }
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  // /probe's workers start here, after the namespace is entered, so that they probe from the
  // exported namespace as --probe does (a thread stays in the namespace it was started in).
  std::unique_ptr<exporter::probe_endpoint> probe_endpoint;
  if (probe_config) {
    probe_endpoint = std::make_unique<exporter::probe_endpoint>(std::move(*probe_config), args.probe_concurrency);
    ho.probes = probe_endpoint.get();
  }
  // Room for the connection limit: descriptors up to the hard limit.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  // --trace: the handshake tracer on a thread of its own, its figures read at each scrape. Where
  // it cannot run (no CAP_BPF, no BTF), the exporter says so once and serves everything else.
#ifdef SYNSCOPE_HAVE_TRACE
  std::unique_ptr<trace::background> tracing;
  if (args.trace) {
    auto bg = trace::background::start({.netns = kernel::current_netns_inode()}, co.listeners_max);
    if (bg) {
      tracing = std::move(*bg);
      co.trace = [t = tracing.get()](const trace::view_fn& f) { t->read(f); };
    } else {
      fmt::print(stderr, "synscope exporter: --trace: {}; serving without the trace collector\n", bg.error().message);
    }
  }
#endif
  auto& stop = install_interrupt_flag();
  exporter::collectors collectors(co);
  auto server = exporter::http_server::start(ho, collectors, std::move(listener));
  if (!server) return fail(server.error());
  collectors.start_probes();
  fmt::print("synscope exporter: listening on http://{}/metrics{}{}\n", (*server)->bound().to_string(),
             probe_endpoint ? " and /probe" : "",
             args.netns.empty()       ? ""
             : args.listen_in_netns ? fmt::format(" inside network namespace {}, exporting it", args.netns)
                                    : fmt::format(", exporting network namespace {}", args.netns));
  std::fflush(stdout);
  int64_t start = core::monotonic_ns();
  while (!stop.load() && (duration == 0 || core::monotonic_ns() - start < duration)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  (*server)->stop();
  const auto& st = (*server)->stats();
  fmt::print("synscope exporter: {} connections, {} requests, {} scrapes, {} probes, {} not found, {} not allowed, "
             "{} forbidden, {} bad, {} busy (503); "
             "closed: {} header timeouts, {} idle, {} write timeouts, {} evicted at a limit, {} refused\n",
             st.connections.load(), st.requests.load(), st.scrapes.load(), st.probes.load(), st.not_found.load(),
             st.not_allowed.load(), st.forbidden.load(),
             st.bad.load(), st.busy.load(), st.header_timeouts.load(), st.idle_closed.load(), st.write_timeouts.load(),
             st.evicted.load(), st.refused.load());
  return 0;
}

}  // namespace

command_runner add_exporter_command(CLI::App& app) {
  auto args = std::make_shared<exporter_args>();
  CLI::App* cmd = app.add_subcommand("exporter", "Prometheus metrics of TCP connection establishment (node_exporter-compatible netstat)");
  cmd->add_option("--listen", args->listen, "ADDR:PORT to serve /metrics on")->capture_default_str();
  cmd->add_option("--netns", args->netns,
                  "Export this network namespace (ip netns add NAME); the HTTP listener stays where synscope started");
  cmd->add_flag("--listen-in-netns", args->listen_in_netns, "With --netns: listen inside that namespace instead")
      ->needs(cmd->get_option("--netns"));
  cmd->add_option("--proc-root", args->proc_root,
                  "Read counters and sysctls from this /proc-like tree (/proc/PID: another process's namespace)")
      ->capture_default_str();
  cmd->add_option("--netstat-fields", args->netstat_fields,
                  "Regex of Table_Field names exported as node_netstat_* (node_exporter's --collector.netstat.fields; "
                  "the default is node_exporter's plus the handshake counters)");
  cmd->add_option("--probe", args->probes, "HOST:PORT to handshake with every --probe-interval; repeatable");
  cmd->add_option("--probe-config", args->probe_config,
                  "Serve /probe?target=HOST:PORT&module=NAME (blackbox_exporter's multi-target pattern) with the "
                  "modules and allowed_targets of this YAML file (docs/exporter.md)");
  cmd->add_option("--probe-concurrency", args->probe_concurrency,
                  "/probe handshakes at once (each on a worker); up to 4x as many wait, 503 beyond")
      ->capture_default_str();
  cmd->add_option("--probe-timeout", args->probe_timeout, "Give up on a probe handshake after this long")->capture_default_str();
  cmd->add_option("--probe-interval", args->probe_interval,
                  "How often the probes run, on their own thread (a scrape serves the latest results and their age)")
      ->capture_default_str();
  cmd->add_option("--listener", args->listeners,
                  "A listener always exported (PORT or ADDR:PORT, as 443, 127.0.0.1:8080, [::]:22); repeatable");
  cmd->add_option("--listeners-max", args->listeners_max,
                  "Per-listener series for at most this many listeners, the fullest accept queues first (--listener ones "
                  "always); the rest are counted in synscope_tcp_listeners_not_shown")
      ->capture_default_str();
  cmd->add_option("--connection-limit", args->connection_limit,
                  "HTTP connections at once (at the limit, the oldest one still waiting for its request is closed)")
      ->capture_default_str();
  cmd->add_option("--per-ip-limit", args->per_ip_limit, "HTTP connections at once from one address (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-requests", args->max_requests,
                  "Answers being sent at once; 503 beyond (node_exporter's --web.max-requests; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--header-timeout", args->header_timeout,
                  "A whole request head must arrive within this, however slowly it trickles")
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout, "Close keep-alive connections idle this long")->capture_default_str();
  cmd->add_option("--duration", args->duration, "Stop by itself after this long (default: until SIGTERM)");
#ifdef SYNSCOPE_HAVE_TRACE
  cmd->add_flag("--trace", args->trace,
                "Also trace every handshake (eBPF; CAP_BPF and CAP_PERFMON): per-listener SYN>SYN-ACK, SYN-ACK>ACK and "
                "accept-queue wait histograms, drops by reason");
#endif
  cmd->footer(
      "Examples:\n"
      "  synscope exporter                                      # http://127.0.0.1:9851/metrics\n"
      "  synscope exporter --listen 0.0.0.0:9851 --probe db1:5432 --probe 127.0.0.1:443\n"
      "  curl -s 127.0.0.1:9851/metrics | grep synscope_tcp_sockets\n"
      "  synscope exporter --probe-config /etc/synscope/probe.yml     # then:\n"
      "  curl -s '127.0.0.1:9851/probe?target=127.0.0.1:22&module=tcp_connect'\n"
      "The series, the alert rules and the dashboard: docs/exporter.md and deploy/.\n"
      "Exit codes: 0 ok, 2 bad arguments or --probe-config, 3 cannot listen, 4 --probe-config not root's or writable "
      "by others.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
