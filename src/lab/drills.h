#pragma once
// The lab's drills: each scenario builds a testbed of its own (fresh namespaces, so no
// scenario inherits another's sockets or counters), sets what the scenario is about, runs the
// server and the traffic, measures from both sides and from the kernel's counters, and tears
// the testbed down. Every traffic loop is bounded in count and time.
//
//   lab::synflood_options o;  o.duration_ns = 3'000'000'000;  o.scenarios = {"off", "on"};
//   auto r = lab::run_synflood(o, stop, progress);
//   for (const auto& s : r->scenarios) ... s.load.succeeded ...
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "active/load.h"
#include "core/error.h"

namespace synscope::lab {

struct scenario_result {
  std::string key;   ///< short name, as --scenarios takes it ("off")
  std::string name;  ///< what it is ("SYN cookies off")
  std::vector<std::pair<std::string, std::string>> settings;  ///< what it set, to repeat it
  active::load_report load;  ///< the measured client: the legitimate one, or the workload
  std::map<std::string, int64_t> server_counters;  ///< deltas in the server namespace (nstat names without TcpExt)
  std::map<std::string, int64_t> client_counters;  ///< deltas in the client namespace
  uint64_t half_open_peak = 0;  ///< synflood: SYN-RECV request sockets at the server, peak of 10 samples/s
  uint64_t time_wait_peak = 0;  ///< timewait: TIME-WAIT sockets at the client, peak of 10 samples/s
  uint64_t flood_sent = 0;      ///< synflood: spoofed SYNs sent
  uint64_t accepted = 0;        ///< backlog: connections the slow server accepted
};

struct drill_report {
  std::string drill;
  std::vector<std::pair<std::string, std::string>> parameters;  ///< the options, as command-line values
  std::vector<scenario_result> scenarios;
  bool interrupted = false;  ///< stopped early (Ctrl-C): the scenarios done are there
};

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
  int rtt_ms = 50;                        ///< emulated round trip (netem, half on each end)
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
core::result<drill_report> run_synflood(const synflood_options& o, const std::atomic<bool>& stop, const drill_progress& p);
core::result<drill_report> run_timewait(const timewait_options& o, const std::atomic<bool>& stop, const drill_progress& p);
core::result<drill_report> run_backlog(const backlog_options& o, const std::atomic<bool>& stop, const drill_progress& p);
core::result<drill_report> run_fastopen(const fastopen_options& o, const std::atomic<bool>& stop, const drill_progress& p);

}  // namespace synscope::lab
