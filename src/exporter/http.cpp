#include "exporter/http.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "exporter/request.h"

namespace synscope::exporter {
namespace {

constexpr const char* landing_page =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>synscope exporter</title></head>\n"
    "<body><h1>synscope exporter</h1>\n<p>TCP connection establishment, from the kernel: "
    "<a href=\"/metrics\">/metrics</a> (node_exporter's node_netstat_* series and synscope_*), "
    "<a href=\"/healthz\">/healthz</a>.</p></body></html>\n";
constexpr const char* text_type = "text/plain; charset=utf-8";
constexpr int64_t linger_ns = 2'000'000'000;  // reading what a client still sends after an answer that closes
constexpr int64_t sweep_every_ns = 100'000'000;

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

using body_ptr = std::shared_ptr<const std::string>;

const char* reason_of(unsigned code) {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

}  // namespace

// Probes finished on a worker, waiting to be answered on the HTTP thread. Shared with the
// workers' callbacks, so a probe that finishes after the server stopped writes into this and
// not into a freed loop.
struct probe_mailbox {
  struct finished {
    uint32_t slot;
    uint32_t generation;
    probe_answer answer;
  };
  std::mutex mutex;
  std::vector<finished> done;
  core::unique_fd wake;  // eventfd: the loop's epoll sees it
  void post(uint32_t slot, uint32_t generation, probe_answer a) {
    {
      std::lock_guard lock(mutex);
      done.push_back({slot, generation, std::move(a)});
    }
    uint64_t one = 1;
    (void)::write(wake.get(), &one, sizeof one);
  }
};

struct http_server::loop {
  enum class phase { waiting, probing, answering, lingering };
  struct connection {
    int fd = -1;
    uint32_t generation = 0;
    std::string address;  // the peer's address bytes: the per-address limit's key
    phase state = phase::waiting;
    int64_t since_ns = 0;          // waiting: when the request began (accept, or its first byte); answering/lingering: when that began
    uint64_t order = 0;            // when since_ns was set, as a strictly increasing count: ties in time broken
    bool request_started = false;  // waiting: a byte (or the connection itself) of the next request has come
    bool queued = false;           // its request is in `ready`, to be answered this round
    bool peer_closed = false;      // the client shut its side down: answer what is here, then close
    size_t used = 0;               // bytes of request head in this connection's slot
    std::string header;            // the answer being written: head, then body
    body_ptr body;
    bool head_only = false;
    size_t sent = 0;
    bool close_after = false;
    format probe_format = format::prometheus;  // probing: the answer's format
    std::shared_ptr<std::atomic<bool>> probe_cancelled;  // probing: set when the client goes
  };
  struct ready_request {
    uint32_t slot;
    request req;
  };

  http_options options;
  collectors* source = nullptr;
  http_stats* stats = nullptr;
  core::unique_fd listener;
  core::unique_fd epoll;
  core::unique_fd wake;
  char* heads = nullptr;  // max_connections slots of header_limit bytes
  size_t heads_size = 0;
  std::vector<connection> conns;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string, unsigned> per_address;
  unsigned open = 0;
  unsigned answering = 0;
  std::vector<ready_request> ready;
  body_ptr landing_body = std::make_shared<const std::string>(landing_page);
  body_ptr healthz_body = std::make_shared<const std::string>("ok\n");
  int64_t last_sweep_ns = 0;
  uint64_t next_order = 0;
  std::shared_ptr<probe_mailbox> mailbox = std::make_shared<probe_mailbox>();

  ~loop() {
    for (auto& c : conns) {
      if (c.fd >= 0) ::close(c.fd);
    }
    if (heads != nullptr) munmap(heads, heads_size);
  }

  char* slot_of(uint32_t slot) { return heads + static_cast<size_t>(slot) * options.header_limit; }

  static uint64_t key(uint32_t slot, uint32_t generation) { return (static_cast<uint64_t>(generation) << 32) | slot; }

