#include "active/prober.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <optional>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/unique_fd.h"

namespace synscope::active {

const char* outcome_name(outcome o) {
  switch (o) {
    case outcome::connected: return "connected";
    case outcome::refused: return "refused";
    case outcome::timeout: return "timeout";
    case outcome::error: return "error";
  }
  return "error";
}

const char* tfo_use_name(tfo_use t) {
  switch (t) {
    case tfo_use::off: return "off";
    case tfo_use::cookie_requested: return "cookie_requested";
    case tfo_use::data_in_syn: return "data_in_syn";
    case tfo_use::client_disabled: return "client_disabled";
  }
  return "off";
}

double target_stats::loss_pct() const {
  return sent == 0 ? 0.0 : 100.0 * static_cast<double>(sent - connected) / static_cast<double>(sent);
}

bool probe_report::all_connected() const {
  uint64_t sent = 0;
  for (const auto& t : targets) {
    if (t.connected != t.sent) {
      return false;
    }
    sent += t.sent;
  }
  return sent > 0;
}

namespace {

// One attempt in flight.
struct slot {
  core::unique_fd fd;
  uint64_t generation = 0;  // tells a reused slot from the attempt a deadline entry names
  size_t target = 0;
  uint64_t seq = 0;
  int64_t start_ns = 0;     // monotonic, just before connect()/sendto()
  int64_t start_unix_ns = 0;
  int64_t deadline_ns = 0;
  size_t data_sent = 0;     // bytes of options.data already handed to the kernel
  size_t syn_data_bytes = 0;
  tfo_use tfo = tfo_use::off;
};

struct deadline_entry {
  size_t slot_index;
  uint64_t generation;
};

class probe_loop {
 public:
  probe_loop(const probe_options& options, const std::function<void(const attempt&)>& on_attempt,
             const std::atomic<bool>* stop)
      : options_(options), on_attempt_(on_attempt), stop_(stop), slots_(std::max(1u, options.concurrency)) {
    for (size_t i = slots_.size(); i-- > 0;) {
      free_.push_back(i);
    }
    report_.targets.resize(options.targets.size());
    for (size_t i = 0; i < options.targets.size(); ++i) {
      report_.targets[i].address = options.targets[i];
    }
  }

  core::result<probe_report> run() {
    epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_) {
      return core::system_error("probe", "epoll_create1", errno);
    }
    const size_t per_round = options_.targets.size();
    const uint64_t total = options_.count == 0 ? UINT64_MAX : options_.count * per_round;
    uint64_t started = 0;
    int64_t begin = core::monotonic_ns();
    int64_t next_due = begin;
    int64_t round_start = begin;
    std::array<epoll_event, 256> events{};

