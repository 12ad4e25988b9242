#include "exporter/http.h"

#include <microhttpd.h>
#include <sys/socket.h>
#include <zlib.h>

#include <cstring>
#include <string>

#include <fmt/format.h>

namespace synscope::exporter {
namespace {

constexpr const char* landing_page =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>synscope exporter</title></head>\n"
    "<body><h1>synscope exporter</h1>\n<p>TCP connection establishment, from the kernel: "
    "<a href=\"/metrics\">/metrics</a> (node_exporter's node_netstat_* series and synscope_*), "
    "<a href=\"/healthz\">/healthz</a>.</p></body></html>\n";

std::string gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));  // NOLINT: zlib's signature
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());  // NOLINT
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return rc == Z_STREAM_END ? out : std::string();
}

bool header_has(MHD_Connection* c, const char* header, const char* token) {
  const char* v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, header);
  return v != nullptr && std::strstr(v, token) != nullptr;
}

MHD_Result send(MHD_Connection* c, unsigned status, const std::string& body, const char* type,
                const char* encoding = nullptr, const char* allow = nullptr) {
  MHD_Response* r = MHD_create_response_from_buffer(body.size(), const_cast<char*>(body.data()),  // NOLINT
                                                    MHD_RESPMEM_MUST_COPY);
  if (r == nullptr) return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
  if (encoding != nullptr) {
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, encoding);
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
  if (allow != nullptr) MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
  MHD_Result ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

}  // namespace

struct http_server::handler {
  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                               const char* /*version*/, const char* /*upload_data*/, size_t* upload_size,
                               void** state) {
    auto* self = static_cast<http_server*>(cls);
    // Answer at the first call, before any body: a POST body is never read into memory.
    if (*state == nullptr) {
      static int marker;
      *state = &marker;
      if (std::strcmp(method, MHD_HTTP_METHOD_GET) == 0 || std::strcmp(method, MHD_HTTP_METHOD_HEAD) == 0) {
        return MHD_YES;  // the next call answers (MHD's usual two-step for GET)
      }
    }
    *upload_size = 0;
    self->stats_.requests.fetch_add(1, std::memory_order_relaxed);
    if (std::strcmp(method, MHD_HTTP_METHOD_GET) != 0 && std::strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
      self->stats_.not_allowed.fetch_add(1, std::memory_order_relaxed);
      return send(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed: GET or HEAD\n", "text/plain; charset=utf-8",
                  nullptr, "GET, HEAD");
    }
    std::string path = url;
    if (path == "/metrics") {
      self->stats_.scrapes.fetch_add(1, std::memory_order_relaxed);
      bool open_metrics = header_has(c, MHD_HTTP_HEADER_ACCEPT, "application/openmetrics-text");
      std::string body = self->collectors_.scrape(open_metrics ? format::openmetrics : format::prometheus);
      const char* type = open_metrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                      : "text/plain; version=0.0.4; charset=utf-8";
      if (header_has(c, MHD_HTTP_HEADER_ACCEPT_ENCODING, "gzip")) {
        std::string z = gzip(body);
        if (!z.empty()) return send(c, MHD_HTTP_OK, z, type, "gzip");
      }
      return send(c, MHD_HTTP_OK, body, type);
    }
    if (path == "/") return send(c, MHD_HTTP_OK, landing_page, "text/html; charset=utf-8");
    if (path == "/healthz") return send(c, MHD_HTTP_OK, "ok\n", "text/plain; charset=utf-8");
    self->stats_.not_found.fetch_add(1, std::memory_order_relaxed);
    return send(c, MHD_HTTP_NOT_FOUND, "404 not found: try /metrics\n", "text/plain; charset=utf-8");
  }
};

core::result<std::unique_ptr<http_server>> http_server::start(const http_options& options, collectors& c) {
  std::unique_ptr<http_server> s(new http_server(c));
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;
  if (options.listen.family() == AF_INET6) flags |= MHD_USE_IPv6;
  const sockaddr* addr = options.listen.data();
  s->daemon_ = MHD_start_daemon(
      flags, options.listen.port(), nullptr, nullptr, &handler::on_request, s.get(), MHD_OPTION_SOCK_ADDR, addr,
      MHD_OPTION_CONNECTION_LIMIT, options.connection_limit, MHD_OPTION_PER_IP_CONNECTION_LIMIT, options.per_ip_limit,
      MHD_OPTION_CONNECTION_TIMEOUT, options.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, options.header_limit,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
  if (s->daemon_ == nullptr) {
    return core::error{core::exit_code::environment,
                       fmt::format("exporter: cannot listen on {} (in use, or not an address of this host)",
                                   options.listen.to_string())};
  }
  const MHD_DaemonInfo* info = MHD_get_daemon_info(s->daemon_, MHD_DAEMON_INFO_LISTEN_FD);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (info != nullptr && getsockname(info->listen_fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {  // NOLINT
    s->bound_ = core::socket_address(reinterpret_cast<sockaddr*>(&ss), len);  // NOLINT
  } else {
    s->bound_ = options.listen;
  }
  return s;
}

void http_server::stop() {
  if (daemon_ != nullptr) {
    MHD_stop_daemon(daemon_);
    daemon_ = nullptr;
  }
}

http_server::~http_server() { stop(); }

}  // namespace synscope::exporter