  void watch(uint32_t slot, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = key(slot, conns[slot].generation);
    epoll_ctl(epoll.get(), op, conns[slot].fd, &ev);
  }

  void close_conn(uint32_t slot) {
    connection& c = conns[slot];
    if (c.fd < 0) return;
    if (c.state == phase::answering) --answering;
    if (c.probe_cancelled) c.probe_cancelled->store(true, std::memory_order_relaxed);
    c.probe_cancelled.reset();
    ::close(c.fd);  // also leaves the epoll set
    c.fd = -1;
    ++c.generation;
    if (c.used > 0) madvise(slot_of(slot), options.header_limit, MADV_DONTNEED);  // the memory goes back
    c.used = 0;
    c.header.clear();
    c.header.shrink_to_fit();
    c.body.reset();
    if (auto it = per_address.find(c.address); it != per_address.end() && --it->second == 0) per_address.erase(it);
    c.address.clear();
    --open;
    free_slots.push_back(slot);
  }

  // The oldest connection still waiting for (or finishing) a request, among all or those of one
  // address: what gives way when a limit is reached.
  // A connection whose whole request is here (queued) is about to be answered: never chosen.
  bool evict_oldest(const std::string* address) {
    uint64_t oldest = UINT64_MAX;
    uint32_t which = UINT32_MAX;
    for (uint32_t i = 0; i < conns.size(); ++i) {
      const connection& c = conns[i];
      if (c.fd < 0 || c.state == phase::answering || c.state == phase::probing || c.queued) continue;
      if (address != nullptr && c.address != *address) continue;
      if (c.order < oldest) {
        oldest = c.order;
        which = i;
      }
    }
    if (which == UINT32_MAX) return false;
    stats->evicted.fetch_add(1, std::memory_order_relaxed);
    close_conn(which);
    return true;
  }

  void accept_all(int64_t now) {
    for (int n = 0; n < 1024; ++n) {
      sockaddr_storage peer{};
      socklen_t len = sizeof peer;
      int fd = core::retry_on_eintr([&] { return accept4(listener.get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC); });  // NOLINT
      if (fd < 0) {
        if (errno == ECONNABORTED) continue;
        return;  // EAGAIN, or out of descriptors: the kernel keeps the rest queued
      }
      std::string address;
      if (peer.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&peer);  // NOLINT
        address.assign(reinterpret_cast<const char*>(&a->sin_addr), 4);  // NOLINT
      } else if (peer.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&peer);  // NOLINT
        address.assign(reinterpret_cast<const char*>(&a->sin6_addr), 16);  // NOLINT
      }
      bool room = true;
      if (options.per_address_limit > 0 && per_address[address] >= options.per_address_limit) room = evict_oldest(&address);
      if (room && open >= options.max_connections) room = evict_oldest(nullptr);
      if (!room) {
        stats->refused.fetch_add(1, std::memory_order_relaxed);
        ::close(fd);
        if (auto it = per_address.find(address); it != per_address.end() && it->second == 0) per_address.erase(it);
        continue;
      }
      uint32_t slot = free_slots.back();
      free_slots.pop_back();
      connection& c = conns[slot];
      c.fd = fd;
      c.address = std::move(address);
      ++per_address[c.address];
      ++open;
      c.state = phase::waiting;
      c.since_ns = now;
      c.order = next_order++;
      c.request_started = true;  // a new connection is a request begun: the header deadline runs
      c.queued = false;
      c.peer_closed = false;
      c.used = 0;
      c.sent = 0;
      stats->connections.fetch_add(1, std::memory_order_relaxed);
      watch(slot, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_ADD);
      readable(slot, now);  // deferred accept: the request is usually here already
    }
  }