    for (;;) {
      if (stopped()) {
        report_.stopped = started < total || in_flight_ > 0;
        break;
      }
      int64_t now = core::monotonic_ns();
      while (started < total && !free_.empty() && now >= next_due) {
        if (started % per_round == 0) {
          round_start = now;
        }
        start_attempt(static_cast<size_t>(started % per_round), started / per_round + 1);
        ++started;
        if (started % per_round == 0) {
          next_due = round_start + options_.interval_ns;
        }
        now = core::monotonic_ns();
      }
      if (started >= total && in_flight_ == 0) {
        break;
      }
      // Sleep until the next start is due, the oldest attempt times out, or a socket is ready.
      int64_t wake = INT64_MAX;
      if (started < total && !free_.empty()) {
        wake = next_due;
      }
      if (auto oldest = oldest_deadline()) {
        wake = std::min(wake, *oldest);
      }
      int64_t wait_ns = wake == INT64_MAX ? options_.interval_ns : std::max<int64_t>(0, wake - now);
      timespec ts = core::to_timespec(wait_ns);
      int n = epoll_pwait2(epoll_.get(), events.data(), static_cast<int>(events.size()), &ts, nullptr);
      int64_t woke = core::monotonic_ns();
      if (n < 0) {
        if (errno == EINTR) {
          continue;  // a signal: the loop head checks *stop
        }
        return core::system_error("probe", "epoll_pwait2", errno);
      }
      for (int i = 0; i < n; ++i) {
        const epoll_event& ev = events[static_cast<size_t>(i)];
        size_t index = ev.data.u64 >> 32;
        uint64_t generation = ev.data.u64 & 0xffffffffu;
        slot& s = slots_[index];
        if (!s.fd || (s.generation & 0xffffffffu) != generation) {
          continue;  // finished earlier in this batch
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(s.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
        finish(index, woke, err);
      }
      expire(core::monotonic_ns());
    }
    // Attempts still in flight after a stop are abandoned, not counted.
    for (auto& s : slots_) {
      s.fd.reset();
    }
    report_.elapsed_ns = core::monotonic_ns() - begin;
    return std::move(report_);
  }

 private:
  [[nodiscard]] bool stopped() const { return stop_ != nullptr && stop_->load(std::memory_order_relaxed); }

  std::optional<int64_t> oldest_deadline() {
    while (!deadlines_.empty()) {
      const auto& d = deadlines_.front();
      const slot& s = slots_[d.slot_index];
      if (s.fd && s.generation == d.generation) {
        return s.deadline_ns;
      }
      deadlines_.pop_front();  // that attempt already finished
    }
    return std::nullopt;
  }

  // Every attempt has the same timeout, so deadlines expire in start order.
  void expire(int64_t now) {
    while (auto oldest = oldest_deadline()) {
      if (*oldest > now) {
        return;
      }
      size_t index = deadlines_.front().slot_index;
      deadlines_.pop_front();
      finish(index, now, ETIMEDOUT);
    }
  }

  void start_attempt(size_t target, uint64_t seq) {
    size_t index = free_.back();
    free_.pop_back();
    slot& s = slots_[index];
    s.generation = ++generation_;
    s.target = target;
    s.seq = seq;
    s.data_sent = 0;
    s.syn_data_bytes = 0;
    s.tfo = tfo_use::off;
    ++in_flight_;

    const core::socket_address& addr = options_.targets[target];
    s.start_unix_ns = core::realtime_ns();
    s.fd.reset(socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!s.fd) {
      s.start_ns = core::monotonic_ns();
      finish(index, s.start_ns, errno);
      return;
    }
    if (auto r = apply_client_options(s.fd.get(), addr.family(), options_.socket); !r) {
      // Options were validated before the run; a failure here is the system's (EPERM, ...).
      s.start_ns = core::monotonic_ns();
      finish(index, s.start_ns, errno != 0 ? errno : EINVAL);
      return;
    }

    int err = 0;
    bool done = false;
    s.start_ns = core::monotonic_ns();
    if (options_.fastopen) {
      // With a cached cookie the data rides on the SYN and sendto() returns its length;
      // without one the SYN carries a cookie request and sendto() fails with EINPROGRESS.
      ssize_t n = sendto(s.fd.get(), options_.data.data(), options_.data.size(), MSG_FASTOPEN | MSG_NOSIGNAL,
                         addr.data(), addr.size());
      if (n >= 0) {
        s.tfo = tfo_use::data_in_syn;
        s.data_sent = s.syn_data_bytes = static_cast<size_t>(n);
      } else if (errno == EINPROGRESS) {
        s.tfo = tfo_use::cookie_requested;
      } else if (errno == EOPNOTSUPP) {
        s.tfo = tfo_use::client_disabled;
        s.start_ns = core::monotonic_ns();
        done = plain_connect(s, addr, err);
      } else {
        err = errno;
        done = true;
      }
    } else {
      done = plain_connect(s, addr, err);
    }
    if (!done) {
      // Loopback and very near peers often finish the handshake inside connect(): one
      // zero-timeout poll then ends the attempt without the epoll round trip.
      pollfd p{s.fd.get(), POLLOUT, 0};
      if (poll(&p, 1, 0) == 1) {
        socklen_t len = sizeof err;
        if (getsockopt(s.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
          err = errno;
        }
        done = true;
      }
    }
    int64_t now = core::monotonic_ns();
    if (done) {
      finish(index, now, err);
      return;
    }
    s.deadline_ns = s.start_ns + options_.timeout_ns;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = (static_cast<uint64_t>(index) << 32) | (s.generation & 0xffffffffu);
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.fd.get(), &ev) != 0) {
      finish(index, now, errno);
      return;
    }
    deadlines_.push_back({index, s.generation});
  }

  // connect(); true when it finished at once (loopback often completes inside the syscall).
  static bool plain_connect(slot& s, const core::socket_address& addr, int& err) {
    if (connect(s.fd.get(), addr.data(), addr.size()) == 0) {
      err = 0;
      return true;
    }
    if (errno == EINPROGRESS) {
      return false;
    }
    err = errno;
    return true;
  }

