#pragma once
// What a scrape of `synscope exporter` reads, fresh each time: the kernel's counters in
// node_exporter's names (node_netstat_*), sockets per state and family, listener queues,
// selected sysctls, optional handshake probes of configured targets, and how each collector
// did (node_exporter's node_scrape_collector_* in synscope_ names).
//
//   exporter::collectors c(options);
//   std::string body = c.scrape(exporter::format::prometheus);
#include <cstdint>
#include <mutex>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/endpoint.h"
#include "exporter/exposition.h"

namespace synscope::exporter {

/// node_exporter 1.5's default --collector.netstat.fields.
inline constexpr const char* node_exporter_netstat_fields =
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|"
    "Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|"
    "CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

struct probe_target {
  std::string name;  ///< as configured ("db1:5432"): the target label
  core::socket_address address;
};

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
  std::string proc_root = "/proc";
};

/// The handshake-time histogram's bucket bounds, in seconds.
const std::vector<double>& probe_buckets();

class collectors {
 public:
  /// Throws std::regex_error on a bad netstat_fields expression (checked by the CLI first).
  explicit collectors(collector_options options);
  /// Runs every collector and renders the exposition. Safe to call from several threads.
  std::string scrape(format f);

 private:
  struct probe_state {
    std::vector<uint64_t> buckets;  // cumulative counts per bound, as Prometheus wants them
    uint64_t count = 0;
    double sum_seconds = 0;
    bool last_ok = false;
    double last_seconds = 0;
  };
  bool collect_netstat(exposition& out);
  bool collect_sockets(exposition& out);
  bool collect_sysctls(exposition& out);
  bool collect_probes(exposition& out);

  collector_options options_;
  std::regex fields_;
  std::mutex fields_mutex_;
  std::unordered_map<std::string, bool> field_chosen_;  // the regex's verdict per Table_Field, kept:
                                                        // std::regex costs more than reading the files
  std::mutex probes_mutex_;  // probe histograms accumulate across scrapes
  std::vector<probe_state> probe_states_;
};

}  // namespace synscope::exporter
