#pragma once
// The exporter's handshake probes, on a schedule and a thread of their own: every interval, one
// handshake with each target, all at once, each given up after the timeout. A scrape reads the
// latest results and their age and never waits for a probe, so an unreachable target cannot
// stall /metrics or /healthz.
//
//   exporter::probe_scheduler probes(targets, 1'000'000'000, 15'000'000'000);   // starts probing
//   auto now = probes.results();            // one entry per target, in the order given
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "active/connector.h"
#include "core/endpoint.h"

namespace synscope::exporter {

struct probe_target {
  std::string name;  ///< as configured ("db1:5432"): the target label
  core::socket_address address;
};

/// The handshake-time histogram's bucket bounds, in seconds.
const std::vector<double>& probe_buckets();

/// Why a probe's handshake did not complete, as far as the kernel's counters are concerned.
enum class probe_failure {
  refused,      ///< a RST answered the SYN: counted in Tcp_AttemptFails (tcp_done)
  unreachable,  ///< an ICMP error ended it after the SYN was sent: counted in Tcp_AttemptFails
  timeout,      ///< no answer by the probe's timeout; the probe closed it: not in Tcp_AttemptFails
  local,        ///< connect() failed before any SYN (no route, no local port): in no TCP counter
};
inline constexpr size_t probe_failure_kinds = 4;
const char* probe_failure_name(probe_failure f);
/// Which failure a connect's errno is: a RST or an ICMP error after the SYN was sent ends the
/// socket in tcp_done(), which counts Tcp_AttemptFails; anything else happened before a SYN.
probe_failure failure_of(int err);

/// One handshake with every address at once, each given up at `deadline_ns` (CLOCK_MONOTONIC)
/// with ETIMEDOUT. `stop`, asked between waits, ends it early (what is pending is failed with
/// EINTR). The sockets stay open: read TCP_INFO, then close them.
std::vector<active::handshake> handshake_all(const std::vector<core::socket_address>& addresses,
                                             const active::connect_options& options, int64_t deadline_ns,
                                             const std::function<bool()>& stop);

struct probe_result {
  std::vector<uint64_t> buckets;  ///< cumulative counts per bound of probe_buckets()
  uint64_t count = 0;             ///< handshakes completed
  double sum_seconds = 0;
  uint64_t attempts = 0;          ///< handshakes tried
  uint64_t failures[probe_failure_kinds] = {};  ///< tried and not completed, by probe_failure
  uint64_t syn_retransmits = 0;   ///< SYNs the kernel sent again (counted in TcpExt_TCPSynRetrans)
  bool ran = false;               ///< at least one round finished
  bool last_ok = false;
  double last_seconds = 0;
  int64_t last_done_ns = 0;       ///< CLOCK_MONOTONIC of the last finished round
};

class probe_scheduler {
 public:
  probe_scheduler(std::vector<probe_target> targets, int64_t timeout_ns, int64_t interval_ns);
  /// Starts the first round now and one every interval after it (a second call does nothing).
  void start();
  ~probe_scheduler();
  probe_scheduler(const probe_scheduler&) = delete;
  probe_scheduler& operator=(const probe_scheduler&) = delete;

  [[nodiscard]] const std::vector<probe_target>& targets() const { return targets_; }
  /// A copy of every target's results so far.
  [[nodiscard]] std::vector<probe_result> results() const;

 private:
  void run();
  void round();
  std::vector<probe_target> targets_;
  int64_t timeout_ns_;
  int64_t interval_ns_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<probe_result> results_;
  std::thread thread_;
};

}  // namespace synscope::exporter
