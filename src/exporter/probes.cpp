#include "exporter/probes.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "core/clock.h"
#include "core/unique_fd.h"

namespace synscope::exporter {

const std::vector<double>& probe_buckets() {
  static const std::vector<double> b = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                        0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
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

// One handshake with every target at once; each ends with a RST (SO_LINGER 0), so that a probe
// every interval piles up no TIME-WAIT here.
void probe_scheduler::round() {
  struct attempt {
    core::unique_fd fd;
    int64_t start = 0;
    double seconds = -1;  // < 0: not completed
    bool done = false;
  };
  std::vector<attempt> a(targets_.size());
  for (size_t i = 0; i < targets_.size(); ++i) {
    const auto& t = targets_[i].address;
    a[i].fd.reset(socket(t.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!a[i].fd) {
      a[i].done = true;
      continue;
    }
    linger lg{1, 0};
    setsockopt(a[i].fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    a[i].start = core::monotonic_ns();
    if (connect(a[i].fd.get(), t.data(), t.size()) != 0 && errno != EINPROGRESS) a[i].done = true;
  }
  int64_t deadline = core::monotonic_ns() + timeout_ns_;
  for (;;) {
    std::vector<pollfd> p;
    std::vector<size_t> which;
    for (size_t i = 0; i < a.size(); ++i) {
      if (a[i].done) continue;
      p.push_back({a[i].fd.get(), POLLOUT, 0});
      which.push_back(i);
    }
    int64_t left = deadline - core::monotonic_ns();
    if (p.empty() || left <= 0) break;
    int n = poll(p.data(), p.size(), static_cast<int>(std::max<int64_t>(1, left / core::ns_per_ms)));
    if (n < 0 && errno != EINTR) break;
    int64_t now = core::monotonic_ns();
    for (size_t k = 0; k < p.size(); ++k) {
      if (p[k].revents == 0) continue;
      attempt& at = a[which[k]];
      at.done = true;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(at.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) at.seconds = static_cast<double>(now - at.start) / 1e9;
    }
    std::lock_guard lock(mutex_);
    if (stopping_) return;
  }
  int64_t done = core::monotonic_ns();
  std::lock_guard lock(mutex_);
  for (size_t i = 0; i < a.size(); ++i) {
    probe_result& r = results_[i];
    ++r.attempts;
    r.ran = true;
    r.last_done_ns = done;
    r.last_ok = a[i].seconds >= 0;
    if (!r.last_ok) {
      ++r.failures;
      continue;
    }
    double t = a[i].seconds;
    r.last_seconds = t;
    ++r.count;
    r.sum_seconds += t;
    for (size_t b = 0; b < probe_buckets().size(); ++b) {
      if (t <= probe_buckets()[b]) ++r.buckets[b];
    }
  }
}

}  // namespace synscope::exporter
