#include "active/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "active/listener.h"
#include "active/http_request.h"
#include "core/clock.h"
#include "core/unique_fd.h"

namespace synscope::active {
namespace {

constexpr int64_t tick_ns = 100 * core::ns_per_ms;       // how often timers are looked at
constexpr int64_t accept_pause_ns = 100 * core::ns_per_ms;  // after EMFILE and friends
constexpr size_t max_http_head = 16 * 1024;

}  // namespace

const char* serve_mode_name(serve_mode m) {
  switch (m) {
    case serve_mode::ack: return "ack";
    case serve_mode::echo: return "echo";
    case serve_mode::discard: return "discard";
    case serve_mode::http: return "http";
  }
  return "ack";
}

// What every thread adds to; read by stats() from any thread.
struct shared_counters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> idle_closed{0};
  std::atomic<uint64_t> accept_pauses{0};
  std::atomic<uint64_t> peak_active{0};
  std::mutex errors_mutex;
  std::map<int, uint64_t> errors;

  void error(int errnum) {
    std::lock_guard lock(errors_mutex);
    ++errors[errnum];
  }
  uint64_t opened() {
    uint64_t active = accepted.fetch_add(1, std::memory_order_relaxed) + 1 - closed.load(std::memory_order_relaxed);
    uint64_t peak = peak_active.load(std::memory_order_relaxed);
    while (active > peak && !peak_active.compare_exchange_weak(peak, active, std::memory_order_relaxed)) {
    }
    return active;
  }
};

struct server::loop {
  struct conn {
    core::unique_fd fd;
    std::string in;   // http: bytes of requests not yet answered
    std::string out;  // bytes to write
    size_t out_done = 0;
    int64_t last_ns = 0;
    bool close_after_write = false;
    bool want_write = false;
    bool registered = false;  // in the epoll set (a connection answered at once never is)
    bool sent_continue = false;  // "100 Continue" for the request being read
  };

  server_options options;
  shared_counters* counters = nullptr;
  core::unique_fd epoll;
  core::unique_fd wake;  // eventfd: stop() pokes it
  std::vector<core::unique_fd> listeners;
  std::unordered_map<int, conn> conns;
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> drain_deadline{0};
  bool accepting = true;
  int64_t resume_accept_ns = 0;
  int64_t next_sweep_ns = 0;

  bool is_listener(int fd) const {
    return std::any_of(listeners.begin(), listeners.end(), [&](const core::unique_fd& l) { return l.get() == fd; });
  }

  void arm_listeners(bool on) {
    for (auto& l : listeners) {
      epoll_event ev{};
      ev.events = on ? static_cast<uint32_t>(EPOLLIN) : 0u;
      ev.data.fd = l.get();
      epoll_ctl(epoll.get(), EPOLL_CTL_MOD, l.get(), &ev);
    }
    accepting = on;
  }

  void close_conn(int fd) {
    if (conns.erase(fd) > 0) counters->closed.fetch_add(1, std::memory_order_relaxed);
  }

