#include "active/load.h"

#include "active/http_response.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "active/connector.h"
#include "active/socket_options.h"
#include "core/clock.h"
#include "core/unique_fd.h"

namespace synscope::active {
namespace {

bool is_http_request(const std::string& data) {
  for (const char* m : {"GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS "}) {
    if (data.rfind(m, 0) == 0) return true;
  }
  return false;
}

struct attempt {
  enum class stage : uint8_t { free, connecting, sending, receiving, idle };
  stage st = stage::free;
  handshake h;        // the connect, until it completes
  core::unique_fd fd; // the connection after it
  bool watched = false;  // the socket is in the epoll set
  int64_t due_ns = 0;
  int64_t deadline_ns = 0;
  size_t sent = 0;
  std::string reply;
  bool established = false;
  bool data_in_syn = false;
};

class worker {
 public:
  worker(const load_options& o, int index, uint64_t quota, int concurrency, int64_t t0)
      : o_(o), index_(index), quota_(quota), slots_(static_cast<size_t>(concurrency)), t0_(t0),
        http_(is_http_request(o.data)), head_request_(o.data.rfind("HEAD ", 0) == 0) {
    report_.handshake = core::histogram();
    report_.request = core::histogram();
  }

  core::result<void> run(const std::atomic<bool>& stop) {
    epoll_ = core::unique_fd(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) return core::system_error("bench", "epoll_create1", errno);
    std::vector<epoll_event> events(slots_.size() + 1);
    // Closed loop: nothing starts after the duration. Open loop: the schedule holds the
    // attempts due within the duration; one due while every slot was busy starts late (its
    // latency still counts from when it was due) until `timeout` after the duration, and what
    // is still unstarted then is reported as not started, not silently dropped.
    int64_t end_ns = o_.duration_ns > 0 ? t0_ + o_.duration_ns : INT64_MAX;
    int64_t start_until = o_.rate > 0 && end_ns != INT64_MAX ? end_ns + o_.timeout_ns : end_ns;
    for (;;) {
      int64_t now = core::monotonic_ns();
      bool may_start = !stop.load(std::memory_order_relaxed) && started_ < quota_ && now < start_until;
      if (may_start) start_due(now, end_ns);
      size_t busy = std::count_if(slots_.begin(), slots_.end(), [](const attempt& a) {
        return a.st != attempt::stage::free && a.st != attempt::stage::idle;
      });
      if (busy == 0 && !(may_start && started_ < quota_)) break;
      int64_t wait = 10 * core::ns_per_ms;
      if (o_.rate > 0 && may_start) wait = std::clamp<int64_t>(next_due() - now, 0, wait);
      // A handshake that completed inside connect() leaves its slot free at once: a closed
      // loop starts the next attempt without waiting.
      if (o_.rate <= 0 && may_start && started_ < quota_ && busy < slots_.size()) wait = 0;
      timespec ts{0, static_cast<long>(wait)};
      int n = epoll_pwait2(epoll_.get(), events.data(), static_cast<int>(events.size()), &ts, nullptr);
      if (n < 0 && errno != EINTR) return core::system_error("bench", "epoll_pwait2", errno);
      for (int i = 0; i < n; ++i) on_event(slots_[events[static_cast<size_t>(i)].data.u32], events[static_cast<size_t>(i)].events);
      expire(core::monotonic_ns());
    }
    for (auto& a : slots_) a.fd.reset();  // pooled connections
    if (o_.rate > 0 && quota_ != UINT64_MAX) report_.not_started = quota_ - started_;
    return {};
  }

  load_report& report() { return report_; }
  [[nodiscard]] uint64_t finished() const { return finished_.load(std::memory_order_relaxed); }

 private:
  int64_t next_due() const {
    // Thread `index_` of `threads` takes attempts index_, index_ + threads, ... of the schedule.
    double k = static_cast<double>(started_ * static_cast<uint64_t>(o_.threads) + static_cast<uint64_t>(index_));
    return t0_ + static_cast<int64_t>(k * 1e9 / o_.rate);
  }

