#include "tcp/analyzer.h"

#include <sched.h>

#include <algorithm>
#include <cstdint>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <queue>
#include <span>
#include <thread>
#include <unordered_map>

#include "core/clock.h"
#include "core/prefault.h"
#include "wire/capture_reader.h"
#include "wire/filter.h"

namespace synscope::tcp {
namespace {

// One decoded TCP segment on its way from the reading side to the tracking side.
struct segment {
  wire::packet_view p;
  int64_t ts_ns = 0;
  uint64_t hash = 0;  ///< tracker::hash_of(p), computed by the reading side
};

// A finished connection's claim to a ladder in the attention order: larger is kept first.
struct attention_pick {
  int rank = 0;
  int64_t slowness = 0;  ///< connect time; one that never connected counts as slowest
  uint64_t id = 0;
  static attention_pick of(const connection& c) {
    int64_t t = c.connect_time_ns();
    return {attention_rank(c), t < 0 ? INT64_MAX : t, c.id};
  }
  // True when `a` is kept before `b`.
  friend bool before(const attention_pick& a, const attention_pick& b) {
    if (a.rank != b.rank) return a.rank > b.rank;
    if (a.slowness != b.slowness) return a.slowness > b.slowness;
    return a.id < b.id;
  }
};
struct kept_last {  // a heap whose top is the pick kept last (the first to give way)
  bool operator()(const attention_pick& a, const attention_pick& b) const { return before(a, b); }
};

// Hands each finished connection to the summary, the ladders and the caller's sink. In the
// attention mode it keeps the `keep` ladders that need a look most and drops the others' packets.
class fan_out : public connection_sink {
 public:
  fan_out(summary_builder& summary, connection_sink* extra, std::unordered_map<uint64_t, ladder>& ladders, size_t keep)
      : summary_(summary), extra_(extra), ladders_(ladders), keep_(keep) {}
  void on_connection(const connection& c) override {
    summary_.on_connection(c);
    if (auto it = ladders_.find(c.id); it != ladders_.end()) {
      if (keep_ > 0 && !take(c)) {
        ladders_.erase(it);
      } else {
        it->second.record = c;
      }
    }
    if (extra_ != nullptr) extra_->on_connection(c);
  }
  // The kept ladders' ids, the one that needs a look most first.
  std::vector<uint64_t> kept_in_order() {
    std::vector<attention_pick> all;
    while (!kept_.empty()) {
      all.push_back(kept_.top());
      kept_.pop();
    }
    std::vector<uint64_t> ids;
    for (auto it = all.rbegin(); it != all.rend(); ++it) ids.push_back(it->id);
    return ids;
  }

 private:
  // Whether `c` earns a place; a place given to it may take one from a kept connection.
  bool take(const connection& c) {
    attention_pick p = attention_pick::of(c);
    if (kept_.size() < keep_) {
      kept_.push(p);
      return true;
    }
    if (!before(p, kept_.top())) return false;
    ladders_.erase(kept_.top().id);
    kept_.pop();
    kept_.push(p);
    return true;
  }

  summary_builder& summary_;
  connection_sink* extra_;
  std::unordered_map<uint64_t, ladder>& ladders_;
  size_t keep_;
  std::priority_queue<attention_pick, std::vector<attention_pick>, kept_last> kept_;
};

// The tracking side: summary, tracker and ladders, fed one segment at a time.
class tracking {
 public:
  tracking(const analyze_options& options, connection_sink* extra)
      : options_(options), attention_(options.ladder_ids.empty() ? options.ladder_attention : 0),
        summary_(options.top_n, options.flood), sink_(summary_, extra, ladders_, attention_),
        track_(options.tracker, sink_) {
    for (uint64_t id : options.ladder_ids) ladders_.try_emplace(id);
  }

  const connection& add(const segment& s) {
    const wire::packet_view& p = s.p;
    summary_.add_segment(p, s.ts_ns);
    const connection& c = track_.add(p, s.ts_ns, s.hash);
    if (ladders_.empty() && attention_ == 0) return c;
    auto it = ladders_.find(c.id);
    if (it == ladders_.end()) {
      // Attention mode: every connection's packets from its first, while there is room.
      if (attention_ == 0 || c.first_ns != s.ts_ns || ladders_.size() >= attention_ + attention_live_limit) return c;
      it = ladders_.try_emplace(c.id).first;
    }
    ladder& l = it->second;
    if (l.packets.size() < std::min(options_.ladder_packets, ladder_packet_limit)) {
      l.packets.push_back({s.ts_ns, c.client == endpoint{p.src, p.sport}, p.flags, p.seq, p.ack, p.payload_len,
                           p.window, p.options, c.client_tcp, c.server_tcp});
    } else {
      l.cut = true;
    }
    return c;
  }

