#pragma once
// The request side of the exporter's HTTP: finding one request head at the start of what a
// client sent, and what the exporter needs from it (method, path, keep-alive, the formats it
// accepts). Pure, so that a fuzz target can feed it anything.
//
//   auto r = exporter::parse_request(buffer, 8192);
//   if (r.kind == exporter::request::whole) { answer(r); buffer.erase(0, r.consumed); }
#include <cstddef>
#include <string_view>

namespace synscope::exporter {

struct request {
  enum kind_t {
    need_more,  ///< no whole head yet
    whole,      ///< a whole head: `consumed` bytes (head and blank line)
    bad,        ///< not an HTTP/1.0 or 1.1 request line, or a header line without a colon: 400
    too_large,  ///< no end of the head within the limit: 431
  };
  enum method_t { get, head, other };
  kind_t kind = need_more;
  size_t consumed = 0;
  method_t method = other;
  std::string_view path;       ///< before any '?', a view into the input
  std::string_view query;      ///< after the '?' (empty without one), a view into the input
  double scrape_timeout_s = 0; ///< X-Prometheus-Scrape-Timeout-Seconds, when sent and a positive number
  bool keep_alive = false;     ///< HTTP/1.1 unless "Connection: close"; 1.0 only with "keep-alive"
  bool openmetrics = false;    ///< Accept names application/openmetrics-text
  bool gzip = false;           ///< Accept-Encoding names gzip
  bool has_body = false;       ///< Content-Length > 0 or Transfer-Encoding: the exporter answers and closes
};

/// Looks at the start of `in` for one request head of at most `max_head` bytes.
request parse_request(std::string_view in, size_t max_head);

}  // namespace synscope::exporter