  // Adds the connection to the epoll set, or changes what it waits for; false on failure.
  bool watch(conn& c, bool write) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0u);
    ev.data.fd = c.fd.get();
    if (epoll_ctl(epoll.get(), c.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c.fd.get(), &ev) != 0) {
      counters->error(errno);
      return false;
    }
    c.registered = true;
    c.want_write = write;
    return true;
  }

  void set_write_interest(conn& c, bool on) {
    if (c.want_write == on && c.registered) return;
    if (!c.registered && !on) return;  // not watched yet: accept_all() adds it for reading
    watch(c, on);
  }

  // Writes what is queued; false when the connection was closed.
  bool flush(conn& c) {
    // A last answer is sent corked: close() then tacks the FIN onto its segment, so the client
    // reads the answer and the end of the stream in one wakeup instead of two.
    int flags = MSG_NOSIGNAL | (c.close_after_write ? MSG_MORE : 0);
    while (c.out_done < c.out.size()) {
      ssize_t n = core::retry_on_eintr([&] { return send(c.fd.get(), c.out.data() + c.out_done, c.out.size() - c.out_done, flags); });
      if (n > 0) {
        c.out_done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set_write_interest(c, true);
        return true;
      }
      counters->error(errno);
      close_conn(c.fd.get());
      return false;
    }
    c.out.clear();
    c.out_done = 0;
    set_write_interest(c, false);
    if (c.close_after_write) {
      close_conn(c.fd.get());
      return false;
    }
    return true;
  }

  void http_requests(conn& c) {
    for (;;) {
      auto r = parse_http_request(c.in, max_http_head);
      switch (r.kind) {
        case http_parse::need_more:
          if (r.expect_continue && !c.sent_continue) {
            c.out += "HTTP/1.1 100 Continue\r\n\r\n";  // the client waits for it before the body
            c.sent_continue = true;
          }
          return;
        case http_parse::too_large:
          c.out += "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          c.close_after_write = true;
          c.in.clear();
          return;
        case http_parse::bad:
          c.out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          c.close_after_write = true;
          c.in.clear();
          return;
        case http_parse::request:
          break;
      }
      c.in.erase(0, r.consumed);
      c.sent_continue = false;
      c.out += fmt::format("HTTP/1.1 200 OK\r\nServer: synscope\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
                           "Connection: {}\r\n\r\n{}",
                           r.keep_alive ? "keep-alive" : "close", r.head ? "" : "OK\n");
      counters->requests.fetch_add(1, std::memory_order_relaxed);
      if (!r.keep_alive) {
        c.close_after_write = true;
        c.in.clear();
        return;
      }
    }
  }

  // Reads what is there and answers per mode; false when the connection was closed.
  bool readable(conn& c) {
    char buf[16384];
    for (;;) {
      ssize_t n = core::retry_on_eintr([&] { return read(c.fd.get(), buf, sizeof buf); });
      if (n > 0) {
        c.last_ns = core::monotonic_ns();
        switch (options.mode) {
          case serve_mode::ack:
            if (!c.close_after_write) {
              c.out += "ACK\n";
              c.close_after_write = true;
              counters->requests.fetch_add(1, std::memory_order_relaxed);
            }
            break;
          case serve_mode::echo:
            c.out.append(buf, static_cast<size_t>(n));
            break;
          case serve_mode::discard:
            break;
          case serve_mode::http:
            c.in.append(buf, static_cast<size_t>(n));
            http_requests(c);
            break;
        }
        if (c.close_after_write) break;  // answered: the rest is not read
        if (c.out.size() > (1u << 20)) break;  // a fast sender and a slow reader: write first
        continue;
      }
      if (n == 0) {  // the client closed: finish writing, then close
        c.close_after_write = true;
        break;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      counters->error(errno);
      close_conn(c.fd.get());
      return false;
    }
    return flush(c);
  }

  void accept_all(int listener) {
    while (accepting) {
      if (options.max_conns > 0 && conns.size() >= options.max_conns) {
        arm_listeners(false);  // the kernel keeps queueing; resumed when one closes
        return;
      }
      int fd = core::retry_on_eintr([&] { return accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC); });
      if (fd < 0) {
        if (errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        counters->error(errno);
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors or memory: stop asking for a while instead of spinning on a
          // listener that stays readable.
          counters->accept_pauses.fetch_add(1, std::memory_order_relaxed);
          arm_listeners(false);
          resume_accept_ns = core::monotonic_ns() + accept_pause_ns;
        }
        return;
      }
      counters->opened();
      if (options.mode == serve_mode::ack || options.mode == serve_mode::http) {
        // Delayed ACKs from the start: the answer carries the ACK of the request, one
        // segment less per connection (a new socket otherwise ACKs at once).
        int off = 0;
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off);
      }
      conn& c = conns[fd];
      c.fd = core::unique_fd(fd);
      c.last_ns = core::monotonic_ns();
      // Data is often there already (loopback, TCP_DEFER_ACCEPT, TFO): a connection answered
      // and closed by this first read never enters the epoll set.
      if (!readable(c)) continue;
      if (!c.registered && !watch(c, false)) close_conn(fd);
    }
  }

  void sweep(int64_t now) {
    if (options.idle_timeout_ns <= 0) return;
    std::vector<int> idle;
    for (const auto& [fd, c] : conns) {
      if (now - c.last_ns > options.idle_timeout_ns) idle.push_back(fd);
    }
    for (int fd : idle) {
      counters->idle_closed.fetch_add(1, std::memory_order_relaxed);
      close_conn(fd);
    }
  }

  void run() {
    epoll_event events[256];
    bool listening = true;
    for (;;) {
      int64_t now = core::monotonic_ns();
      if (stopping.load(std::memory_order_acquire)) {
        if (listening) {
          listeners.clear();  // closing them takes them out of the epoll set
          listening = false;
        }
        if (conns.empty() || now >= drain_deadline.load()) break;
      }
      int n = epoll_wait(epoll.get(), events, 256, static_cast<int>(tick_ns / core::ns_per_ms));
      if (n < 0 && errno != EINTR) break;
      for (int i = 0; i < n; ++i) {
        int fd = events[i].data.fd;
        if (fd == wake.get()) {
          uint64_t v = 0;
          if (read(fd, &v, sizeof v) < 0) {
            // nothing to do: the loop looks at `stopping` next
          }
          continue;
        }
        if (listening && is_listener(fd)) {
          accept_all(fd);
          continue;
        }
        auto it = conns.find(fd);
        if (it == conns.end()) continue;
        conn& c = it->second;
        if (events[i].events & EPOLLOUT) {
          if (!flush(c)) continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable(c);
      }
      now = core::monotonic_ns();
      if (listening && !accepting && now >= resume_accept_ns &&
          (options.max_conns == 0 || conns.size() < options.max_conns)) {
        arm_listeners(true);
      }
      if (now >= next_sweep_ns) {
        sweep(now);
        next_sweep_ns = now + tick_ns;
      }
    }
    counters->closed.fetch_add(conns.size(), std::memory_order_relaxed);
    conns.clear();
  }
};