  /// A batch of segments in order, their lookups prefetched ahead (tracker::prefetch).
  void add_all(std::span<const segment> all) {
    constexpr size_t bucket_ahead = 8, slot_ahead = 4;
    size_t n = all.size();
    for (size_t i = 0; i < std::min(n, bucket_ahead); ++i) track_.prefetch(all[i].hash);
    for (size_t i = 0; i < n; ++i) {
      if (i + bucket_ahead < n) track_.prefetch(all[i + bucket_ahead].hash);
      if (i + slot_ahead < n) track_.prefetch_slot(all[i + slot_ahead].hash);
      add(all[i]);
    }
  }

  [[nodiscard]] const tracker_stats& stats() const { return track_.stats(); }

  void finish(analyze_report& report) {
    track_.flush();
    report.tracker = track_.stats();
    report.result = summary_.finish();
    std::vector<uint64_t> ids = attention_ > 0 ? sink_.kept_in_order() : options_.ladder_ids;
    for (uint64_t id : ids) {
      auto it = ladders_.find(id);
      if (it == ladders_.end()) continue;
      if (!it->second.packets.empty()) report.ladders.push_back(std::move(it->second));
      ladders_.erase(it);
    }
  }

 private:
  const analyze_options& options_;
  size_t attention_;
  summary_builder summary_;
  std::unordered_map<uint64_t, ladder> ladders_;
  fan_out sink_;
  tracker track_;
};

// One frame in: the filter, then the decoder, both counted in `in`. True: `seg` holds a TCP
// segment for the tracker.
core::result<bool> take_frame(const wire::frame& f, wire::packet_filter& filter, wire::frame_decoder& decoder,
                              const tracker_options& tracking, input_report& in, segment& seg) {
  if (!filter.empty()) {
    auto pass = filter.matches(f);
    if (!pass) return pass.error();
    if (!*pass) {
      ++in.filtered_out;
      return false;
    }
  }
  auto status = decoder.decode(f.linktype, f.data, f.ts_ns, seg.p);
  ++in.decoded[static_cast<size_t>(status)];
  if (status != wire::decode_status::tcp) return false;
  seg.ts_ns = f.ts_ns;
  seg.hash = tracker::hash_of(seg.p, tracking);
  return true;
}

// The reading side: every input in order, filtered and decoded. Each frame is decoded into
// `out.slot()`, and `out.take()` is told when that holds a TCP segment (false: stop early).
// The segment is decoded where it is used, not copied there: a copy reads it back with wide
// loads right after the decoder's narrow stores, which the processor cannot forward.
// Fills the per-input reports.
template <class Out>
core::result<void> read_inputs(std::vector<wire::capture_reader>& readers, wire::packet_filter& filter,
                               const tracker_options& tracking, const progress_fn& progress,
                               analyze_report& report, Out&& out) {
  wire::frame f;
  for (auto& reader : readers) {
    input_report in;
    in.name = reader.name();
    wire::frame_decoder decoder;  // reassembles IP fragments within this input
    core::result<void> stopped;
    for (;;) {
      auto more = reader.next(f);
      if (!more) {
        stopped = more.error();
        break;
      }
      if (!*more) break;
      ++in.frames;
      if ((in.frames & 0xffff) == 0 && progress) progress(in.name, reader.offset(), reader.size(), in.frames);
      auto got = take_frame(f, filter, decoder, tracking, in, out.slot());
      if (!got) {
        stopped = got.error();
        break;
      }
      if (*got && !out.take()) return {};
    }
    decoder.finish();
    in.reassembly = decoder.stats();
    in.odd_timestamps = reader.stats().odd_timestamps;
    if (reader.stats().truncated) in.truncation = reader.stats().truncation;
    report.frames += in.frames;
    report.bytes += reader.offset();
    report.inputs.push_back(std::move(in));
    if (!stopped) return stopped;  // what was read so far stays in the report
  }
  return {};
}

// Batches of segments from the reading thread to the tracking thread: a bounded queue (so
// memory stays small whichever side is slower) whose emptied batches go back for reuse. A
// reader that finds it full sleeps until it is half empty, so the two threads do not wake each
// other for every batch.
//
// Emptied batches are reused oldest first. The one emptied last is still in the tracking
// core's cache, and writing into it made the reading core take each line from the other core:
// reused newest first, the reader stalled on those stores and took longer than one thread
// doing everything (10th percentile of 15 alternated runs, realistic capture: 177.7 ms newest
// first, 153.9 ms oldest first, on a busy host; 0.08-0.13 s on a quiet one).
class batch_queue {
 public:
  using batch = std::vector<segment>;
  static constexpr size_t batch_size = 1024;
  static constexpr size_t max_queued = 16;
  static constexpr size_t wake_at = 4;  ///< batches queued before a waiting tracking side is woken