  void finish(size_t index, int64_t now, int err) {
    slot& s = slots_[index];
    attempt a;
    a.target = s.target;
    a.seq = s.seq;
    a.started_unix_ns = s.start_unix_ns;
    a.elapsed_ns = now - s.start_ns;
    a.tfo = s.tfo;
    a.syn_data_bytes = s.syn_data_bytes;
    a.error_number = err;
    if (s.fd) {
      a.kernel = kernel::read_tcp_info(s.fd.get());
      sockaddr_storage local{};
      socklen_t len = sizeof local;
      if (getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&local), &len) == 0 &&  // NOLINT
          len <= sizeof local) {
        a.local = core::socket_address(reinterpret_cast<sockaddr*>(&local), len);  // NOLINT
      }
    }
    if (err == 0) {
      a.result = outcome::connected;
      a.syn_data_acked = a.syn_data_bytes > 0 && kernel::syn_data_acked(a.kernel);
      send_rest(s);
    } else if (err == ECONNREFUSED) {
      a.result = outcome::refused;
    } else if (err == ETIMEDOUT) {
      a.result = outcome::timeout;
    } else {
      a.result = outcome::error;
    }
    a.syn_retransmits = a.kernel.total_retrans;
    if (a.syn_data_bytes > 0 && !a.syn_data_acked && a.result == outcome::connected && a.syn_retransmits > 0) {
      // Data the SYN-ACK did not acknowledge is retransmitted right after the handshake and
      // counted in tcpi_total_retrans: that one is not a SYN retransmission.
      --a.syn_retransmits;
    }
    if (s.fd && options_.socket.reset_on_close) {
      set_linger_zero(s.fd.get());
    }
    s.fd.reset();
    free_.push_back(index);
    --in_flight_;
    record(a);
    on_attempt_(a);
  }

  // Sends whatever of options.data did not ride on the SYN.
  void send_rest(slot& s) {
    if (s.data_sent >= options_.data.size()) {
      return;
    }
    (void)send(s.fd.get(), options_.data.data() + s.data_sent, options_.data.size() - s.data_sent,
               MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  void record(const attempt& a) {
    target_stats& t = report_.targets[a.target];
    ++t.sent;
    switch (a.result) {
      case outcome::connected:
        ++t.connected;
        t.handshake.record(a.elapsed_ns);
        (a.syn_retransmits == 0 ? t.clean : t.retransmitted).record(a.elapsed_ns);
        if (a.kernel_rtt_known()) {
          t.kernel_rtt.record(static_cast<int64_t>(a.kernel.rtt_us) * core::ns_per_us);
        }
        break;
      case outcome::refused: ++t.refused; break;
      case outcome::timeout: ++t.timed_out; break;
      case outcome::error:
        ++t.errors;
        ++t.errors_by_name[core::errno_name(a.error_number)];
        break;
    }
    if (a.tfo == tfo_use::cookie_requested) ++t.tfo_cookie_requested;
    if (a.tfo == tfo_use::data_in_syn) ++t.tfo_data_in_syn;
    if (a.syn_data_acked) ++t.tfo_data_acked;
  }

  const probe_options& options_;
  const std::function<void(const attempt&)>& on_attempt_;
  const std::atomic<bool>* stop_;
  core::unique_fd epoll_;
  std::vector<slot> slots_;
  std::vector<size_t> free_;
  std::deque<deadline_entry> deadlines_;
  uint64_t generation_ = 0;
  size_t in_flight_ = 0;
  probe_report report_;
};

}  // namespace

core::result<probe_report> run_probe(const probe_options& options,
                                     const std::function<void(const attempt&)>& on_attempt,
                                     const std::atomic<bool>* stop) {
  if (options.targets.empty()) {
    return core::error{core::exit_code::usage, "probe: no target"};
  }
  // Try the socket options once per address family before the run, so that a refused option
  // (--mark without CAP_NET_ADMIN, --bind to an address this host lacks) is one clear error
  // rather than an error on every attempt.
  for (int family : {AF_INET, AF_INET6}) {
    bool used = std::any_of(options.targets.begin(), options.targets.end(),
                            [&](const core::socket_address& a) { return a.family() == family; });
    if (!used) {
      continue;
    }
    core::unique_fd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
    if (!fd) {
      return core::system_error("probe", "socket", errno);
    }
    if (auto r = apply_client_options(fd.get(), family, options.socket); !r) {
      return r.error();
    }
  }
  if (auto r = reserve_descriptors(options.concurrency); !r) return r.error();
  probe_loop loop(options, on_attempt, stop);
  return loop.run();
}

}  // namespace synscope::active
