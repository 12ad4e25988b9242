#pragma once
// What a scrape of `synscope exporter` reads, fresh each time: the kernel's counters in
// node_exporter's names (node_netstat_*), sockets per state and family, listener queues (a
// bounded number of them), selected sysctls, and how each collector did (node_exporter's
// node_scrape_collector_* in synscope_ names); and the latest results of the handshake probes,
// which run on their own thread (exporter/probes.h).
//
//   exporter::collectors c(options);
//   std::string body = c.scrape(exporter::format::prometheus);
#include <cstdint>
#include <functional>
#include <mutex>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "core/endpoint.h"
#include "exporter/exposition.h"
#include "exporter/probes.h"
#include "trace/live.h"

namespace synscope::exporter {

/// node_exporter 1.5's default --collector.netstat.fields.
inline constexpr const char* node_exporter_netstat_fields =
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|"
    "Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|"
    "CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";


/// synscope's default: node_exporter's fields plus the handshake counters the seed's queries
/// and deploy/prometheus/alerts.yml use (Tcp_AttemptFails, which node_exporter leaves out, ...).
inline constexpr const char* default_netstat_fields =
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|"
    "Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPReqQFull.*|TW|TWRecycled|TWKilled|TCPTimeWaitOverflow|TCPFastOpen.*)|"
    "Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab|AttemptFails|EstabResets)|"
    "Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

struct collector_options {
  std::string netstat_fields = default_netstat_fields;
  std::vector<probe_target> probes;
  int64_t probe_timeout_ns = 1'000'000'000;
  int64_t probe_interval_ns = 15'000'000'000;  ///< probes run on their own schedule, not per scrape
  std::string proc_root = "/proc";
  /// Per-listener series: every listener named here ("443", "127.0.0.1:8080", "[::]:22"), then
  /// the fullest accept queues up to listeners_max in all; the rest are counted, not shown, so
  /// that a user who opens 10,000 listening sockets cannot flood Prometheus.
  std::vector<std::string> listeners;
  size_t listeners_max = 100;
  /// With --trace: reads the running trace's figures (trace::background::read); empty: no
  /// trace collector. The caller keeps the trace running while the collectors live.
  std::function<void(const trace::view_fn&)> trace;
};

/// A usage error naming the option when `o` cannot run: netstat_fields not a regular expression,
/// a listener neither a port nor ADDR:PORT, a probe interval shorter than its timeout.
core::result<void> check_options(const collector_options& o);

class collectors {
 public:
  /// `options` must pass check_options (a bad netstat_fields expression throws std::regex_error).
  explicit collectors(collector_options options);
  /// Starts the probes' schedule (call it once the exporter listens: a target may be itself).
  void start_probes() { probes_.start(); }
  /// Runs every collector and renders the exposition. Safe to call from several threads.
  std::string scrape(format f);

 private:
  bool collect_netstat(exposition& out);
  bool collect_sockets(exposition& out);
  bool collect_sysctls(exposition& out);
  bool collect_probes(exposition& out);
  bool collect_trace(exposition& out);

  collector_options options_;
  std::regex fields_;
  std::mutex fields_mutex_;
  std::unordered_map<std::string, bool> field_chosen_;  // the regex's verdict per Table_Field, kept:
                                                        // std::regex costs more than reading the files
  probe_scheduler probes_;
};

}  // namespace synscope::exporter
