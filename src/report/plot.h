#pragma once
// Latency pictures as inline SVG, and the self-contained HTML page they go into: the building
// blocks the lab's and bench's reports share. No scripts, no fetches: a file that opens
// anywhere.
//
//   std::vector<report::series> s = {report::series_of("cookies on", histogram)};
//   std::string svg = report::cdf_svg(s, "Handshake time, legitimate client");
//   write(report::html_page("synscope lab synflood", "<h1>...</h1>" + svg));
#include <string>
#include <vector>

#include "core/histogram.h"

namespace synscope::report {

/// One line of a plot: (value in ns, fraction of samples at or below it) points, rising.
struct series {
  std::string name;
  std::vector<std::pair<double, double>> points;
  uint64_t count = 0;
};

/// The distribution of a nanosecond histogram as CDF points (0.5 % steps, and the maximum).
series series_of(const std::string& name, const core::histogram& h);

/// A CDF plot (x: time on a log scale, in ms; y: 0-100 %), one coloured line per series with
/// a legend. Empty series are listed in the legend as "no samples".
std::string cdf_svg(const std::vector<series>& all, const std::string& title);

/// A histogram as bars over log-spaced bins (time on a log scale, count up), one colour per
/// histogram, side by side in each bin.
std::string bars_svg(const std::vector<std::pair<std::string, const core::histogram*>>& all, const std::string& title);

/// Lines over time: `x` is seconds (Unix time), one line per named series of the same length.
/// More points than the plot is wide are summed into wider steps (the title says how wide).
std::string timeline_svg(const std::vector<int64_t>& x, const std::vector<std::pair<std::string, std::vector<double>>>& lines,
                         const std::string& title);

/// `text` with &, <, >, " and ' escaped for HTML.
std::string html_escape(const std::string& text);

/// An HTML table: a header row of `head`, then `rows`, every cell escaped; `id` names it.
std::string html_table(const std::string& id, const std::vector<std::string>& head,
                       const std::vector<std::vector<std::string>>& rows);

/// A complete HTML document: `title`, a small style sheet (plus `head_extra`, e.g. more
/// style), and `body` as given (already HTML).
std::string html_page(const std::string& title, const std::string& body, const std::string& head_extra = {});

}  // namespace synscope::report