  /// Reading side: false when the tracking side has stopped.
  bool push(batch&& b) {
    std::unique_lock lock(mutex_);
    if (full_.size() >= max_queued) {
      reader_waiting_ = true;
      not_full_.wait(lock, [&] { return full_.size() <= max_queued / 2 || cancelled_; });
      reader_waiting_ = false;
    }
    if (cancelled_) return false;
    full_.push_back(std::move(b));
    if (tracker_waiting_ && full_.size() >= wake_at) not_empty_.notify_one();
    return true;
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_one();
  }
  /// A batch of batch_size segments to decode into.
  batch fresh() {
    std::lock_guard lock(mutex_);
    if (spare_.empty()) {
      batch b;
      b.reserve(batch_size);
      core::prefault(b.data(), batch_size * sizeof(segment));
      b.resize(batch_size);
      return b;
    }
    batch b = std::move(spare_.front());
    spare_.pop_front();
    b.resize(batch_size);  // a no-op but for the last, shorter batch (never given back)
    return b;
  }

  /// Tracking side: false once the reading side has closed and everything was taken.
  bool pop(batch& out) {
    std::unique_lock lock(mutex_);
    if (full_.empty() && !closed_) {
      // Asleep until several batches wait: one wake-up (a system call on each side) per
      // batch was 900 context switches a run when this side kept up.
      tracker_waiting_ = true;
      not_empty_.wait(lock, [&] { return full_.size() >= wake_at || closed_; });
      tracker_waiting_ = false;
    }
    if (full_.empty()) return false;
    out = std::move(full_.front());
    full_.pop_front();
    if (reader_waiting_ && full_.size() <= max_queued / 2) not_full_.notify_one();
    return true;
  }
  void give_back(batch&& b) {
    std::lock_guard lock(mutex_);
    spare_.push_back(std::move(b));
  }
  void cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    not_full_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<batch> full_;
  std::deque<batch> spare_;
  bool closed_ = false;
  bool cancelled_ = false;
  bool reader_waiting_ = false;
  bool tracker_waiting_ = false;
};

int cpus_allowed() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  return CPU_COUNT(&set);
}

}  // namespace

core::result<analyze_report> analyze(const analyze_options& options, connection_sink* extra,
                                     const progress_fn& progress) {
  auto filter = wire::packet_filter::compile(options.filter);
  if (!filter) return filter.error();
  // Open every input first, so a missing file is reported before any output.
  std::vector<wire::capture_reader> readers;
  for (const auto& path : options.inputs) {
    auto r = wire::capture_reader::open(path);
    if (!r) return r.error();
    readers.push_back(std::move(*r));
  }
  analyze_report report;
  tracking track(options, extra);
  int threads = options.threads > 0 ? options.threads : (cpus_allowed() >= 2 ? 2 : 1);

  if (threads == 1) {
    struct one_at_a_time {
      tracking& track;
      segment seg;
      segment& slot() { return seg; }
      bool take() {
        track.add(seg);
        return true;
      }
    };
    auto read = read_inputs(readers, *filter, options.tracker, progress, report, one_at_a_time{track, {}});
    if (!read) report.stopped = read.error();
    track.finish(report);
    return report;
  }

  // Two threads: this one tracks (so the caller's sink runs where the caller is), a second one
  // reads and decodes. The report's per-input part is the reader's until it is joined.
  batch_queue queue;
  core::result<void> read;
  std::thread reader([&] {
    try {
      // Segments are decoded straight into the batch: its size is how many are taken.
      struct batched {
        batch_queue& queue;
        batch_queue::batch current;
        size_t taken = 0;
        segment& slot() { return current[taken]; }
        bool take() {
          if (++taken < batch_queue::batch_size) return true;
          if (!queue.push(std::move(current))) return false;
          current = queue.fresh();
          taken = 0;
          return true;
        }
      } out{queue, queue.fresh()};
      read = read_inputs(readers, *filter, options.tracker, progress, report, out);
      out.current.resize(out.taken);
      if (!out.current.empty()) queue.push(std::move(out.current));
    } catch (const std::exception& e) {
      read = core::error{core::exit_code::environment, std::string("reading the input: ") + e.what()};
    }
    queue.close();
  });
  try {
    batch_queue::batch b;
    while (queue.pop(b)) {
      track.add_all(b);
      queue.give_back(std::move(b));
    }
  } catch (...) {
    queue.cancel();
    reader.join();
    throw;
  }
  reader.join();
  if (!read) report.stopped = read.error();
  track.finish(report);
  return report;
}

