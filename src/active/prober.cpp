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
  handshake h;
  bool busy = false;
  uint64_t generation = 0;  // tells a reused slot from the attempt a deadline entry names
  size_t target = 0;
  uint64_t seq = 0;
  int64_t start_unix_ns = 0;
  int64_t deadline_ns = 0;
  size_t data_sent = 0;     // bytes of options.data already handed to the kernel
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
        if (!s.busy || (s.generation & 0xffffffffu) != generation) {
          continue;  // finished earlier in this batch
        }
        s.h.complete(woke);
        finish(index);
      }
      expire(core::monotonic_ns());
    }
    // Attempts still in flight after a stop are abandoned, not counted.
    for (auto& s : slots_) {
      s.h.close();
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
      if (s.busy && s.generation == d.generation) {
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
      slots_[index].h.fail(ETIMEDOUT, now);
      finish(index);
    }
  }

  void start_attempt(size_t target, uint64_t seq) {
    size_t index = free_.back();
    free_.pop_back();
    slot& s = slots_[index];
    s.busy = true;
    s.generation = ++generation_;
    s.target = target;
    s.seq = seq;
    ++in_flight_;
    s.start_unix_ns = core::realtime_ns();
    connect_options co;
    co.socket = options_.socket;
    co.fastopen = options_.fastopen;
    co.data = options_.data;
    bool done = s.h.start(options_.targets[target], co);
    s.data_sent = s.h.syn_data_bytes();
    if (done) {
      finish(index);
      return;
    }
    s.deadline_ns = s.h.start_ns() + options_.timeout_ns;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = (static_cast<uint64_t>(index) << 32) | (s.generation & 0xffffffffu);
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, s.h.fd(), &ev) != 0) {
      s.h.fail(errno, core::monotonic_ns());
      finish(index);
      return;
    }
    deadlines_.push_back({index, s.generation});
  }

  void finish(size_t index) {
    slot& s = slots_[index];
    int err = s.h.error();
    attempt a;
    a.target = s.target;
    a.seq = s.seq;
    a.started_unix_ns = s.start_unix_ns;
    a.elapsed_ns = s.h.elapsed_ns();
    a.tfo = s.h.tfo();
    a.syn_data_bytes = s.h.syn_data_bytes();
    a.error_number = err;
    if (s.h.fd() >= 0) {
      a.kernel = s.h.kernel_view();
      sockaddr_storage local{};
      socklen_t len = sizeof local;
      if (getsockname(s.h.fd(), reinterpret_cast<sockaddr*>(&local), &len) == 0 &&  // NOLINT
          len <= sizeof local) {
        a.local = core::socket_address(reinterpret_cast<sockaddr*>(&local), len);  // NOLINT
      }
    }
    if (s.h.fd() >= 0 && (err == 0 || err == ECONNREFUSED)) {
      a.client_isn = read_client_isn(s.h.fd(), static_cast<uint32_t>(a.syn_data_bytes));
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
    if (s.h.fd() >= 0 && options_.socket.reset_on_close) {
      set_linger_zero(s.h.fd());
    }
    s.h.close();
    s.busy = false;
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
    (void)send(s.h.fd(), options_.data.data() + s.data_sent, options_.data.size() - s.data_sent,
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
