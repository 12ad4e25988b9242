#include "lab/drills.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "active/listener.h"
#include "active/server.h"
#include "core/clock.h"
#include "core/unique_fd.h"
#include "kernel/counters.h"
#include "kernel/netns.h"
#include "kernel/sockets.h"
#include "lab/flood.h"
#include "lab/testbed.h"
#include "tune/firewall.h"

namespace synscope::lab {
namespace {

constexpr uint16_t service_port = 8080;
constexpr int64_t ms = 1'000'000;

const std::vector<const char*> server_counter_names = {
    "TcpExtListenOverflows", "TcpExtListenDrops",       "TcpExtSyncookiesSent",      "TcpExtSyncookiesRecv",
    "TcpExtTCPReqQFullDrop", "TcpExtTCPReqQFullDoCookies", "TcpExtTCPFastOpenPassive"};
const std::vector<const char*> client_counter_names = {"TcpExtTCPSynRetrans", "TcpExtTWRecycled",
                                                       "TcpExtTCPFastOpenActive"};

// What every drill's scenario spec starts with.
struct scenario_spec {
  std::string key;   ///< what --scenarios takes
  std::string name;  ///< what the table's column says
};

// The scenarios asked for, in the drill's order; an unknown key is a usage error. Each drill's
// spec is data: its key, its name, and what the scenario changes.
template <typename Spec>
core::result<std::vector<Spec>> choose(const std::vector<Spec>& all, const std::vector<std::string>& keys,
                                       const char* drill) {
  if (keys.empty()) return all;
  std::vector<Spec> out;
  for (const auto& k : keys) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Spec& s) { return s.key == k; });
    if (it == all.end()) {
      std::string known;
      for (const auto& s : all) known += (known.empty() ? "" : ", ") + s.key;
      return core::error{core::exit_code::usage, fmt::format("--scenarios: '{}' is not a {} scenario ({})", k, drill, known)};
    }
  }
  for (const auto& s : all) {
    if (std::find(keys.begin(), keys.end(), s.key) != keys.end()) out.push_back(s);
  }
  return out;
}

template <typename Spec>
std::vector<std::string> keys_of(const std::vector<Spec>& all) {
  std::vector<std::string> out;
  for (const auto& s : all) out.push_back(s.key);
  return out;
}

// Counter values seen from inside `ns`.
std::map<std::string, int64_t> read_in(const testbed& tb, const std::string& ns, const std::vector<const char*>& names) {
  std::map<std::string, int64_t> out;
  (void)tb.in(ns, [&] {
    auto all = kernel::read_counters("/proc/thread-self");
    if (!all) return;
    for (const char* name : names) {
      if (auto v = kernel::find_counter(*all, name)) out[std::string(name).substr(6)] = *v;  // without "TcpExt"
    }
  });
  return out;
}

std::map<std::string, int64_t> minus(std::map<std::string, int64_t> after, const std::map<std::string, int64_t>& before) {
  for (auto& [k, v] : after) {
    auto it = before.find(k);
    if (it != before.end()) v -= it->second;
  }
  return after;
}

// The kernel's counters on both sides from construction to finish(), as deltas into `s`.
class counter_window {
 public:
  explicit counter_window(const testbed& t)
      : t_(t),
        server_(read_in(t, t.server(), server_counter_names)),
        client_(read_in(t, t.client(), client_counter_names)) {}
  void finish(scenario_result& s) const {
    s.server_counters = minus(read_in(t_, t_.server(), server_counter_names), server_);
    s.client_counters = minus(read_in(t_, t_.client(), client_counter_names), client_);
  }

 private:
  const testbed& t_;
  std::map<std::string, int64_t> server_;
  std::map<std::string, int64_t> client_;
};