  void readable(uint32_t slot, int64_t now) {
    connection& c = conns[slot];
    if (c.fd < 0) return;
    if (c.state == phase::probing) {
      close_conn(slot);  // watched only for a hang-up while probing
      return;
    }
    if (c.state == phase::lingering) {
      char discard[4096];
      for (;;) {
        ssize_t n = core::retry_on_eintr([&] { return ::read(c.fd, discard, sizeof discard); });
        if (n > 0) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        close_conn(slot);
        return;
      }
    }
    if (c.state != phase::waiting) return;
    for (;;) {
      if (c.used == options.header_limit) break;  // full: parse says too_large
      ssize_t n = core::retry_on_eintr([&] { return ::read(c.fd, slot_of(slot) + c.used, options.header_limit - c.used); });
      if (n > 0) {
        if (!c.request_started) {
          c.request_started = true;
          c.since_ns = now;
          c.order = next_order++;
        }
        c.used += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      if (n < 0) {
        close_conn(slot);  // the connection broke
        return;
      }
      c.peer_closed = true;  // end of what the client sends: a request already here is answered
      break;
    }
    take_request(slot);
    if (c.fd >= 0 && c.peer_closed && !c.queued && c.state == phase::waiting) close_conn(slot);
  }

  void take_request(uint32_t slot) {
    connection& c = conns[slot];
    if (c.used == 0 || c.queued) return;
    request r = parse_request(std::string_view(slot_of(slot), c.used), options.header_limit);
    switch (r.kind) {
      case request::need_more:
        return;
      case request::bad:
        stats->bad.fetch_add(1, std::memory_order_relaxed);
        answer(slot, 400, "400 bad request: not an HTTP/1.x request\n", text_type, false, nullptr, true);
        return;
      case request::too_large:
        stats->bad.fetch_add(1, std::memory_order_relaxed);
        answer(slot, 431, fmt::format("431 request head over {} bytes\n", options.header_limit), text_type, false,
               nullptr, true);
        return;
      case request::whole:
        c.queued = true;
        ready.push_back({slot, r});
        return;
    }
  }

  void answer(uint32_t slot, unsigned code, const std::string& text, const char* type, bool head_only,
              const char* extra_header, bool close) {
    answer_body(slot, code, std::make_shared<const std::string>(text), type, nullptr, head_only, extra_header, close);
  }

  void answer_body(uint32_t slot, unsigned code, body_ptr body, const char* type, const char* encoding, bool head_only,
                   const char* extra_header, bool close) {
    connection& c = conns[slot];
    c.header = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n", code, reason_of(code), type,
                           body->size());
    if (encoding != nullptr) c.header += fmt::format("Content-Encoding: {}\r\n", encoding);
    c.header += "Vary: Accept-Encoding\r\n";
    if (extra_header != nullptr) c.header += extra_header;
    c.header += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
    c.body = std::move(body);
    c.head_only = head_only;
    c.sent = 0;
    c.close_after = close;
    c.state = phase::answering;
    c.since_ns = core::monotonic_ns();
    ++answering;
    watch(slot, EPOLLOUT | EPOLLRDHUP, EPOLL_CTL_MOD);
    writable(slot);
  }

