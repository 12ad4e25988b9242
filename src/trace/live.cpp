// The loop polls the ring buffer at most 100 ms at a time, so the count, the duration and an
// interrupt are seen within a tenth of a second, and a second's line is never late by more.
#include "trace/live.h"

#include "core/clock.h"

namespace synscope::trace {

using core::monotonic_ns;

namespace {

// The kernel's numbers for the reasons a full accept queue's drops are given (docs/trace.md).
overflow_reasons overflow_reasons_of(const reason_names& names) {
  overflow_reasons o;
  o.listen_overflow = names.drop_number("TCP_LISTEN_OVERFLOW");
  if (auto n = names.drop_number("NO_SOCKET")) o.when_completing.push_back(*n);
  if (!o.listen_overflow) {  // before 6.15 a request socket's overflow is NOT_SPECIFIED
    if (auto n = names.drop_number("NOT_SPECIFIED")) o.when_completing.push_back(*n);
  }
  return o;
}

}  // namespace

core::result<live_report> run_live(tracer& t, const live_options& options, const interval_fn& on_interval,
                                   const handshake_fn& on_handshake) {
  handshakes table(1 << 16, 256, overflow_reasons_of(t.reasons()));
  live_report report;
  const int64_t offset = t.realtime_offset_ns();
  const int64_t start = monotonic_ns();
  report.start_unix_ns = start + offset;
  interval_report second;
  second.time_unix_ns = report.start_unix_ns;
  int64_t second_end = start + options.interval_ns;
  uint64_t finished = 0;
  bool stop = false;

  auto done = [&](const handshake& h) {
    if (options.count && finished >= options.count) return;  // -c N hands on N, no more
    ++finished;
    ++second.finished;
    ++report.outcomes[h.outcome()];
    if (h.accept_ns) {
      ++second.accepted;
      if (h.ack_ns) second.ack_to_accept.record(h.accept_ns - h.ack_ns);
    }
    if (on_handshake) on_handshake(h);
    if (options.count && finished >= options.count) stop = true;
  };
  auto on_event = [&](const event& e) {
    ++second.events[static_cast<size_t>(e.kind) & 7];
    table.add(e, done);
  };
  auto close_second = [&](int64_t now) {
    while (now >= second_end) {
      second.pending = table.pending();
      second.lost = t.lost();
      if (on_interval) on_interval(second);
      second = interval_report();
      second.time_unix_ns = second_end + offset;
      second_end += options.interval_ns;
    }
  };

  while (!stop) {
    if (options.interrupted && options.interrupted->load()) break;
    int64_t now = monotonic_ns();
    if (options.duration_ns && now - start >= options.duration_ns) break;
    int64_t wait_ms = std::min<int64_t>(100, (second_end - now) / 1'000'000 + 1);
    if (options.duration_ns) wait_ms = std::min<int64_t>(wait_ms, (start + options.duration_ns - now) / 1'000'000 + 1);
    auto n = t.poll(static_cast<int>(std::max<int64_t>(wait_ms, 1)), on_event);
    if (!n) return n.error();
    now = monotonic_ns();
    table.expire(now - options.idle_ns, done);
    close_second(now);
  }
  // Events already in the ring buffer belong to the run; then everything pending is handed on.
  if (!stop) {
    auto n = t.poll(0, on_event);
    if (!n) return n.error();
  }
  table.flush(done);
  const int64_t end = monotonic_ns();
  if (second.finished || second.events != std::array<uint64_t, 8>{}) {
    second.pending = table.pending();
    second.lost = t.lost();
    if (on_interval) on_interval(second);
  }
  report.listeners = table.listeners();
  report.events = table.events();
  report.lost = t.lost();
  report.malformed = t.malformed();
  report.evicted = table.evicted();
  report.elapsed_ns = end - start;
  return report;
}

}  // namespace synscope::trace

namespace synscope::trace {

core::result<std::unique_ptr<background>> background::start(const tracer_options& options, size_t max_listeners) {
  auto t = tracer::open(options);
  if (!t) return t.error();
  std::unique_ptr<background> b(new background(std::move(*t), max_listeners));
  b->thread_ = std::thread([p = b.get()] { p->run(); });
  return b;
}

background::background(tracer t, size_t max_listeners)
    : tracer_(std::move(t)), table_(1 << 16, max_listeners, overflow_reasons_of(tracer_.reasons())) {}

background::~background() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void background::run() {
  // Finished handshakes are not kept: the figures are the listeners'. Idle ones are handed on
  // after 75 s, as in run_live, so a flood's half-open attempts do not stay.
  auto drop = [](const handshake&) {};
  int64_t last_expiry = core::monotonic_ns();
  while (!stop_.load()) {
    std::vector<event> batch;
    auto n = tracer_.poll(100, [&](const event& e) { batch.push_back(e); });
    if (!n) return;  // the ring buffer's descriptor failed: the figures stay as they were
    std::lock_guard lock(mutex_);
    for (const auto& e : batch) table_.add(e, drop);
    int64_t now = core::monotonic_ns();
    if (now - last_expiry > 1'000'000'000) {
      table_.expire(now - 75'000'000'000, drop);
      last_expiry = now;
    }
  }
}

void background::read(const view_fn& f) const {
  std::lock_guard lock(mutex_);
  f(view{table_.listeners(), tracer_.reasons(), tracer_.hooks(), tracer_.lost()});
}

}  // namespace synscope::trace
