#pragma once
// The lab's drills: each scenario builds a testbed of its own (fresh namespaces, so no
// scenario inherits another's sockets or counters), sets what the scenario is about, runs the
// server and the traffic, measures from both sides and from the kernel's counters, and tears
// the testbed down. Every traffic loop is bounded in count and time.
//
//   lab::synflood_options o;  o.duration_ns = 3'000'000'000;  o.scenarios = {"off", "on"};
//   auto r = lab::run_synflood(o, stop, progress);
//   for (const auto& s : r->scenarios) ... s.load.succeeded ... s.half_open_peak ...
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "active/load.h"
#include "core/error.h"

namespace synscope::lab {

/// What every scenario of every drill measures.
struct scenario_result {
  std::string key;   ///< short name, as --scenarios takes it ("off")
  std::string name;  ///< what it is ("SYN cookies off")
  std::vector<std::pair<std::string, std::string>> settings;  ///< what it set, to repeat it
  active::load_report load;  ///< the measured client: the legitimate one, or the workload
  std::map<std::string, int64_t> server_counters;  ///< deltas in the server namespace (nstat names without TcpExt)
  std::map<std::string, int64_t> client_counters;  ///< deltas in the client namespace
};

/// Each drill's scenario: the common figures and what only that drill measures.
struct synflood_scenario : scenario_result {
  uint64_t half_open_peak = 0;  ///< SYN-RECV request sockets at the server, peak of 10 samples/s
  uint64_t flood_sent = 0;      ///< spoofed SYNs sent
};
struct timewait_scenario : scenario_result {
  uint64_t time_wait_peak = 0;  ///< TIME-WAIT sockets at the client, peak of 10 samples/s
};
struct backlog_scenario : scenario_result {
  uint64_t accepted = 0;        ///< connections the slow server accepted
};
struct fastopen_scenario : scenario_result {};

/// One drill's run: the options as command-line values, and the scenarios that finished.
template <typename Scenario>
struct drill_run {
  std::vector<std::pair<std::string, std::string>> parameters;
  std::vector<Scenario> scenarios;
  bool interrupted = false;  ///< stopped early (Ctrl-C): the scenarios done are there
};
struct synflood_report : drill_run<synflood_scenario> {
  static constexpr const char* drill = "synflood";
};
struct timewait_report : drill_run<timewait_scenario> {
  static constexpr const char* drill = "timewait";
};
struct backlog_report : drill_run<backlog_scenario> {
  static constexpr const char* drill = "backlog";
};
struct fastopen_report : drill_run<fastopen_scenario> {
  static constexpr const char* drill = "fastopen";
  int rtt_ms = 0;  ///< the emulated round trip
  /// What TFO saved at the median (without minus with), when both scenarios ran.
  [[nodiscard]] std::optional<double> saved_ms() const;
};

/// Any drill's report; a renderer visits it, so a drill it forgets does not compile.
using drill_report = std::variant<synflood_report, timewait_report, backlog_report, fastopen_report>;

/// Called before each scenario: its index (from 0), how many, and its name.
using drill_progress = std::function<void(size_t index, size_t total, const std::string& name)>;

struct synflood_options {
  double flood_rate = 2000;               ///< spoofed SYNs per second
  int64_t duration_ns = 5'000'000'000;    ///< the legitimate client's run (the flood starts 0.5 s before)
  double probe_rate = 20;                 ///< legitimate handshakes per second
  int64_t probe_timeout_ns = 3'000'000'000;
  int backlog = 128;                      ///< listen() backlog = tcp_max_syn_backlog = somaxconn
  std::vector<std::string> scenarios;     ///< keys; empty: all
};
struct timewait_options {
  int ports = 500;                        ///< the client's ip_local_port_range width
  double rate = 200;                      ///< connections per second
  int64_t duration_ns = 4'000'000'000;
  int sources = 4;                        ///< client addresses in the "sources" scenario
  std::vector<std::string> scenarios;
};
struct backlog_options {
  uint64_t connections = 300;
  int concurrency = 100;
  double accept_rate = 200;               ///< the slow server's accept() calls per second
  int small = 8;                          ///< the small backlog
  int large = 1024;                       ///< the large one (and what somaxconn caps in "capped")
  std::vector<std::string> scenarios;
};
struct fastopen_options {
  int rtt_ms = 50;                        ///< emulated round trip (the testbed's delay line, half each way)
  uint64_t requests = 20;
  std::vector<std::string> scenarios;
};

/// The scenario keys of each drill, in the order they run.
std::vector<std::string> synflood_scenarios();
std::vector<std::string> timewait_scenarios();
std::vector<std::string> backlog_scenarios();
std::vector<std::string> fastopen_scenarios();

/// Each needs root. Errors: an unknown scenario key (2), not root (77), the system refusing
/// (3). Interrupted by `stop`: what was done, with `interrupted` set.
/// The options are checked first (ranges in docs/lab.md; a usage error names the option).
core::result<synflood_report> run_synflood(const synflood_options& o, const std::atomic<bool>& stop, const drill_progress& p);
core::result<timewait_report> run_timewait(const timewait_options& o, const std::atomic<bool>& stop, const drill_progress& p);
core::result<backlog_report> run_backlog(const backlog_options& o, const std::atomic<bool>& stop, const drill_progress& p);
core::result<fastopen_report> run_fastopen(const fastopen_options& o, const std::atomic<bool>& stop, const drill_progress& p);

}  // namespace synscope::lab
