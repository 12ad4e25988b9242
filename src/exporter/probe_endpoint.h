#pragma once
// GET /probe?target=HOST:PORT&module=NAME: one handshake with a target Prometheus names, in the
// manner of blackbox_exporter's multi-target pattern (its relabel configuration works
// unchanged, and its series probe_success, probe_duration_seconds, probe_ip_protocol,
// probe_ip_addr_hash and probe_dns_lookup_time_seconds are named as it names them), plus what
// synscope sees of each handshake: its time, SYN retransmissions, the kernel's RTT and the
// negotiated options, per address probed.
//
// Probes run on worker threads of their own, never on the HTTP thread: a lookup or a silent
// target holds a worker for at most the module's timeout (capped by the scrape timeout Prometheus
// sends), and beyond the workers and their queue /probe answers 503 at once.
//
//   exporter::probe_endpoint probes(std::move(config), 16);
//   auto now = probes.submit(query, scrape_timeout_s, format::prometheus, [](probe_answer a) { ... });
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "active/connector.h"
#include "core/endpoint.h"
#include "core/error.h"
#include "exporter/exposition.h"
#include "exporter/probe_config.h"
#include "kernel/tcp_info.h"

namespace synscope::exporter {

/// What /probe's query string asks for.
struct probe_query {
  std::string target;
  std::string module;
};

/// The query's target and module (percent-decoded, '+' as a space), or an error saying which
/// is missing: the 400 answer's text.
core::result<probe_query> parse_probe_query(std::string_view query);

/// One address's handshake.
struct address_probe {
  core::socket_address address;
  bool connected = false;
  int error = 0;               ///< errno when not connected
  int64_t handshake_ns = 0;
  kernel::tcp_info_view kernel;  ///< TCP_INFO read before the close
  uint32_t syn_retransmits = 0;
  active::tfo_use tfo = active::tfo_use::off;
};

struct probe_outcome {
  int64_t dns_ns = 0;       ///< name lookup (0 for a literal address)
  int64_t duration_ns = 0;  ///< the whole probe: lookup, handshakes, payload
  std::string failure;      ///< why nothing was probed (the name did not resolve), or ""
  std::vector<address_probe> addresses;
  /// Every address probed connected (and there was one).
  [[nodiscard]] bool success() const;
};

/// The reason /probe refuses a query outright: 400 (bad target), 403 (outside the allow-list).
struct probe_refusal {
  unsigned code;
  std::string text;
};

/// Resolves `target` (HOST:PORT) as `module` says, checks every address to be probed against
/// the allow-list, and handshakes with them all at once within `timeout_ns`. A target that does
/// not parse is a 400, an address outside allowed_targets a 403 (nothing is sent to it); a name
/// that does not resolve, or a handshake that fails, is a result with success() false.
std::variant<probe_outcome, probe_refusal> probe_once(const probe_config& config, const probe_module& module,
                                                       std::string_view target, int64_t timeout_ns,
                                                       const std::function<bool()>& stop = {});

/// The exposition of one probe: blackbox_exporter's series and synscope_probe_*.
std::string render_probe(const probe_outcome& p, format f);

/// The time a probe gets: the module's timeout, or less when Prometheus' scrape timeout minus
/// half a second (blackbox_exporter's offset) is shorter; never under 10 ms.
int64_t probe_timeout(const probe_module& module, double scrape_timeout_s);

struct probe_answer {
  unsigned code = 200;
  std::string body;
  bool metrics = false;  ///< an exposition (its content type), or text
};

class probe_endpoint {
 public:
  probe_endpoint(probe_config config, unsigned workers);
  ~probe_endpoint();
  probe_endpoint(const probe_endpoint&) = delete;
  probe_endpoint& operator=(const probe_endpoint&) = delete;

  /// An answer now (400 for a bad query or an unknown module, 503 when every worker is busy and
  /// the queue is full), or nullopt: the probe is queued and `done` will be called with the
  /// answer on a worker thread. Setting `*cancelled` (the client hung up) skips a probe still
  /// waiting and ends one under way.
  std::optional<probe_answer> submit(std::string_view query, double scrape_timeout_s, format f,
                                     std::function<void(probe_answer)> done,
                                     std::shared_ptr<const std::atomic<bool>> cancelled = nullptr);

 private:
  struct job {
    probe_query query;
    const probe_module* module = nullptr;
    int64_t timeout_ns = 0;
    format f = format::prometheus;
    std::function<void(probe_answer)> done;
    std::shared_ptr<const std::atomic<bool>> cancelled;
  };
  void work();

  probe_config config_;
  size_t max_waiting_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> waiting_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace synscope::exporter