namespace {

core::result<core::unique_fd> make_listener(const core::socket_address& addr, const server_options& o) {
  listen_options lo;
  lo.backlog = o.backlog;
  lo.reuseport = true;
  lo.defer_accept_s = o.defer_accept_s;
  lo.fastopen_qlen = o.fastopen_qlen;
  auto fd = active::make_listener(addr, lo, "serve");
  if (!fd) return fd.error();
  return std::move(*fd);
}

// Every listener is SO_REUSEPORT (one per thread), and the kernel lets any socket of the same
// user join such a group: a second `serve` (or an old one still running) on the same port would
// silently take half the connections. So first bind once without SO_REUSEPORT, as nginx does:
// EADDRINUSE then names the conflict before anything listens.
core::result<void> check_nobody_listens(const core::socket_address& addr) {
  core::unique_fd fd(socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return core::system_error("serve", "socket", errno);
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // TIME-WAIT is no conflict
  if (addr.family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd.get(), addr.data(), addr.size()) == 0) return {};
  int err = errno;
  auto e = core::system_error(fmt::format("cannot listen on {}", addr.to_string()), "bind", err);
  if (err == EADDRINUSE) e.message += ": a socket listens there already (ss -ltnp shows whose)";
  if (err == EACCES) e.code = core::exit_code::no_permission;
  return e;
}

}  // namespace

core::result<std::unique_ptr<server>> server::start(const server_options& options) {
  if (options.listen.empty()) return core::error{core::exit_code::usage, "serve: no address to listen on"};
  if (options.threads < 1 || options.threads > 256) {
    return core::error{core::exit_code::usage, fmt::format("--threads {}: between 1 and 256", options.threads)};
  }
  std::unique_ptr<server> s(new server());
  s->counters_ = std::make_unique<shared_counters>();
  shared_counters& counters = *s->counters_;
  std::vector<core::socket_address> addrs = options.listen;
  for (const auto& addr : addrs) {
    if (addr.port() == 0) continue;  // the kernel will choose a free one
    if (auto r = check_nobody_listens(addr); !r) return r.error();
  }
  for (int t = 0; t < options.threads; ++t) {
    auto l = std::make_unique<loop>();
    l->options = options;
    l->counters = &counters;
    l->epoll = core::unique_fd(epoll_create1(EPOLL_CLOEXEC));
    l->wake = core::unique_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!l->epoll || !l->wake) return core::system_error("serve", "epoll_create1/eventfd", errno);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = l->wake.get();
    epoll_ctl(l->epoll.get(), EPOLL_CTL_ADD, l->wake.get(), &ev);
    for (auto& addr : addrs) {
      auto fd = make_listener(addr, options);
      if (!fd) return fd.error();
      if (addr.port() == 0) {  // the kernel chose: every other thread binds the same port
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        getsockname(fd->get(), reinterpret_cast<sockaddr*>(&ss), &len);  // NOLINT
        addr = core::socket_address(reinterpret_cast<sockaddr*>(&ss), len);  // NOLINT
      }
      epoll_event lev{};
      lev.events = EPOLLIN;
      lev.data.fd = fd->get();
      epoll_ctl(l->epoll.get(), EPOLL_CTL_ADD, fd->get(), &lev);
      l->listeners.push_back(std::move(*fd));
    }
    s->loops_.push_back(std::move(l));
  }
  s->bound_ = addrs;
  for (auto& l : s->loops_) s->threads_.emplace_back([lp = l.get()] { lp->run(); });
  return s;
}

void server::stop(int64_t drain_ns) {
  if (stopped_) return;
  stopped_ = true;
  int64_t deadline = core::monotonic_ns() + drain_ns;
  for (auto& l : loops_) {
    l->drain_deadline.store(deadline);
    l->stopping.store(true, std::memory_order_release);
    uint64_t one = 1;
    if (write(l->wake.get(), &one, sizeof one) < 0) {
      // the loop also wakes on its own every tick
    }
  }
  for (auto& t : threads_) t.join();
  threads_.clear();
}

server::~server() { stop(0); }  // shared_counters is complete here

server_stats server::stats() const {
  shared_counters& c = *counters_;
  server_stats s;
  s.accepted = c.accepted.load();
  s.closed = c.closed.load();
  s.active = s.accepted >= s.closed ? s.accepted - s.closed : 0;
  s.peak_active = c.peak_active.load();
  s.requests = c.requests.load();
  s.idle_closed = c.idle_closed.load();
  s.accept_pauses = c.accept_pauses.load();
  std::lock_guard lock(c.errors_mutex);
  s.errors = c.errors;
  return s;
}

}  // namespace synscope::active