  void start_due(int64_t now, int64_t end_ns) {
    for (uint32_t i = 0; i < slots_.size() && started_ < quota_; ++i) {
      attempt& a = slots_[i];
      if (a.st != attempt::stage::free && a.st != attempt::stage::idle) continue;
      int64_t due = now;
      if (o_.rate > 0) {
        due = next_due();
        if (due > now) return;
        if (due >= end_ns) {  // past the schedule: the quota was rate x duration, rounded
          quota_ = started_;
          return;
        }
      }
      ++started_;
      begin(a, i, due);
    }
  }

  void watch(attempt& a, uint32_t slot, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u32 = slot;
    int fd = a.st == attempt::stage::connecting ? a.h.fd() : a.fd.get();
    epoll_ctl(epoll_.get(), a.watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    a.watched = true;
  }

  // The handshake completed: timed, then the request (or, for connect, done).
  void established(attempt& a, uint32_t slot, int64_t now) {
    a.established = true;
    report_.handshake.record(a.h.elapsed_ns());
    a.fd = a.h.release();
    if (o_.mode == load_mode::connect) return succeed(a, now);
    if (a.data_in_syn) ++report_.data_in_syn;
    a.st = attempt::stage::sending;
    send_data(a, slot);
  }

  void begin(attempt& a, uint32_t slot, int64_t due) {
    a.due_ns = due;
    a.deadline_ns = core::monotonic_ns() + o_.timeout_ns;
    a.reply.clear();
    a.sent = 0;
    a.data_in_syn = false;
    if (a.st == attempt::stage::idle) {  // pooled: the next request on an open connection
      a.st = attempt::stage::sending;
      send_data(a, slot);
      return;
    }
    a.established = false;
    a.watched = false;
    connect_options co;
    if (!o_.sources.empty()) co.source = &o_.sources[next_source_++ % o_.sources.size()];
    co.fastopen = o_.fastopen && o_.mode != load_mode::connect;
    co.data = o_.data;
    bool done = a.h.start(o_.target, co);
    if (a.h.fd() >= 0) ++report_.connections;
    a.sent = a.h.syn_data_bytes();
    a.data_in_syn = a.sent > 0;
    a.st = attempt::stage::connecting;
    if (done) {
      if (!a.h.connected()) return fail(a, a.h.error());
      return established(a, slot, core::monotonic_ns());
    }
    watch(a, slot, EPOLLOUT | EPOLLIN);
  }

  void send_data(attempt& a, uint32_t slot) {
    while (a.sent < o_.data.size()) {
      ssize_t n = core::retry_on_eintr([&] { return send(a.fd.get(), o_.data.data() + a.sent, o_.data.size() - a.sent, MSG_NOSIGNAL); });
      if (n > 0) {
        a.sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(a, slot, EPOLLOUT | EPOLLIN);
        return;
      }
      return fail(a, n == 0 ? error_closed_early : errno);
    }
    a.st = attempt::stage::receiving;
    watch(a, slot, EPOLLIN);
  }

  void on_event(attempt& a, uint32_t events) {
    uint32_t slot = static_cast<uint32_t>(&a - slots_.data());
    if (a.st == attempt::stage::idle) {  // a pooled connection the server closed: reopen next time
      a.fd.reset();
      a.st = attempt::stage::free;
      return;
    }
    if (a.st == attempt::stage::connecting) {
      if (!(events & (EPOLLOUT | EPOLLIN | EPOLLERR | EPOLLHUP))) return;
      a.h.complete(core::monotonic_ns());
      if (!a.h.connected()) return fail(a, a.h.error());
      return established(a, slot, core::monotonic_ns());
    }
    if (a.st == attempt::stage::sending) {
      send_data(a, slot);
      return;
    }
    if (a.st == attempt::stage::receiving) {
      char buf[16384];
      for (;;) {
        ssize_t n = core::retry_on_eintr([&] { return read(a.fd.get(), buf, sizeof buf); });
        if (n > 0) {
          a.reply.append(buf, static_cast<size_t>(n));
          if (!http_) return succeed(a, core::monotonic_ns());
          if (answered(a, false)) return;
          continue;
        }
        if (n == 0) {
          if (http_ && !a.reply.empty() && answered(a, true)) return;
          return fail(a, a.reply.empty() ? error_closed_early : error_bad_reply);
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        return fail(a, errno);
      }
    }
  }

  // An HTTP reply so far: true when the attempt is over (a whole response, counted by status, or
  // a malformed one).
  bool answered(attempt& a, bool at_eof) {
    auto r = parse_http_response(a.reply, head_request_, at_eof);
    if (r.kind == http_reply::need_more) return false;
    if (r.kind == http_reply::bad) {
      fail(a, error_bad_reply);
      return true;
    }
    ++report_.http_status[r.status];
    if (r.chunked) ++report_.chunked_replies;
    succeed(a, core::monotonic_ns());
    return true;
  }

  void succeed(attempt& a, int64_t now) {
    report_.request.record(now - a.due_ns);
    ++report_.succeeded;
    finished_.fetch_add(1, std::memory_order_relaxed);
    if (o_.mode == load_mode::pooled) {
      a.st = attempt::stage::idle;
      watch(a, static_cast<uint32_t>(&a - slots_.data()), EPOLLIN | EPOLLRDHUP);
      return;
    }
    a.fd.reset();  // a normal close: this side keeps the TIME-WAIT, as real clients do
    a.st = attempt::stage::free;
  }

  void fail(attempt& a, int e) {
    ++report_.failed;
    ++report_.errors[e];
    finished_.fetch_add(1, std::memory_order_relaxed);
    a.h.close();
    a.fd.reset();
    a.st = attempt::stage::free;
  }

  void expire(int64_t now) {
    for (auto& a : slots_) {
      if (a.st != attempt::stage::free && a.st != attempt::stage::idle && now > a.deadline_ns) fail(a, error_timeout);
    }
  }

  const load_options& o_;
  int index_;
  uint64_t quota_;
  std::vector<attempt> slots_;
  int64_t t0_;
  bool http_;
  bool head_request_;
  core::unique_fd epoll_;
  uint64_t started_ = 0;
  size_t next_source_ = 0;
  std::atomic<uint64_t> finished_{0};
  load_report report_;
};

}  // namespace

const char* load_mode_name(load_mode m) {
  switch (m) {
    case load_mode::connect: return "connect";
    case load_mode::request: return "request";
    case load_mode::pooled: return "pooled";
  }
  return "connect";
}

std::string load_error_name(int e) {
  if (e == error_timeout) return "timeout";
  if (e == error_closed_early) return "closed before reply";
  if (e == error_bad_reply) return "malformed HTTP reply";
  return core::errno_name(e);
}

core::result<std::vector<core::socket_address>> parse_source_range(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return core::error{core::exit_code::usage, fmt::format("--source '{}': {}", core::printable(text), why)};
  };
  std::vector<core::socket_address> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = item.find('-');
    in_addr lo{};
    in_addr hi{};
    if (inet_pton(AF_INET, item.substr(0, dash).c_str(), &lo) != 1 ||
        (dash != std::string::npos && inet_pton(AF_INET, item.substr(dash + 1).c_str(), &hi) != 1)) {
      sockaddr_in6 a6{};
      a6.sin6_family = AF_INET6;
      if (dash == std::string::npos && inet_pton(AF_INET6, item.c_str(), &a6.sin6_addr) == 1) {
        out.emplace_back(reinterpret_cast<sockaddr*>(&a6), static_cast<socklen_t>(sizeof a6));  // NOLINT
      } else {
        return bad("expected IPv4 addresses or ranges (127.0.0.2-127.0.0.60), or IPv6 addresses, separated by commas");
      }
    } else {
      uint32_t first = ntohl(lo.s_addr);
      uint32_t last = dash == std::string::npos ? first : ntohl(hi.s_addr);
      if (last < first) return bad("the range ends before it starts");
      if (last - first >= 65536 || out.size() + (last - first) >= 65536) return bad("more than 65536 addresses");
      for (uint64_t a = first; a <= last; ++a) {
        sockaddr_in s{};
        s.sin_family = AF_INET;
        s.sin_addr.s_addr = htonl(static_cast<uint32_t>(a));
        out.emplace_back(reinterpret_cast<sockaddr*>(&s), static_cast<socklen_t>(sizeof s));  // NOLINT
      }
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

core::result<load_report> run_load(const load_options& options, const std::atomic<bool>& stop,
                                   const load_progress& progress) {
  if (options.count == 0 && options.duration_ns <= 0) {
    return core::error{core::exit_code::usage, "bench: give -n COUNT or --duration (every run is bounded)"};
  }
  if (options.concurrency < 1 || options.threads < 1 || options.threads > options.concurrency) {
    return core::error{core::exit_code::usage, "bench: --threads must be between 1 and -c"};
  }
  if (options.rate < 0 || !std::isfinite(options.rate)) return core::error{core::exit_code::usage, "bench: bad --rate"};
  for (const auto& s : options.sources) {
    if (s.family() != options.target.family()) {
      return core::error{core::exit_code::usage,
                         fmt::format("--source {}: not of the target's address family", s.host_string())};
    }
  }
  if (auto r = reserve_descriptors(options.concurrency); !r) return r.error();
  uint64_t count = options.count;
  if (count == 0 && options.rate > 0) count = static_cast<uint64_t>(options.rate * static_cast<double>(options.duration_ns) / 1e9);
  uint64_t quota_all = count == 0 ? UINT64_MAX : count;
  int64_t t0 = core::monotonic_ns();
  std::vector<std::unique_ptr<worker>> workers;
  for (int t = 0; t < options.threads; ++t) {
    uint64_t quota = quota_all == UINT64_MAX ? UINT64_MAX
                                              : quota_all / static_cast<uint64_t>(options.threads) +
                                                    (static_cast<uint64_t>(t) < quota_all % static_cast<uint64_t>(options.threads) ? 1 : 0);
    int c = options.concurrency / options.threads + (t < options.concurrency % options.threads ? 1 : 0);
    workers.push_back(std::make_unique<worker>(options, t, quota, c, t0));
  }
  std::vector<core::result<void>> results(workers.size());
  std::vector<std::thread> threads;
  std::atomic<int> running{static_cast<int>(workers.size())};
  for (size_t i = 0; i < workers.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = workers[i]->run(stop);
      running.fetch_sub(1);
    });
  }
  while (running.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (progress) {
      uint64_t done = 0;
      for (const auto& w : workers) done += w->finished();
      progress(done, count);
    }
  }
  for (auto& t : threads) t.join();
  load_report total;
  total.elapsed_ns = core::monotonic_ns() - t0;
  for (size_t i = 0; i < workers.size(); ++i) {
    if (!results[i]) return results[i].error();
    load_report& r = workers[i]->report();
    total.succeeded += r.succeeded;
    total.failed += r.failed;
    total.connections += r.connections;
    total.data_in_syn += r.data_in_syn;
    total.not_started += r.not_started;
    for (const auto& [e, n] : r.errors) total.errors[e] += n;
    for (const auto& [code, n] : r.http_status) total.http_status[code] += n;
    total.chunked_replies += r.chunked_replies;
    total.handshake.merge(r.handshake);
    total.request.merge(r.request);
  }
  total.started = total.succeeded + total.failed;
  return total;
}

}  // namespace synscope::active
