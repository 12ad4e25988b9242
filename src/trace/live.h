#pragma once
// `synscope trace`'s loop: the tracer's events through the handshake table until a count, a
// duration or an interrupt, a figure a second, every finished handshake handed on.
//
//   auto t = trace::tracer::open({.port = 8080});
//   auto report = trace::run_live(*t, {.duration_ns = 10'000'000'000}, print_second, print_handshake);
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/histogram.h"
#include "trace/handshakes.h"
#include "trace/tracer.h"

namespace synscope::trace {

struct live_options {
  uint64_t count = 0;          ///< stop after this many finished handshakes (0: no limit)
  int64_t duration_ns = 0;     ///< stop after this long (0: until interrupted)
  int64_t idle_ns = 75'000'000'000;  ///< a handshake with no event for this long is handed on
  int64_t interval_ns = 1'000'000'000;
  const std::atomic<bool>* interrupted = nullptr;
};

/// One interval's figures, every listener together.
struct interval_report {
  int64_t time_unix_ns = 0;    ///< the interval's start, wall clock
  std::array<uint64_t, 8> events{};  ///< events by kind (index: event_kind's value)
  uint64_t finished = 0;       ///< handshakes handed on in the interval
  uint64_t accepted = 0;
  uint64_t pending = 0;        ///< at the interval's end
  uint64_t lost = 0;           ///< events lost so far (ring buffer full)
  core::histogram ack_to_accept;  ///< ns, of the handshakes accepted in the interval
};

struct live_report {
  std::map<listener_key, listener_stats> listeners;
  std::array<uint64_t, 8> events{};
  std::map<handshake_outcome, uint64_t> outcomes;
  uint64_t lost = 0;
  uint64_t malformed = 0;
  uint64_t evicted = 0;
  int64_t elapsed_ns = 0;
  int64_t start_unix_ns = 0;
};

using interval_fn = std::function<void(const interval_report&)>;
using handshake_fn = std::function<void(const handshake&)>;

core::result<live_report> run_live(tracer& t, const live_options& options, const interval_fn& on_interval,
                                   const handshake_fn& on_handshake);

/// What a long-running trace has seen so far, as a reader on another thread gets it.
struct view {
  const std::map<listener_key, listener_stats>& listeners;
  const reason_names& reasons;
  const std::vector<hook_status>& hooks;
  uint64_t lost = 0;
};
using view_fn = std::function<void(const view&)>;

/// A trace on a thread of its own for as long as the object lives (the exporter's), its
/// figures read with read().
///
///   auto bg = trace::background::start({.netns = inode}, 100);
///   bg->read([&](const trace::view& v) { render(v.listeners); });
class background {
 public:
  /// Opens the tracer (its errors: tracer::open's) and starts the thread. At most
  /// `max_listeners` listeners get figures of their own; the rest share port 0.
  static core::result<std::unique_ptr<background>> start(const tracer_options& options, size_t max_listeners);
  background(const background&) = delete;
  background& operator=(const background&) = delete;
  ~background();  ///< stops the thread and waits for it

  /// Calls `f` with the figures, the thread held off while it runs: keep it short.
  void read(const view_fn& f) const;

 private:
  background(tracer t, size_t max_listeners);
  void run();

  tracer tracer_;
  handshakes table_;
  mutable std::mutex mutex_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace synscope::trace
