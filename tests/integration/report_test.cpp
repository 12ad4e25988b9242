// synscope analyze --report, opened in a real headless Chromium: it loads without a console
// error, shows its figures and table, takes a screenshot, and a click on a connection draws
// that connection's ladder. A report of a million-packet capture opens too (its load time is
// printed, not judged).
#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "integration/browser.h"
#include "integration/support.h"

namespace synscope::testing {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Clicks the first row of the connection table for real and returns its id ("" on failure).
std::string click_first_row(headless_browser& b, const std::string& page) {
  auto rect = b.eval(page, "(() => { const tr = document.querySelector('#conns tbody tr'); tr.scrollIntoView(); "
                           "const r = tr.getBoundingClientRect(); return {x: r.x + 20, y: r.y + r.height / 2, id: tr.dataset.id}; })()");
  if (!rect.is_object()) return {};
  if (!b.click(page, rect["x"].get<double>(), rect["y"].get<double>())) return {};
  return rect["id"].get<std::string>();
}

class Report : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    browser_ = headless_browser::start(why);
    if (!browser_) GTEST_SKIP() << why;
  }
  std::unique_ptr<headless_browser> browser_;
  temp_dir dir_;
};

TEST_F(Report, OpensInChromiumAndAClickDrawsTheLadder) {
  std::string capture = std::string(SYNSCOPE_SHARED_DIR) + "/pcaps/kernel-normal-v4v6.pcap";
  if (!std::ifstream(capture)) GTEST_SKIP() << "no shared captures";
  std::string html = dir_.path("report.html");
  auto r = run_command({synscope_binary(), "analyze", capture, "--report", html});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = run_command({synscope_binary(), "analyze", capture, "--json"});
  auto lines = parse_json_lines(summary.out);
  auto totals = of_type(lines, "summary");
  ASSERT_EQ(totals.size(), 1u);
  uint64_t connections = totals[0]["connections"].get<uint64_t>();
  std::string text = read_file(html);
  EXPECT_EQ(text.find("http://"), text.find("http://www.w3.org/2000/svg")) << "a fetch in the page";

  double load_ms = 0;
  std::string page = browser_->open("file://" + html, 30'000, &load_ms);
  ASSERT_FALSE(page.empty()) << browser_->last_error();
  EXPECT_EQ(browser_->eval(page, "document.querySelectorAll('#conns tbody tr').length").get<uint64_t>(), connections);
  EXPECT_EQ(browser_->eval(page, "document.querySelectorAll('.card').length").get<int>(), 10);  // connect time p99 too
  EXPECT_GE(browser_->eval(page, "document.querySelectorAll('svg.cdf').length").get<int>(), 3);
  auto shot = browser_->call("Page.captureScreenshot", {{"format", "png"}}, page);
  ASSERT_TRUE(shot.contains("data")) << browser_->last_error();
  std::string png = shot["data"].get<std::string>();
  EXPECT_EQ(png.rfind("iVBORw0KGgo", 0), 0u) << "not a PNG";  // base64 of the PNG signature
  EXPECT_GT(png.size(), 10'000u);

  std::string id = click_first_row(*browser_, page);
  ASSERT_FALSE(id.empty()) << browser_->last_error();
  EXPECT_EQ(browser_->eval(page, "document.querySelector('#ladder svg').dataset.connection").get<std::string>(), id);
  int arrows = browser_->eval(page, "document.querySelectorAll('#ladder line.pkt').length").get<int>();
  auto ladder = run_command({synscope_binary(), "analyze", capture, "--ladder", id});
  int packets = 0;
  std::istringstream rows(ladder.out);
  for (std::string row; std::getline(rows, row);) packets += row.find("-->") != std::string::npos || row.find("<--") != std::string::npos;
  EXPECT_GE(arrows, 3);  // SYN, SYN-ACK, ACK at least
  EXPECT_EQ(arrows, packets) << ladder.out;
  EXPECT_NE(browser_->eval(page, "document.querySelector('#ladder').textContent").get<std::string>().find("S."),
            std::string::npos);

  // Search narrows the table; sorting by a column reorders it.
  browser_->eval(page, "(() => { const s = document.getElementById('search'); s.value = '::1'; "
                       "s.dispatchEvent(new Event('input')); })()");
  auto shown = browser_->eval(page, "document.querySelectorAll('#conns tbody tr').length").get<uint64_t>();
  EXPECT_LT(shown, connections);
  EXPECT_GT(shown, 0u);
  EXPECT_TRUE(browser_->page_errors().empty()) << browser_->page_errors().front();
  fmt::print("report of {} connections loaded in {:.0f} ms\n", connections, load_ms);
}

TEST_F(Report, AMillionPacketReportOpensWithItsTableCapped) {
  std::string capture = dir_.path("big.pcap");
  write_synthetic_capture(capture, 250'000);
  std::string html = dir_.path("big.html");
  auto r = run_command({synscope_binary(), "analyze", capture, "--report", html}, 300'000);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1000000 packets"), std::string::npos) << r.out;
  auto size = std::filesystem::file_size(html);
  EXPECT_LT(size, 8'000'000u);
  double load_ms = 0;
  std::string page = browser_->open("file://" + html, 60'000, &load_ms);
  ASSERT_FALSE(page.empty()) << browser_->last_error();
  EXPECT_EQ(browser_->eval(page, "document.querySelectorAll('#conns tbody tr').length").get<int>(), 500);
  EXPECT_NE(browser_->eval(page, "document.getElementById('capnote').textContent").get<std::string>().find("of 250000"),
            std::string::npos);
  EXPECT_NE(browser_->eval(page, "document.getElementById('count').textContent").get<std::string>().find("first 500 shown"),
            std::string::npos);
  std::string id = click_first_row(*browser_, page);
  ASSERT_FALSE(id.empty()) << browser_->last_error();
  EXPECT_GE(browser_->eval(page, "document.querySelectorAll('#ladder line.pkt').length").get<int>(), 3);
  EXPECT_TRUE(browser_->page_errors().empty()) << browser_->page_errors().front();
  fmt::print("1,000,000-packet capture: report {} bytes, loaded in Chromium in {:.0f} ms\n", size, load_ms);
  RecordProperty("load_ms", static_cast<int>(load_ms));
}

}  // namespace
}  // namespace synscope::testing
