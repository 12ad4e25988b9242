// The SVG CDF plot and the HTML page: one line per series with samples, escaped names, a page
// that needs nothing from the network.
#include <gtest/gtest.h>

#include "report/plot.h"

namespace synscope::report {
namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(Plot, SeriesFollowTheHistogram) {
  core::histogram h;
  for (int i = 1; i <= 1000; ++i) h.record(i * 1'000'000);  // 1 ms .. 1 s
  auto s = series_of("x", h);
  EXPECT_EQ(s.count, 1000u);
  ASSERT_FALSE(s.points.empty());
  EXPECT_NEAR(s.points.back().first, 1e9, 1e9 / 100);
  EXPECT_DOUBLE_EQ(s.points.back().second, 1.0);
  for (size_t i = 1; i < s.points.size(); ++i) {
    EXPECT_GE(s.points[i].first, s.points[i - 1].first);
    EXPECT_GE(s.points[i].second, s.points[i - 1].second);
  }
  // The median point sits near 500 ms.
  EXPECT_NEAR(s.points[100].first, 500e6, 500e6 / 50);
}

TEST(Plot, OneLinePerSeriesWithSamplesAndEscapedNames) {
  core::histogram a;
  a.record(2'000'000);
  a.record(3'000'000);
  core::histogram empty;
  std::string svg = cdf_svg({series_of("<on & off>", a), series_of("none", empty)}, "T \"1\"");
  EXPECT_EQ(count_of(svg, "<path "), 1u);
  EXPECT_NE(svg.find("&lt;on &amp; off&gt; (2 samples)"), std::string::npos) << svg;
  EXPECT_NE(svg.find("none (no samples)"), std::string::npos);
  EXPECT_NE(svg.find("T &quot;1&quot;"), std::string::npos);
  EXPECT_NE(svg.find(">1 ms<"), std::string::npos) << svg;  // a decade tick
  std::string page = html_page("a < b", svg);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("<title>a &lt; b</title>"), std::string::npos);
  EXPECT_EQ(page.find("http://"), page.find("http://www.w3.org/2000/svg"));  // no fetches: only the SVG namespace
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace synscope::report
