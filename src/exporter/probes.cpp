#include "exporter/probes.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "active/connector.h"
#include "core/clock.h"
#include "kernel/tcp_info.h"

namespace synscope::exporter {

const char* probe_failure_name(probe_failure f) {
  switch (f) {
    case probe_failure::refused: return "refused";
    case probe_failure::unreachable: return "unreachable";
    case probe_failure::timeout: return "timeout";
    case probe_failure::local: return "local";
  }
  return "local";
}

const std::vector<double>& probe_buckets() {
  // From 10 us: a loopback or LAN handshake takes tens of microseconds.
  static const std::vector<double> b = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                        0.01,    0.025,    0.05,    0.1,    0.25,    0.5,    1,     2.5,    5};
  return b;
}

probe_scheduler::probe_scheduler(std::vector<probe_target> targets, int64_t timeout_ns, int64_t interval_ns)
    : targets_(std::move(targets)), timeout_ns_(timeout_ns), interval_ns_(std::max<int64_t>(interval_ns, timeout_ns)) {
  results_.resize(targets_.size());
  for (auto& r : results_) r.buckets.assign(probe_buckets().size(), 0);
}

void probe_scheduler::start() {
  if (!targets_.empty() && !thread_.joinable()) thread_ = std::thread([this] { run(); });
}

probe_scheduler::~probe_scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<probe_result> probe_scheduler::results() const {
  std::lock_guard lock(mutex_);
  return results_;
}

void probe_scheduler::run() {
  for (;;) {
    int64_t started = core::monotonic_ns();
    round();
    std::unique_lock lock(mutex_);
    int64_t left = interval_ns_ - (core::monotonic_ns() - started);
    if (wake_.wait_for(lock, std::chrono::nanoseconds(std::max<int64_t>(left, 0)), [&] { return stopping_; })) return;
  }
}

probe_failure failure_of(int err) {
  if (err == ECONNREFUSED) return probe_failure::refused;
  if (err == EHOSTUNREACH || err == ENETUNREACH || err == EHOSTDOWN || err == ENETDOWN || err == EPROTO ||
      err == ENOPROTOOPT || err == ECONNRESET)
    return probe_failure::unreachable;
  if (err == ETIMEDOUT) return probe_failure::timeout;
  return probe_failure::local;
}

std::vector<active::handshake> handshake_all(const std::vector<core::socket_address>& addresses,
                                             const active::connect_options& options, int64_t deadline_ns,
                                             const std::function<bool()>& stop) {
  // The handshake as probe and bench time it (active::handshake).
  std::vector<active::handshake> a(addresses.size());
  for (size_t i = 0; i < addresses.size(); ++i) (void)a[i].start(addresses[i], options);
  for (;;) {
    std::vector<pollfd> p;
    std::vector<size_t> which;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].done()) continue;
      p.push_back({a[i].fd(), POLLOUT, 0});
      which.push_back(i);
    }
    int64_t left = deadline_ns - core::monotonic_ns();
    if (p.empty() || left <= 0) break;
    int n = poll(p.data(), p.size(), static_cast<int>(std::clamp<int64_t>(left / core::ns_per_ms, 1, 100)));
    if (n < 0 && errno != EINTR) break;
    int64_t now = core::monotonic_ns();
    for (size_t k = 0; k < p.size(); ++k) {
      if (p[k].revents != 0) a[which[k]].complete(now);
    }
    if (stop && stop()) {
      for (auto& h : a) {
        if (!h.done()) h.fail(EINTR, now);
      }
      return a;
    }
  }
  int64_t now = core::monotonic_ns();
  for (auto& h : a) {
    if (!h.done()) h.fail(ETIMEDOUT, now);
  }
  return a;
}

// One handshake with every target at once; each ends with a RST (SO_LINGER 0), so that a probe
// every interval piles up no TIME-WAIT here.
void probe_scheduler::round() {
  std::vector<core::socket_address> addresses;
  for (const auto& t : targets_) addresses.push_back(t.address);
  bool stopped = false;
  auto a = handshake_all(addresses, {}, core::monotonic_ns() + timeout_ns_, [&] {
    std::lock_guard lock(mutex_);
    return stopped = stopping_;
  });
  if (stopped) return;
  int64_t done = core::monotonic_ns();
  // The SYNs sent again, read before the sockets close (a timed-out probe of a silent target
  // resends its SYN after 1 s; TcpExt_TCPSynRetrans counts each).
  std::vector<uint32_t> resent(a.size(), 0);
  for (size_t i = 0; i < a.size(); ++i) {
    resent[i] = a[i].kernel_view().total_retrans;
    if (a[i].fd() >= 0) active::set_linger_zero(a[i].fd());
  }
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < a.size(); ++i) {
    probe_result& r = results_[i];
    ++r.attempts;
    r.ran = true;
    r.last_done_ns = done;
    r.syn_retransmits += resent[i];
    r.last_ok = a[i].connected();
    if (!r.last_ok) {
      ++r.failures[static_cast<size_t>(failure_of(a[i].error()))];
      continue;
    }
    double t = static_cast<double>(a[i].elapsed_ns()) / 1e9;
    r.last_seconds = t;
    ++r.count;
    r.sum_seconds += t;
    for (size_t b = 0; b < probe_buckets().size(); ++b) {
      if (t <= probe_buckets()[b]) ++r.buckets[b];
    }
  }
}

}  // namespace synscope::exporter