core::result<analyze_report> analyze_live(wire::live_source& source, const analyze_options& options,
                                          const live_options& live, const interval_fn& on_interval) {
  auto filter = wire::packet_filter::compile(options.filter);
  if (!filter) return filter.error();
  analyze_report report;
  tracking track(options, nullptr);
  input_report in;
  in.name = source.name();
  wire::frame_decoder decoder;  // reassembles IP fragments, as for a file
  interval_report window;
  segment seg;
  core::result<void> failed;
  bool counted_out = false;

  // Intervals are the packets' own seconds (interval_ns of capture time), so that the line for
  // 12:00:05 counts what the summary's timeline counts for 12:00:05. An interval is reported when
  // a packet of a later one arrives, or when the wall clock has passed its end by `grace_ns`
  // (what libpcap may still hold of it); quiet intervals are reported as zeros.
  const int64_t step = live.interval_ns > 0 ? live.interval_ns : core::ns_per_s;
  constexpr int64_t grace_ns = 250'000'000;
  constexpr int64_t max_quiet_reported = 60;  // a jump of the clock is one line, not thousands
  auto interval_of = [&](int64_t ns) { return ns - ((ns % step) + step) % step; };
  int64_t window_start = interval_of(core::realtime_ns());
  auto report_interval = [&] {
    if (on_interval) {
      window.time_unix_ns = window_start;
      window.half_open = track.stats().awaiting_synack;
      window.source = source.stats();
      on_interval(window);
    }
    window.syns = window.synacks = window.completed = window.resets = window.refused = 0;
    window.rtt.reset();
    window_start += step;
  };
  // Reports every interval before the one starting at `start`.
  auto advance_to = [&](int64_t start) {
    if ((start - window_start) / step > max_quiet_reported) {
      report_interval();
      window_start = start;
      return;
    }
    while (window_start < start) report_interval();
  };

  auto on_frame = [&](const wire::frame& f) {
    if (!failed || counted_out) return;
    ++in.frames;
    if (live.count != 0 && in.frames >= live.count) {
      counted_out = true;
      source.stop();
    }
    // A frame of a later interval closes this one; one of an earlier (already reported)
    // interval, rare, is counted in this one. Before the first frame, quiet intervals follow the
    // host's clock.
    int64_t w = interval_of(f.ts_ns);
    if (in.frames == 1) window_start = w;  // the packets' clock, from the first on (not the host's)
    if (w > window_start) advance_to(w);
    auto got = take_frame(f, *filter, decoder, options.tracker, in, seg);
    if (!got) {
      failed = got.error();
      source.stop();
      return;
    }
    if (!*got) return;
    const wire::packet_view& p = seg.p;
    using namespace wire::tcp_flag;
    if ((p.flags & syn) && !(p.flags & ack)) ++window.syns;
    if ((p.flags & syn) && (p.flags & ack)) ++window.synacks;
    if (p.flags & rst) ++window.resets;
    const connection& c = track.add(seg);
    if (c.handshake_complete && c.handshake_ack_ns == f.ts_ns && c.initial_rtt_ns >= 0) {
      ++window.completed;
      window.rtt.record(c.initial_rtt_ns);
    }
    if ((p.flags & rst) && c.refused && c.server == endpoint{p.src, p.sport}) ++window.refused;
  };

  int64_t begin_unix = core::realtime_ns();
  int64_t start = core::monotonic_ns();
  auto stopped = [&] { return live.interrupted != nullptr && live.interrupted->load(std::memory_order_relaxed); };
  while (!stopped() && !counted_out) {
    auto n = source.dispatch(on_frame);
    if (!n) return n.error();
    if (!failed) return failed.error();
    if (int64_t wall = core::realtime_ns(); wall >= window_start + step + grace_ns) advance_to(interval_of(wall - grace_ns));
    if (live.duration_ns != 0 && core::monotonic_ns() - start >= live.duration_ns) break;
  }
  if (!counted_out) {
    auto n = source.drain(on_frame);
    if (!n) return n.error();
    if (!failed) return failed.error();
  }
  if (window.syns + window.synacks + window.resets + window.completed > 0) report_interval();
  decoder.finish();
  in.reassembly = decoder.stats();
  report.frames = in.frames;
  report.inputs.push_back(std::move(in));
  track.finish(report);
  report.elapsed_ns = core::realtime_ns() - begin_unix;
  report.source = source.stats();
  return report;
}

}  // namespace synscope::tcp
