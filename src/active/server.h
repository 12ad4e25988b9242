#pragma once
// synscope serve's engine: a TCP server with one epoll loop per thread, each with its own
// listening sockets (SO_REUSEPORT, so the kernel spreads connections over the threads).
//
//   active::server_options o;
//   o.listen = {core::loopback_address(core::address_family::ipv4, 8080)};
//   o.mode = active::serve_mode::http;
//   auto s = active::server::start(o);
//   ...
//   (*s)->stop(drain_timeout);  auto st = (*s)->stats();
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/endpoint.h"
#include "core/error.h"

namespace synscope::active {

enum class serve_mode {
  ack,      ///< the seed's server: read a message, reply "ACK\n", close
  echo,     ///< write back what arrives until the client closes
  discard,  ///< read and drop until the client closes
  http,     ///< a minimal HTTP/1.1 200 with keep-alive (for ab and wrk)
};
const char* serve_mode_name(serve_mode m);

struct server_options {
  std::vector<core::socket_address> listen;  ///< port 0: the kernel picks one (the same for every thread)
  serve_mode mode = serve_mode::ack;
  int backlog = 4096;           ///< listen()'s backlog (the kernel caps it at net.core.somaxconn)
  int threads = 1;
  int defer_accept_s = 0;       ///< TCP_DEFER_ACCEPT: wake accept() only when data arrived
  int fastopen_qlen = 0;        ///< TCP_FASTOPEN on the listeners (0: off)
  uint64_t max_conns = 0;       ///< stop accepting while this many are open (0: no limit)
  int64_t idle_timeout_ns = 0;  ///< close connections silent this long (0: never)
};

struct server_stats {
  uint64_t accepted = 0;
  uint64_t active = 0;
  uint64_t peak_active = 0;
  uint64_t closed = 0;
  uint64_t requests = 0;        ///< ack replies and HTTP responses sent
  uint64_t idle_closed = 0;
  uint64_t accept_pauses = 0;   ///< times accepting paused for EMFILE/ENFILE/ENOBUFS/ENOMEM
  std::map<int, uint64_t> errors;  ///< errno -> count (accept and connection I/O)
};

struct shared_counters;  // server.cpp

class server {
 public:
  /// Binds and listens on every address (once per thread), then starts the threads.
  static core::result<std::unique_ptr<server>> start(const server_options& options);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The addresses actually bound (with the ports the kernel chose).
  [[nodiscard]] const std::vector<core::socket_address>& bound() const { return bound_; }
  /// Stops accepting (closes the listeners), lets open connections finish for up to
  /// `drain_ns`, then closes what is left and joins the threads. Idempotent.
  void stop(int64_t drain_ns);
  [[nodiscard]] server_stats stats() const;

  struct loop;  // one per thread (server.cpp)

 private:
  server() = default;
  std::vector<core::socket_address> bound_;
  std::vector<std::unique_ptr<loop>> loops_;
  std::vector<std::thread> threads_;
  std::unique_ptr<shared_counters> counters_;
  bool stopped_ = false;
};

}  // namespace synscope::active
