// tcp::analyze_live, the pipeline `synscope capture` runs, fed by a source that replays a shared
// capture a few frames per dispatch: it must say what tcp::analyze says of the same file, cut at
// exactly --count frames, report intervals whose events add up to the whole, and stop on the
// flag or on the source's error. (The live libpcap source itself is tested by CaptureCli.)
#include <algorithm>
#include <atomic>
#include <string>

#include <gtest/gtest.h>

#include "tcp/analyzer.h"

namespace synscope::tcp {
namespace {

const std::string capture_path = std::string(SYNSCOPE_SHARED_DIR) + "/pcaps/kernel-normal-v4v6.pcap";

// A capture file handed out `per_dispatch` frames at a time, as a live source would; at the
// file's end it sets `at_end` (as Ctrl-C would once the traffic is over).
class replay_source final : public wire::live_source {
 public:
  replay_source(wire::capture_reader reader, size_t per_dispatch, std::atomic<bool>& at_end)
      : reader_(std::move(reader)), per_(per_dispatch), at_end_(at_end) {}
  [[nodiscard]] std::string name() const override { return "replay"; }
  core::result<size_t> dispatch(const wire::frame_fn& fn) override {
    ++dispatches;
    if (fail_at != 0 && dispatches == fail_at) return core::error{core::exit_code::environment, "replay: gone"};
    stopped_ = false;
    size_t n = 0;
    wire::frame f;
    while (n < per_ && !stopped_) {
      auto more = reader_.next(f);
      if (!more) return more.error();
      if (!*more) {
        at_end_.store(true);
        break;
      }
      fn(f);
      ++n;
      ++handed_;
    }
    return n;
  }
  core::result<size_t> drain(const wire::frame_fn& fn) override { return dispatch(fn); }
  void stop() override { stopped_ = true; }
  [[nodiscard]] wire::source_stats stats() const override { return {handed_, 0, 0}; }

  size_t dispatches = 0;
  size_t fail_at = 0;  ///< this dispatch fails (0: none)