  void writable(uint32_t slot) {
    connection& c = conns[slot];
    if (c.fd < 0 || c.state != phase::answering) return;
    size_t body_size = c.head_only ? 0 : c.body->size();
    size_t total = c.header.size() + body_size;
    while (c.sent < total) {
      iovec iov[2];
      int count = 0;
      if (c.sent < c.header.size()) {
        iov[count++] = {c.header.data() + c.sent, c.header.size() - c.sent};
        if (body_size > 0) iov[count++] = {const_cast<char*>(c.body->data()), body_size};  // NOLINT: iovec's type
      } else {
        size_t at = c.sent - c.header.size();
        iov[count++] = {const_cast<char*>(c.body->data()) + at, body_size - at};  // NOLINT
      }
      ssize_t n = core::retry_on_eintr([&] { return writev(c.fd, iov, count); });
      if (n > 0) {
        c.sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT brings us back
      close_conn(slot);
      return;
    }
    // Answered.
    --answering;
    c.header.clear();
    c.body.reset();
    int64_t now = core::monotonic_ns();
    if (c.close_after) {
      // Lingering close: the client may still be sending (a body, a long head) and closing now
      // would answer that with a RST that can destroy the answer on its way.
      shutdown(c.fd, SHUT_WR);
      c.state = phase::lingering;
      c.since_ns = now;
      c.order = next_order++;
      if (c.used > 0) madvise(slot_of(slot), options.header_limit, MADV_DONTNEED);
      c.used = 0;
      watch(slot, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
      return;
    }
    c.state = phase::waiting;
    c.since_ns = now;
    c.order = next_order++;
    c.request_started = c.used > 0;
    watch(slot, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD);
    take_request(slot);  // a pipelined request may be here already
    if (c.fd >= 0 && c.peer_closed && !c.queued) close_conn(slot);
  }

  // Answers every whole request that came in this round; scrapes that came together share one
  // collection and one body per format.
  void answer_ready() {
    body_ptr scraped[2][2];  // [openmetrics][gzip]
    while (!ready.empty()) {
      std::vector<ready_request> now_ready;
      now_ready.swap(ready);
      for (const auto& [slot, r] : now_ready) {
        connection& c = conns[slot];
        c.queued = false;
        if (c.fd < 0 || c.state != phase::waiting) continue;
        enum class route { metrics, healthz, landing, probe, none };
        route to = r.path == "/metrics" ? route::metrics
                   : r.path == "/healthz" ? route::healthz
                   : r.path == "/"        ? route::landing
                   : r.path == "/probe" && options.probes != nullptr ? route::probe
                                          : route::none;
        std::string query(r.query);
        // The request leaves the slot (r.path pointed into it); what follows it, a pipelined
        // request, moves up.
        std::memmove(slot_of(slot), slot_of(slot) + r.consumed, c.used - r.consumed);
        c.used -= r.consumed;
        stats->requests.fetch_add(1, std::memory_order_relaxed);
        bool close = !r.keep_alive || r.has_body || c.peer_closed;
        bool head_only = r.method == request::head;
        if (r.method == request::other) {
          stats->not_allowed.fetch_add(1, std::memory_order_relaxed);
          answer(slot, 405, "405 method not allowed: GET or HEAD\n", text_type, false, "Allow: GET, HEAD\r\n", true);
          continue;
        }
        if (to == route::healthz) {
          answer_body(slot, 200, healthz_body, text_type, nullptr, head_only, nullptr, close);
          continue;
        }
        if (to == route::landing) {
          answer_body(slot, 200, landing_body, "text/html; charset=utf-8", nullptr, head_only, nullptr, close);
          continue;
        }
        if (to == route::probe) {
          probe(slot, query, r, head_only, close);
          continue;
        }
        if (to != route::metrics) {
          stats->not_found.fetch_add(1, std::memory_order_relaxed);
          answer(slot, 404, "404 not found: try /metrics\n", text_type, head_only, nullptr, close);
          continue;
        }
        if (options.max_in_flight > 0 && answering >= options.max_in_flight) {
          stats->busy.fetch_add(1, std::memory_order_relaxed);
          answer(slot, 503, fmt::format("503 {} answers are being sent already (--max-requests)\n", answering), text_type,
                 head_only, "Retry-After: 1\r\n", close);
          continue;
        }
        stats->scrapes.fetch_add(1, std::memory_order_relaxed);
        int om = r.openmetrics ? 1 : 0;
        if (!scraped[om][0]) {
          scraped[om][0] = std::make_shared<const std::string>(source->scrape(r.openmetrics ? format::openmetrics : format::prometheus));
        }
        body_ptr body = scraped[om][0];
        const char* encoding = nullptr;
        if (r.gzip) {
          if (!scraped[om][1]) {
            std::string z = gzip(*scraped[om][0]);
            scraped[om][1] = z.empty() ? scraped[om][0] : std::make_shared<const std::string>(std::move(z));
          }
          if (scraped[om][1] != scraped[om][0]) {
            body = scraped[om][1];
            encoding = "gzip";
          }
        }
        const char* type = r.openmetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                         : "text/plain; version=0.0.4; charset=utf-8";
        answer_body(slot, 200, body, type, encoding, head_only, nullptr, close);
      }
    }
  }

  // /probe: the query goes to a worker and the connection waits, watched only for the client's
  // hang-up (EPOLLRDHUP, EPOLLHUP, EPOLLERR), which closes it and cancels the probe, as Go's
  // net/http cancels a request's context (and so blackbox_exporter its probe) when the client
  // goes. A pipelined request behind it is read once the probe is answered.
  void probe(uint32_t slot, const std::string& query, const request& r, bool head_only, bool close) {
    connection& c = conns[slot];
    format f = r.openmetrics ? format::openmetrics : format::prometheus;
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    auto now = options.probes->submit(
        query, r.scrape_timeout_s, f,
        [box = mailbox, slot, generation = c.generation](probe_answer a) { box->post(slot, generation, std::move(a)); },
        cancelled);
    if (now) {
      if (now->code == 503) stats->busy.fetch_add(1, std::memory_order_relaxed);
      if (now->code == 400) stats->bad.fetch_add(1, std::memory_order_relaxed);
      answer(slot, now->code, now->body, text_type, head_only, now->code == 503 ? "Retry-After: 1\r\n" : nullptr, close);
      return;
    }
    c.state = phase::probing;
    c.head_only = head_only;
    c.close_after = close;
    c.probe_format = f;
    c.probe_cancelled = std::move(cancelled);
    c.since_ns = core::monotonic_ns();
    watch(slot, EPOLLRDHUP, EPOLL_CTL_MOD);
  }

  void answer_probes() {
    uint64_t count = 0;
    (void)::read(mailbox->wake.get(), &count, sizeof count);
    std::vector<probe_mailbox::finished> done;
    {
      std::lock_guard lock(mailbox->mutex);
      done.swap(mailbox->done);
    }
    for (auto& d : done) {
      if (d.slot >= conns.size()) continue;
      connection& c = conns[d.slot];
      if (c.fd < 0 || c.generation != d.generation || c.state != phase::probing) continue;  // gone since
      c.probe_cancelled.reset();
      if (d.answer.code == 403) stats->forbidden.fetch_add(1, std::memory_order_relaxed);
      if (d.answer.code == 200) stats->probes.fetch_add(1, std::memory_order_relaxed);
      const char* type = !d.answer.metrics ? text_type
                         : c.probe_format == format::openmetrics
                             ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                             : "text/plain; version=0.0.4; charset=utf-8";
      answer_body(d.slot, d.answer.code, std::make_shared<const std::string>(std::move(d.answer.body)), type, nullptr,
                  c.head_only, nullptr, c.close_after);
    }
  }

  void sweep(int64_t now) {
    for (uint32_t i = 0; i < conns.size(); ++i) {
      connection& c = conns[i];
      if (c.fd < 0) continue;
      int64_t age = now - c.since_ns;
      switch (c.state) {
        case phase::waiting:
          if (c.request_started && age > options.header_timeout_ns) {
            stats->header_timeouts.fetch_add(1, std::memory_order_relaxed);
            close_conn(i);
          } else if (!c.request_started && age > options.idle_timeout_ns) {
            stats->idle_closed.fetch_add(1, std::memory_order_relaxed);
            close_conn(i);
          }
          break;
        case phase::answering:
          if (age > options.write_timeout_ns) {
            stats->write_timeouts.fetch_add(1, std::memory_order_relaxed);
            close_conn(i);
          }
          break;
        case phase::lingering:
          if (age > linger_ns) close_conn(i);
          break;
        case phase::probing:
          break;  // a worker answers within the module's timeout
      }
    }
  }

  void run() {
    std::vector<epoll_event> events(256);
    for (;;) {
      int n = epoll_wait(epoll.get(), events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) return;
      int64_t now = core::monotonic_ns();
      for (int i = 0; i < n; ++i) {
        uint64_t k = events[static_cast<size_t>(i)].data.u64;
        if (k == UINT64_MAX) return;  // stop()
        if (k == UINT64_MAX - 1) {
          accept_all(now);
          continue;
        }
        if (k == UINT64_MAX - 2) {
          answer_probes();
          continue;
        }
        auto slot = static_cast<uint32_t>(k & 0xffffffffu);
        auto generation = static_cast<uint32_t>(k >> 32);
        if (slot >= conns.size() || conns[slot].fd < 0 || conns[slot].generation != generation) continue;  // closed since
        uint32_t ev = events[static_cast<size_t>(i)].events;
        if ((ev & EPOLLOUT) != 0) writable(slot);
        if ((ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) readable(slot, now);
      }
      answer_ready();
      if (now - last_sweep_ns >= sweep_every_ns) {
        sweep(now);
        last_sweep_ns = now;
      }
    }
  }
};

core::result<core::unique_fd> open_listener(const http_options& options) {
  std::string where = options.listen.to_string();
  auto failed = [&](const char* call) { return core::system_error("exporter: cannot listen on " + where, call, errno); };
  core::unique_fd fd(socket(options.listen.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return failed("socket");
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(fd.get(), options.listen.data(), options.listen.size()) != 0) return failed("bind");
  if (listen(fd.get(), 1024) != 0) return failed("listen");
  // Accepted only once the client has sent something: a connection that never sends does not
  // take a slot until the kernel gives up waiting (header_timeout, in whole seconds).
  int defer = static_cast<int>(std::max<int64_t>(1, options.header_timeout_ns / core::ns_per_s));
  setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof defer);
  return fd;
}

core::result<std::unique_ptr<http_server>> http_server::start(const http_options& options, collectors& c,
                                                              core::unique_fd listener) {
  std::unique_ptr<http_server> s(new http_server());
  auto l = std::make_unique<loop>();
  l->options = options;
  l->options.max_connections = std::max(1u, options.max_connections);
  l->options.header_limit = std::max<size_t>(256, options.header_limit);
  l->source = &c;
  l->stats = &s->stats_;
  std::string where = options.listen.to_string();
  auto failed = [&](const char* call) { return core::system_error("exporter: cannot listen on " + where, call, errno); };
  if (!listener) {
    auto opened = open_listener(options);
    if (!opened) return opened.error();
    listener = std::move(*opened);
  }
  l->listener = std::move(listener);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(l->listener.get(), reinterpret_cast<sockaddr*>(&ss), &len) == 0) {  // NOLINT
    s->bound_ = core::socket_address(reinterpret_cast<sockaddr*>(&ss), len);          // NOLINT
  } else {
    s->bound_ = options.listen;
  }
  l->epoll.reset(epoll_create1(EPOLL_CLOEXEC));
  l->wake.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!l->epoll || !l->wake) return failed("epoll");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = UINT64_MAX - 1;
  epoll_ctl(l->epoll.get(), EPOLL_CTL_ADD, l->listener.get(), &ev);
  ev.data.u64 = UINT64_MAX;
  epoll_ctl(l->epoll.get(), EPOLL_CTL_ADD, l->wake.get(), &ev);
  l->mailbox->wake.reset(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!l->mailbox->wake) return failed("eventfd");
  ev.data.u64 = UINT64_MAX - 2;
  epoll_ctl(l->epoll.get(), EPOLL_CTL_ADD, l->mailbox->wake.get(), &ev);
  l->heads_size = static_cast<size_t>(l->options.max_connections) * l->options.header_limit;
  void* m = mmap(nullptr, l->heads_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) return failed("mmap");
  l->heads = static_cast<char*>(m);
  l->conns.resize(l->options.max_connections);
  for (uint32_t i = l->options.max_connections; i-- > 0;) l->free_slots.push_back(i);
  s->loop_ = std::move(l);
  s->thread_ = std::thread([loop = s->loop_.get()] { loop->run(); });
  return s;
}

void http_server::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  (void)::write(loop_->wake.get(), &one, sizeof one);
  thread_.join();
}

http_server::~http_server() { stop(); }

}  // namespace synscope::exporter
