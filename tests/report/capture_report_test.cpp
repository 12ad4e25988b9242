#include "report/capture_report.h"

#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tcp/analyzer.h"

namespace synscope::report {
namespace {

// The table's rows as the page's script reads them: the JSON in <script id="data">.
nlohmann::json page_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"data\">";
  size_t at = html.find(open);
  if (at == std::string::npos) return {};
  at += open.size();
  return nlohmann::json::parse(html.substr(at, html.find("</script>", at) - at));
}

TEST(CaptureReport, StartTimesCountFromTheSecondTheTimelineNames) {
  // A capture of 500 connections whose table opens on the retransmitted SYNs, not on the
  // earliest connection: "start s" must still read on the timeline's clock.
  tcp::analyze_options o;
  o.inputs = {SYNSCOPE_SHARED_DIR "/pcaps/zeek-echo-backlog-synretrans.pcap"};
  o.threads = 1;
  o.ladder_attention = 20;
  auto r = tcp::analyze(o, nullptr, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_FALSE(r->result.timeline.empty());
  ASSERT_FALSE(r->ladders.empty());
  int64_t timeline_start_ns = r->result.timeline.front().second * 1'000'000'000;
  int64_t earliest_in_table = r->ladders.front().record.first_ns;
  for (const auto& l : r->ladders) earliest_in_table = std::min(earliest_in_table, l.record.first_ns);
  ASSERT_GT(earliest_in_table - timeline_start_ns, 1'000'000) << "the table's earliest row is not the timeline's start";

  auto data = page_data(capture_report_html(*r, "trace.pcap", "synscope test"));
  ASSERT_TRUE(data.contains("rows")) << data.dump().substr(0, 200);
  const auto& rows = data["rows"];
  ASSERT_EQ(rows.size(), r->ladders.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& c = r->ladders[i].record;
    ASSERT_EQ(rows[i][0].get<uint64_t>(), c.id);
    double start_s = rows[i][12].get<double>();
    EXPECT_NEAR(start_s, static_cast<double>(c.first_ns - timeline_start_ns) / 1e9, 1e-6) << "connection " << c.id;
  }
}

}  // namespace
}  // namespace synscope::report
