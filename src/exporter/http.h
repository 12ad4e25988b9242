#pragma once
// The exporter's HTTP side, on libmicrohttpd: /metrics (Prometheus text, or OpenMetrics when the
// Accept header asks for it; gzip when accepted), / (a small landing page), /healthz. GET and
// HEAD only (405 otherwise), 404 for other paths, a connection limit, a per-address limit, an
// idle timeout and a header size limit, so slow or malformed clients cannot starve a scrape.
//
//   auto server = exporter::http_server::start(options, collectors);
//   ... (*server)->stop();
#include <atomic>
#include <cstdint>
#include <memory>

#include "core/endpoint.h"
#include "core/error.h"
#include "exporter/collectors.h"

struct MHD_Daemon;

namespace synscope::exporter {

/// The default port: 127.0.0.1:9851.
inline constexpr uint16_t default_port = 9851;

struct http_options {
  core::socket_address listen;
  unsigned connection_limit = 16384;  ///< connections at once, all clients together (idle ones cost a few KB)
  unsigned per_ip_limit = 0;          ///< connections at once from one address (0: no limit)
  unsigned timeout_s = 10;           ///< a connection idle this long is closed (slow clients)
  size_t header_limit = 16 * 1024;   ///< bytes of request head per connection (431 beyond)
};

struct http_stats {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> scrapes{0};
  std::atomic<uint64_t> not_found{0};
  std::atomic<uint64_t> not_allowed{0};
};

class http_server {
 public:
  static core::result<std::unique_ptr<http_server>> start(const http_options& options, collectors& c);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  [[nodiscard]] const core::socket_address& bound() const { return bound_; }
  [[nodiscard]] const http_stats& stats() const { return stats_; }
  void stop();

  // libmicrohttpd's request callback (http.cpp).
  struct handler;

 private:
  http_server(collectors& c) : collectors_(c) {}
  collectors& collectors_;
  MHD_Daemon* daemon_ = nullptr;
  core::socket_address bound_;
  http_stats stats_;
};

}  // namespace synscope::exporter