// Counts sockets in `states` inside `ns` ten times a second until stopped; keeps the peak.
class peak_sampler {
 public:
  peak_sampler(const std::string& ns, uint32_t states) {
    thread_ = std::thread([this, ns, states] {
      if (!kernel::enter_netns(ns)) return;
      kernel::socket_query q;
      q.states = states;
      while (!done_.load()) {
        uint64_t n = 0;
        (void)kernel::dump_tcp(q, [&](const kernel::tcp_socket&) { ++n; });
        peak_ = std::max(peak_.load(), n);
        for (int i = 0; i < 10 && !done_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    });
  }
  ~peak_sampler() { stop(); }
  peak_sampler(const peak_sampler&) = delete;
  peak_sampler& operator=(const peak_sampler&) = delete;
  uint64_t stop() {
    done_.store(true);
    if (thread_.joinable()) thread_.join();
    return peak_.load();
  }

 private:
  std::atomic<bool> done_{false};
  std::atomic<uint64_t> peak_{0};
  std::thread thread_;
};

// Sleeps up to `ns` nanoseconds, waking early when `stop` is set.
void nap(int64_t ns, const std::atomic<bool>& stop) {
  int64_t end = core::monotonic_ns() + ns;
  while (!stop.load() && core::monotonic_ns() < end) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Applies sysctls (namespace, key, value) and records them as the scenario's settings.
core::result<void> apply(const testbed& tb, scenario_result& s,
                         const std::vector<std::tuple<std::string, std::string, std::string>>& sysctls) {
  for (const auto& [ns, key, value] : sysctls) {
    if (auto r = tb.sysctl(ns, key, value); !r) return r.error();
    s.settings.emplace_back(fmt::format("{} ({})", key, ns == tb.server() ? "server" : "client"), value);
  }
  return {};
}

// Starts `synscope serve`'s engine inside the server namespace.
core::result<std::unique_ptr<active::server>> serve_in(const testbed& tb, active::server_options o) {
  core::result<std::unique_ptr<active::server>> out = core::error{core::exit_code::environment, "lab: server not started"};
  auto r = tb.in(tb.server(), [&] { out = active::server::start(o); });
  if (!r) return r.error();
  return out;
}

core::result<active::load_report> load_in(const testbed& tb, const active::load_options& o, const std::atomic<bool>& stop) {
  core::result<active::load_report> out = core::error{core::exit_code::environment, "lab: load not run"};
  auto r = tb.in(tb.client(), [&] { out = active::run_load(o, stop, {}); });
  if (!r) return r.error();
  return out;
}

// Runs `one` for each chosen scenario, in order, until done or stopped: progress first, then
// the scenario with its key and name filled in. An error ends the drill; otherwise the report
// comes back with its scenarios.
template <typename Spec, typename Report, typename F>
core::result<Report> each_scenario(const std::vector<Spec>& chosen, const std::atomic<bool>& stop,
                                   const drill_progress& p, Report report, F&& one) {
  for (size_t i = 0; i < chosen.size() && !stop.load(); ++i) {
    if (p) p(i, chosen.size(), chosen[i].name);
    typename decltype(report.scenarios)::value_type s;
    s.key = chosen[i].key;
    s.name = chosen[i].name;
    if (auto r = one(chosen[i], s); !r) return r.error();
    report.scenarios.push_back(std::move(s));
  }
  report.interrupted = stop.load();
  return report;
}

std::string seconds(int64_t ns) { return fmt::format("{:g}s", static_cast<double>(ns) / 1e9); }

}  // namespace

// --- synflood -------------------------------------------------------------------------------

namespace {
struct synflood_spec : scenario_spec {
  bool syncookies = false;
  int backlog = 0;          ///< 0: the --backlog option's
  int synack_retries = -1;  ///< -1: the kernel's default
  bool firewall = false;    ///< tune's SYN rate limit in front of the server
};
const std::vector<synflood_spec> synflood_all = {
    {{"off", "SYN cookies off"}},
    {{"on", "SYN cookies on"}, true},
    {{"large-backlog", "cookies off, backlog 4096"}, false, 4096},
    {{"synack-1", "cookies off, tcp_synack_retries 1"}, false, 0, 1},
    {{"firewall", "cookies off, SYN limit 10/s (tune firewall)"}, false, 0, -1, true},
};
}  // namespace

std::vector<std::string> synflood_scenarios() { return keys_of(synflood_all); }

core::result<synflood_report> run_synflood(const synflood_options& o, const std::atomic<bool>& stop, const drill_progress& p) {
  auto chosen = choose(synflood_all, o.scenarios, "synflood");
  if (!chosen) return chosen.error();
  if (o.duration_ns <= 0 || o.duration_ns > 600 * 1000 * ms || !(o.flood_rate > 0) || o.flood_rate > 1e6 ||
      !(o.probe_rate > 0) || o.probe_rate > 10'000 || o.probe_timeout_ns <= 0) {
    return core::error{core::exit_code::usage,
                       "synflood: --duration up to 10m, --flood-rate up to 1000000/s, --probe-rate up to 10000/s"};
  }
  synflood_report report;
  report.parameters = {{"--flood-rate", fmt::format("{:g}", o.flood_rate)},
                       {"--duration", seconds(o.duration_ns)},
                       {"--probe-rate", fmt::format("{:g}", o.probe_rate)},
                       {"--probe-timeout", seconds(o.probe_timeout_ns)},
                       {"--backlog", std::to_string(o.backlog)}};
  return each_scenario(*chosen, stop, p, std::move(report), [&](const synflood_spec& spec, synflood_scenario& s) -> core::result<void> {
    auto tb = testbed::create({});
    if (!tb) return tb.error();
    const testbed& t = **tb;
    int backlog = spec.backlog > 0 ? spec.backlog : o.backlog;
    std::string b = std::to_string(backlog);
    std::vector<std::tuple<std::string, std::string, std::string>> sysctls = {
        {t.server(), "net.ipv4.tcp_syncookies", spec.syncookies ? "1" : "0"},
        {t.server(), "net.ipv4.tcp_max_syn_backlog", b},
        {t.server(), "net.core.somaxconn", b}};
    if (spec.synack_retries >= 0) {
      sysctls.emplace_back(t.server(), "net.ipv4.tcp_synack_retries", std::to_string(spec.synack_retries));
    }
    if (auto r = apply(t, s, sysctls); !r) return r.error();
    s.settings.emplace_back("listen backlog", b);
    if (spec.firewall) {
      tune::syn_limit limit{10, 20, service_port};
      core::result<void> fw;
      auto r = t.in(t.server(), [&] { fw = tune::firewall_apply(limit, tune::firewall_format::nft); });
      if (!r) return r.error();
      if (!fw) return fw.error();
      s.settings.emplace_back("nft (server)", "tcp dport 8080 SYN limit 10/s burst 20, the rest dropped");
    }
    active::server_options so;
    so.listen = {ipv4_address(server_ip, service_port)};
    so.mode = active::serve_mode::discard;
    so.backlog = backlog;
    auto srv = serve_in(t, so);
    if (!srv) return srv.error();
    counter_window counters(t);
    peak_sampler half_open(t.server(), kernel::state_bit(kernel::tcp_state::syn_recv));

    std::atomic<bool> flood_stop{false};
    core::result<flood_report> flooded = flood_report{};
    std::thread flooder([&] {
      if (auto e = kernel::enter_netns(t.client()); !e) {
        flooded = e.error();
        return;
      }
      flood_options f;
      f.target = server_ip;
      f.port = service_port;
      f.rate = o.flood_rate;
      f.duration_ns = 500 * ms + o.duration_ns + o.probe_timeout_ns + 500 * ms;  // bounded even if not stopped
      flooded = syn_flood(f, flood_stop);
    });
    nap(500 * ms, stop);  // the SYN queue fills first
    active::load_options lo;
    lo.target = ipv4_address(server_ip, service_port);
    lo.mode = active::load_mode::connect;
    lo.rate = o.probe_rate;
    lo.duration_ns = o.duration_ns;
    lo.timeout_ns = o.probe_timeout_ns;
    lo.concurrency = std::max(4, static_cast<int>(o.probe_rate * static_cast<double>(o.probe_timeout_ns) / 1e9) + 4);
    auto legit = load_in(t, lo, stop);
    flood_stop.store(true);
    flooder.join();
    s.half_open_peak = half_open.stop();
    counters.finish(s);
    (*srv)->stop(0);
    if (!flooded) return flooded.error();
    if (!legit) return legit.error();
    s.flood_sent = flooded->sent;
    s.load = std::move(*legit);
    return {};
  });
}

// --- timewait -------------------------------------------------------------------------------

namespace {
struct timewait_spec : scenario_spec {
  bool tw_reuse = false;
  bool more_sources = false;  ///< --sources client addresses
  bool pooled = false;        ///< four connections carrying requests one after another
};
const std::vector<timewait_spec> timewait_all = {
    {{"baseline", "one source, tcp_tw_reuse=0"}},
    {{"reuse", "tcp_tw_reuse=1"}, true},
    {{"sources", "more source addresses"}, false, true},
    {{"pooled", "pooled connections"}, false, false, true},
};
}  // namespace

std::vector<std::string> timewait_scenarios() { return keys_of(timewait_all); }

core::result<timewait_report> run_timewait(const timewait_options& o, const std::atomic<bool>& stop, const drill_progress& p) {
  auto chosen = choose(timewait_all, o.scenarios, "timewait");
  if (!chosen) return chosen.error();
  if (o.ports < 8 || o.ports > 28000) return core::error{core::exit_code::usage, "--ports: 8 to 28000"};
  if (o.duration_ns <= 0 || o.duration_ns > 600 * 1000 * ms || !(o.rate > 0) || o.rate > 100'000) {
    return core::error{core::exit_code::usage, "timewait: --duration up to 10m, --rate up to 100000/s"};
  }
  timewait_report report;
  report.parameters = {{"--ports", std::to_string(o.ports)},
                       {"--rate", fmt::format("{:g}", o.rate)},
                       {"--duration", seconds(o.duration_ns)},
                       {"--sources", std::to_string(o.sources)}};
  return each_scenario(*chosen, stop, p, std::move(report), [&](const timewait_spec& spec, timewait_scenario& s) -> core::result<void> {
    auto tb = testbed::create({});
    if (!tb) return tb.error();
    testbed& t = **tb;
    std::string range = fmt::format("40000 {}", 40000 + o.ports - 1);
    if (auto r = apply(t, s,
                       {{t.client(), "net.ipv4.ip_local_port_range", range},
                        {t.client(), "net.ipv4.tcp_tw_reuse", spec.tw_reuse ? "1" : "0"}});
        !r) {
      return r.error();
    }
    active::load_options lo;
    lo.target = ipv4_address(server_ip, service_port);
    lo.mode = active::load_mode::connect;
    lo.rate = o.rate;
    lo.duration_ns = o.duration_ns;
    lo.timeout_ns = 2'000 * ms;
    lo.concurrency = 64;
    if (spec.more_sources) {
      auto extra = t.add_client_addresses(std::max(0, o.sources - 1));
      if (!extra) return extra.error();
      lo.sources.push_back(ipv4_address(client_ip, 0));
      lo.sources.insert(lo.sources.end(), extra->begin(), extra->end());
      s.settings.emplace_back("source addresses", std::to_string(lo.sources.size()));
    }
    if (spec.pooled) {
      lo.mode = active::load_mode::pooled;
      lo.concurrency = 4;
      lo.data = "x\n";
      s.settings.emplace_back("connections", "4, each carrying requests one after another");
    }
    active::server_options so;
    so.listen = {ipv4_address(server_ip, service_port)};
    so.mode = active::serve_mode::echo;
    auto srv = serve_in(t, so);
    if (!srv) return srv.error();
    counter_window counters(t);
    peak_sampler tw(t.client(), kernel::state_bit(kernel::tcp_state::time_wait));
    auto load = load_in(t, lo, stop);
    s.time_wait_peak = tw.stop();
    counters.finish(s);
    (*srv)->stop(0);
    if (!load) return load.error();
    s.load = std::move(*load);
    return {};
  });
}

// --- backlog --------------------------------------------------------------------------------

namespace {
struct backlog_spec : scenario_spec {
  bool small_backlog = false;  ///< --small as the listen() backlog, else --large
  bool capped = false;         ///< somaxconn set to --small
};
const std::vector<backlog_spec> backlog_all = {
    {{"small", "small backlog"}, true},
    {{"large", "large backlog"}},
    {{"capped", "large backlog, somaxconn small"}, false, true},
};

// A server that accepts `rate` connections a second and closes each at once, until stopped.
struct slow_server {
  core::unique_fd listener;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> accepted{0};
  std::thread thread;

  core::result<void> start(const testbed& t, int backlog, double rate) {
    core::result<void> made;
    auto r = t.in(t.server(), [&] {
      active::listen_options lo;
      lo.backlog = backlog;
      auto fd = active::make_listener(ipv4_address(server_ip, service_port), lo, "lab backlog");
      if (fd) {
        listener = std::move(*fd);
      } else {
        made = fd.error();
      }
    });
    if (!r) return r.error();
    if (!made) return made;
    auto interval = static_cast<int64_t>(1e9 / rate);
    thread = std::thread([this, interval] {
      while (!done.load()) {
        int fd = accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          close(fd);
          ++accepted;
        }
        std::this_thread::sleep_for(std::chrono::nanoseconds(interval));
      }
    });
    return {};
  }
  ~slow_server() {
    done.store(true);
    if (thread.joinable()) thread.join();
  }
};
}  // namespace

std::vector<std::string> backlog_scenarios() { return keys_of(backlog_all); }

core::result<backlog_report> run_backlog(const backlog_options& o, const std::atomic<bool>& stop, const drill_progress& p) {
  auto chosen = choose(backlog_all, o.scenarios, "backlog");
  if (!chosen) return chosen.error();
  if (!(o.accept_rate > 0) || o.small < 1 || o.large < 1) {
    return core::error{core::exit_code::usage, "--accept-rate, --small and --large: positive"};
  }
  if (o.connections == 0 || o.connections > 100'000) return core::error{core::exit_code::usage, "backlog: -n 1 to 100000"};
  backlog_report report;
  report.parameters = {{"--connections", std::to_string(o.connections)},
                       {"--concurrency", std::to_string(o.concurrency)},
                       {"--accept-rate", fmt::format("{:g}", o.accept_rate)},
                       {"--small", std::to_string(o.small)},
                       {"--large", std::to_string(o.large)}};
  return each_scenario(*chosen, stop, p, std::move(report), [&](const backlog_spec& spec, backlog_scenario& s) -> core::result<void> {
    auto tb = testbed::create({});
    if (!tb) return tb.error();
    const testbed& t = **tb;
    int backlog = spec.small_backlog ? o.small : o.large;
    int somaxconn = spec.capped ? o.small : std::max(4096, o.large);
    if (auto r = apply(t, s,
                       {{t.server(), "net.core.somaxconn", std::to_string(somaxconn)},
                        {t.server(), "net.ipv4.tcp_max_syn_backlog", "4096"}});
        !r) {
      return r.error();
    }
    s.settings.emplace_back("listen backlog", std::to_string(backlog));
    s.settings.emplace_back("accepts per second", fmt::format("{:g}", o.accept_rate));
    slow_server srv;
    if (auto r = srv.start(t, backlog, o.accept_rate); !r) return r.error();
    counter_window counters(t);
    active::load_options lo;
    lo.target = ipv4_address(server_ip, service_port);
    lo.mode = active::load_mode::connect;
    lo.count = o.connections;
    lo.concurrency = o.concurrency;
    lo.timeout_ns = 10'000 * ms;  // SYNs retransmitted at 1, 3 and 7 s still count
    auto load = load_in(t, lo, stop);
    counters.finish(s);
    s.accepted = srv.accepted.load();
    if (!load) return load.error();
    s.load = std::move(*load);
    return {};
  });
}

// --- fastopen -------------------------------------------------------------------------------

namespace {
struct fastopen_spec : scenario_spec {
  bool fastopen = false;
};
const std::vector<fastopen_spec> fastopen_all = {
    {{"without", "without TFO"}},
    {{"with", "with TFO (cookie cached)"}, true},
};
}  // namespace

std::vector<std::string> fastopen_scenarios() { return keys_of(fastopen_all); }

core::result<fastopen_report> run_fastopen(const fastopen_options& o, const std::atomic<bool>& stop, const drill_progress& p) {
  auto chosen = choose(fastopen_all, o.scenarios, "fastopen");
  if (!chosen) return chosen.error();
  if (o.rtt_ms < 2 || o.rtt_ms > 2000 || o.rtt_ms % 2 != 0) {
    return core::error{core::exit_code::usage, "--rtt: an even number of milliseconds, 2 to 2000"};
  }
  if (o.requests == 0 || o.requests > 10'000) return core::error{core::exit_code::usage, "fastopen: -n 1 to 10000"};
  fastopen_report report;
  report.rtt_ms = o.rtt_ms;
  report.parameters = {{"--rtt", fmt::format("{}ms", o.rtt_ms)}, {"--requests", std::to_string(o.requests)}};
  return each_scenario(*chosen, stop, p, std::move(report), [&](const fastopen_spec& spec, fastopen_scenario& s) -> core::result<void> {
    auto tb = testbed::create({o.rtt_ms / 2});
    if (!tb) return tb.error();
    const testbed& t = **tb;
    if (auto r = apply(t, s,
                       {{t.server(), "net.ipv4.tcp_fastopen", "3"}, {t.client(), "net.ipv4.tcp_fastopen", "3"}});
        !r) {
      return r.error();
    }
    s.settings.emplace_back("delay line (each way)", fmt::format("{}ms", o.rtt_ms / 2));
    active::server_options so;
    so.listen = {ipv4_address(server_ip, service_port)};
    so.mode = active::serve_mode::ack;
    so.fastopen_qlen = 64;
    auto srv = serve_in(t, so);
    if (!srv) return srv.error();
    active::load_options lo;
    lo.target = ipv4_address(server_ip, service_port);
    lo.mode = active::load_mode::request;
    lo.concurrency = 1;
    lo.timeout_ns = 5'000 * ms + 4 * o.rtt_ms * ms;
    lo.fastopen = spec.fastopen;
    if (lo.fastopen) {
      lo.count = 2;  // the first connection fetches the server's cookie; the client caches it
      auto warm = load_in(t, lo, stop);
      if (!warm) return warm.error();
      s.settings.emplace_back("warm-up", "2 requests to cache the TFO cookie");
    }
    counter_window counters(t);
    lo.count = o.requests;
    auto load = load_in(t, lo, stop);
    counters.finish(s);
    (*srv)->stop(0);
    if (!load) return load.error();
    s.load = std::move(*load);
    return {};
  });
}

std::optional<double> fastopen_report::saved_ms() const {
  const core::histogram* without = nullptr;
  const core::histogram* with = nullptr;
  for (const auto& s : scenarios) {
    if (s.key == "without") without = &s.load.request;
    if (s.key == "with") with = &s.load.request;
  }
  if (without == nullptr || with == nullptr || without->count() == 0 || with->count() == 0) return std::nullopt;
  return static_cast<double>(without->percentile(50) - with->percentile(50)) / 1e6;
}

}  // namespace synscope::lab
