#pragma once
// The exporter's HTTP side: /metrics (Prometheus text, or OpenMetrics when the Accept header asks
// for it; gzip when accepted), / (a small landing page), /healthz, and /probe when it is
// configured (exporter/probe_endpoint.h: the probe runs on a worker, and the connection waits
// for it without holding this thread). GET and HEAD only (405
// otherwise), 404 for other paths, 400 and 431 for what is not a request.
//
// One thread with epoll, built so that no client, slow or hostile, can keep a scrape from being
// answered or hold memory after it leaves:
//   - the listener defers accept until the client has sent something (TCP_DEFER_ACCEPT), and a
//     new connection's first bytes are read at once;
//   - a request head must arrive whole within header_timeout of the connection (or of the end
//     of the previous answer), whatever it trickles; an idle keep-alive connection is closed
//     after idle_timeout; an answer must be taken by the client within write_timeout;
//   - at most max_connections connections, and per_address_limit from one address: at either
//     limit, the oldest connection still waiting for its request is closed to make room (so a
//     scraper that sends its request at once is served while slow clients are turned over);
//   - at most max_in_flight answers being written at once (node_exporter's --web.max-requests),
//     503 beyond;
//   - each connection's request head lives in a fixed slot of header_limit bytes of one mapped
//     region, given back to the system (MADV_DONTNEED) when the connection closes; answers to
//     requests that arrive together share one body.
//
//   auto server = exporter::http_server::start(options, collectors);
//   ... (*server)->stop();
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "core/endpoint.h"
#include "core/error.h"
#include "core/unique_fd.h"
#include "exporter/collectors.h"
#include "exporter/probe_endpoint.h"

namespace synscope::exporter {

/// The default port: 127.0.0.1:9851.
inline constexpr uint16_t default_port = 9851;

struct http_options {
  core::socket_address listen;
  unsigned max_connections = 512;   ///< connections at once, all clients together
  unsigned per_address_limit = 32;  ///< connections at once from one address (0: no limit)
  unsigned max_in_flight = 40;      ///< answers being written at once; 503 beyond (0: no limit)
  int64_t header_timeout_ns = 5'000'000'000;  ///< a whole request head within this
  int64_t idle_timeout_ns = 10'000'000'000;   ///< a keep-alive connection with no request
  int64_t write_timeout_ns = 30'000'000'000;  ///< an answer taken by the client within this
  size_t header_limit = 8192;                 ///< bytes of request head (431 beyond)
  /// /probe (blackbox_exporter's multi-target pattern); null: /probe is 404. It must outlive
  /// the server.
  probe_endpoint* probes = nullptr;
};

struct http_stats {
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> scrapes{0};
  std::atomic<uint64_t> probes{0};           ///< /probe requests answered with a probe's result
  std::atomic<uint64_t> not_found{0};
  std::atomic<uint64_t> not_allowed{0};
  std::atomic<uint64_t> forbidden{0};        ///< 403: a /probe target outside allowed_targets
  std::atomic<uint64_t> bad{0};              ///< 400 and 431
  std::atomic<uint64_t> busy{0};             ///< 503: max_in_flight answers already being written
  std::atomic<uint64_t> header_timeouts{0};  ///< closed: no whole request head in time
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> write_timeouts{0};
  std::atomic<uint64_t> evicted{0};          ///< closed to make room at a connection limit
  std::atomic<uint64_t> refused{0};          ///< new connections closed: every slot busy answering
};

/// A listening socket on `options.listen` (SO_REUSEADDR, TCP_DEFER_ACCEPT of the header
/// timeout), in the network namespace of the calling thread: made before the process enters
/// another namespace, it stays reachable where it was made.
core::result<core::unique_fd> open_listener(const http_options& options);

class http_server {
 public:
  /// Serves on `listener` (from open_listener) or, when it is empty, on a listener opened here.
  static core::result<std::unique_ptr<http_server>> start(const http_options& options, collectors& c,
                                                          core::unique_fd listener = {});
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  [[nodiscard]] const core::socket_address& bound() const { return bound_; }
  [[nodiscard]] const http_stats& stats() const { return stats_; }
  void stop();

  struct loop;  // the event loop's state (http.cpp)

 private:
  http_server() = default;
  std::unique_ptr<loop> loop_;
  std::thread thread_;
  core::socket_address bound_;
  http_stats stats_;
};

}  // namespace synscope::exporter