 private:
  wire::capture_reader reader_;
  size_t per_;
  std::atomic<bool>& at_end_;
  bool stopped_ = false;
  uint64_t handed_ = 0;
};

wire::capture_reader open_capture() {
  auto r = wire::capture_reader::open(capture_path);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

live_options bounded(const std::atomic<bool>& flag) {
  live_options live;
  live.duration_ns = 60'000'000'000;  // bounded; the replay's end stops it long before
  live.interrupted = &flag;
  return live;
}

analyze_report analyze_file() {
  analyze_options o;
  o.inputs = {capture_path};
  o.threads = 1;
  auto r = analyze(o, nullptr, {});
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

TEST(AnalyzeLive, SaysWhatAnalyzeSaysOfTheSameFrames) {
  analyze_report file = analyze_file();
  ASSERT_GT(file.result.completed, 0u);
  std::atomic<bool> done{false};
  replay_source src(open_capture(), 7, done);
  auto r = analyze_live(src, {}, bounded(done), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->frames, file.frames);
  EXPECT_EQ(r->result.connections, file.result.connections);
  EXPECT_EQ(r->result.attempts, file.result.attempts);
  EXPECT_EQ(r->result.completed, file.result.completed);
  EXPECT_EQ(r->result.refused, file.result.refused);
  EXPECT_EQ(r->result.by_state, file.result.by_state);
  EXPECT_EQ(r->result.initial_rtt.count(), file.result.initial_rtt.count());
  EXPECT_EQ(r->result.initial_rtt.percentile(50), file.result.initial_rtt.percentile(50));
  EXPECT_EQ(r->inputs.at(0).decoded, file.inputs.at(0).decoded);
  EXPECT_EQ(r->inputs.at(0).name, "replay");
  ASSERT_TRUE(r->source.has_value());
  EXPECT_EQ(r->source->received, file.frames);
  EXPECT_GE(r->elapsed_ns, 0);
}

TEST(AnalyzeLive, IntervalsAddUpToTheWhole) {
  analyze_report file = analyze_file();
  std::atomic<bool> done{false};
  replay_source src(open_capture(), 5, done);
  live_options live = bounded(done);
  live.interval_ns = 1;  // every dispatch ends an interval
  interval_report sum;
  size_t intervals = 0;
  auto r = analyze_live(src, {}, live, [&](const interval_report& w) {
    ++intervals;
    sum.syns += w.syns;
    sum.synacks += w.synacks;
    sum.completed += w.completed;
    sum.resets += w.resets;
    sum.refused += w.refused;
    sum.rtt.merge(w.rtt);
    EXPECT_GT(w.time_unix_ns, 0);
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_GT(intervals, 1u);
  EXPECT_EQ(sum.completed, file.result.completed);
  EXPECT_EQ(sum.refused, file.result.refused);
  EXPECT_EQ(sum.rtt.count(), file.result.initial_rtt.count());
  EXPECT_GE(sum.syns, file.result.attempts);  // retransmitted SYNs count as SYNs on the wire
  EXPECT_GE(sum.synacks, file.result.completed);
}

TEST(AnalyzeLive, CountStopsAtExactlyThatManyFrames) {
  std::atomic<bool> done{false};
  replay_source src(open_capture(), 4, done);
  live_options live = bounded(done);
  live.count = 10;
  auto r = analyze_live(src, {}, live, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->frames, 10u);
  EXPECT_FALSE(done.load());  // it stopped on the count, not at the file's end
}

TEST(AnalyzeLive, TheFlagEndsTheRunAndASourceErrorIsTheRunsError) {
  std::atomic<bool> done{true};
  replay_source first(open_capture(), 4, done);
  auto r = analyze_live(first, {}, bounded(done), {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(first.dispatches, 1u);  // only the drain: the flag was set before the first dispatch

  std::atomic<bool> never{false};
  replay_source failing(open_capture(), 4, never);
  failing.fail_at = 3;
  auto e = analyze_live(failing, {}, bounded(never), {});
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().message, "replay: gone");

  analyze_options bad;
  bad.filter = "tcp port";  // not a filter
  replay_source unused(open_capture(), 4, never);
  auto f = analyze_live(unused, bad, bounded(never), {});
  ASSERT_FALSE(f);
  EXPECT_EQ(unused.dispatches, 0u);
}

// The report's selection: of the whole input, the connections that need a look most, in that
// order, each with its packets from the first.
TEST(AnalyzeAttention, KeepsTheLaddersThatNeedALookMostInThatOrder) {
  analyze_options o;
  o.inputs = {std::string(SYNSCOPE_SHARED_DIR) + "/pcaps/zeek-echo-backlog-synretrans.pcap"};
  o.threads = 1;
  struct all_of : connection_sink {
    std::vector<connection> seen;
    void on_connection(const connection& c) override { seen.push_back(c); }
  } every;
  o.ladder_attention = 5;
  auto r = analyze(o, &every, {});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->ladders.size(), 5u);
  int best = 0;
  for (const auto& c : every.seen) best = std::max(best, attention_rank(c));
  ASSERT_GT(best, 0);
  for (size_t i = 0; i < r->ladders.size(); ++i) {
    const auto& l = r->ladders[i];
    EXPECT_EQ(attention_rank(l.record), best) << l.record.id;
    EXPECT_EQ(l.packets.front().ts_ns, l.record.first_ns) << "from its first packet";
    if (i > 0) {
      EXPECT_GE(r->ladders[i - 1].record.connect_time_ns(), l.record.connect_time_ns()) << "slowest first";
    }
  }
  // No connection left out was slower at the same rank.
  for (const auto& c : every.seen) {
    if (attention_rank(c) != best) continue;
    bool kept = std::any_of(r->ladders.begin(), r->ladders.end(), [&](const ladder& l) { return l.record.id == c.id; });
    if (!kept) {
      EXPECT_LE(c.connect_time_ns(), r->ladders.back().record.connect_time_ns()) << c.id;
    }
  }
}

}  // namespace
}  // namespace synscope::tcp
