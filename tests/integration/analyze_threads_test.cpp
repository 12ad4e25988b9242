// The analyzer with one thread and with two (a reading thread handing batches to the tracking
// one) must give identical results: every shared capture on its own, all of them as one run
// of many inputs (which crosses many batch boundaries), a filter, and corrupt input.
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "integration/support.h"
#include "tcp/analyzer.h"

namespace synscope::testing {
namespace {

struct collect : tcp::connection_sink {
  std::vector<tcp::connection> all;
  void on_connection(const tcp::connection& c) override { all.push_back(c); }
};

struct outcome {
  bool ok = false;    // analyze returned a report (perhaps stopped early: then `error` says why)
  std::string error;  // what stopped it, or why there is no report
  tcp::analyze_report report;
  std::vector<tcp::connection> connections;
};

outcome run(const std::vector<std::string>& inputs, int threads, const std::string& filter = "") {
  tcp::analyze_options o;
  o.inputs = inputs;
  o.threads = threads;
  o.filter = filter;
  o.ladder_ids = {0, 3};
  collect sink;
  auto r = tcp::analyze(o, &sink, {});
  outcome out;
  out.ok = r.ok();
  if (r) {
    if (r->stopped) out.error = r->stopped->message;
    out.report = std::move(*r);
  } else {
    out.error = r.error().message;
  }
  out.connections = std::move(sink.all);
  return out;
}

void expect_same(const outcome& a, const outcome& b) {
  ASSERT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.error, b.error);
  if (!a.ok) return;
  const auto& ra = a.report;
  const auto& rb = b.report;
  EXPECT_EQ(ra.frames, rb.frames);
  EXPECT_EQ(ra.bytes, rb.bytes);
  ASSERT_EQ(ra.inputs.size(), rb.inputs.size());
  for (size_t i = 0; i < ra.inputs.size(); ++i) {
    EXPECT_EQ(ra.inputs[i].decoded, rb.inputs[i].decoded);
    EXPECT_EQ(ra.inputs[i].filtered_out, rb.inputs[i].filtered_out);
    EXPECT_EQ(ra.inputs[i].truncation, rb.inputs[i].truncation);
  }
  EXPECT_EQ(ra.tracker.segments, rb.tracker.segments);
  EXPECT_EQ(ra.tracker.connections, rb.tracker.connections);
  EXPECT_EQ(ra.tracker.peak_open, rb.tracker.peak_open);
  EXPECT_EQ(ra.result.attempts, rb.result.attempts);
  EXPECT_EQ(ra.result.completed, rb.result.completed);
  EXPECT_EQ(ra.result.by_state, rb.result.by_state);
  EXPECT_EQ(ra.result.initial_rtt.count(), rb.result.initial_rtt.count());
  EXPECT_EQ(ra.result.initial_rtt.max(), rb.result.initial_rtt.max());
  EXPECT_EQ(ra.result.timeline.size(), rb.result.timeline.size());
  EXPECT_EQ(ra.result.anomalies, rb.result.anomalies);
  ASSERT_EQ(ra.ladders.size(), rb.ladders.size());
  for (size_t i = 0; i < ra.ladders.size(); ++i) EXPECT_EQ(ra.ladders[i].packets.size(), rb.ladders[i].packets.size());
  // The sink sees the same connections in the same order.
  ASSERT_EQ(a.connections.size(), b.connections.size());
  for (size_t i = 0; i < a.connections.size(); ++i) {
    const auto& x = a.connections[i];
    const auto& y = b.connections[i];
    SCOPED_TRACE("connection " + std::to_string(x.id));
    EXPECT_EQ(x.id, y.id);
    EXPECT_EQ(x.client, y.client);
    EXPECT_EQ(x.server, y.server);
    EXPECT_EQ(x.initial_rtt_ns, y.initial_rtt_ns);
    EXPECT_EQ(x.history_string(), y.history_string());
    EXPECT_EQ(x.ended, y.ended);
    EXPECT_EQ(x.to_server.packets, y.to_server.packets);
    EXPECT_EQ(x.to_client.packets, y.to_client.packets);
  }
}

TEST(AnalyzeThreads, EachSharedCaptureGivesTheSameResult) {
  auto files = shared_captures();
  if (files.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  for (const auto& path : files) {
    SCOPED_TRACE(path);
    expect_same(run({path}, 1), run({path}, 2));
  }
}

TEST(AnalyzeThreads, ACorruptRecordAfterManyBatchesFailsAlikeInBothModes) {
  // The largest shared pcap with a record header claiming 4 GiB appended: the error comes after
  // the reading thread has handed over every good segment.
  std::string source = SYNSCOPE_SHARED_DIR "/pcaps/zeek-echo-backlog-synretrans.pcap";
  std::ifstream in(source, std::ios::binary);
  if (!in) GTEST_SKIP() << "no " << source;
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  temp_dir dir;
  std::string bad = dir.path("corrupt-tail.pcap");
  std::ofstream out(bad, std::ios::binary);
  out << bytes << std::string(8, '\0') << std::string(4, '\xff') << std::string(4, '\0');
  out.close();
  auto one = run({bad}, 1);
  auto two = run({bad}, 2);
  EXPECT_TRUE(one.ok) << "the results before the bad record are kept";
  EXPECT_NE(one.error.find("exceeds the snapshot length"), std::string::npos) << one.error;
  EXPECT_GT(one.connections.size(), 0u);
  expect_same(one, two);
  EXPECT_EQ(one.connections.size(), two.connections.size());
}

TEST(AnalyzeThreads, AllCapturesAsOneRunCrossBatchBoundaries) {
  std::vector<std::string> good;
  for (const auto& path : shared_captures()) {
    if (auto r = run({path}, 1); r.ok && r.error.empty()) good.push_back(path);
  }
  if (good.empty()) GTEST_SKIP() << "no captures in " SYNSCOPE_SHARED_DIR "/pcaps";
  auto one = run(good, 1);
  auto two = run(good, 2);
  ASSERT_TRUE(one.ok && one.error.empty()) << one.error;
  EXPECT_GT(one.report.tracker.segments, 4 * 512u) << "too few segments to cross batch boundaries";
  expect_same(one, two);
  // A filter, and an error in the middle of many inputs.
  expect_same(run(good, 1, "tcp port 80"), run(good, 2, "tcp port 80"));
  std::vector<std::string> with_bad = good;
  with_bad.insert(with_bad.begin() + static_cast<std::ptrdiff_t>(good.size() / 2), "/nonexistent/capture.pcap");
  auto bad1 = run(with_bad, 1);
  auto bad2 = run(with_bad, 2);
  EXPECT_FALSE(bad1.ok);
  expect_same(bad1, bad2);
}

}  // namespace
}  // namespace synscope::testing
