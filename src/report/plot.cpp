#include "report/plot.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace synscope::report {
namespace {

constexpr const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string ms_label(double ms) {
  if (ms >= 1000) return fmt::format("{:g} s", ms / 1000);
  if (ms >= 1) return fmt::format("{:g} ms", ms);
  return fmt::format("{:g} µs", ms * 1000);
}

}  // namespace

series series_of(const std::string& name, const core::histogram& h) {
  series s;
  s.name = name;
  s.count = h.count();
  if (h.count() == 0) return s;
  for (int i = 0; i <= 200; ++i) {
    double p = i * 0.5;
    s.points.emplace_back(static_cast<double>(h.percentile(std::max(p, 0.001))), p / 100.0);
  }
  s.points.emplace_back(static_cast<double>(h.max()), 1.0);
  return s;
}

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string cdf_svg(const std::vector<series>& all, const std::string& title) {
  constexpr double width = 760;
  constexpr double height = 360;
  constexpr double left = 60;
  constexpr double right = 20;
  constexpr double top = 30;
  constexpr double bottom = 50;
  double lo = 1e300;
  double hi = 0;
  for (const auto& s : all) {
    for (const auto& [v, f] : s.points) {
      double ms = std::max(v / 1e6, 0.001);
      lo = std::min(lo, ms);
      hi = std::max(hi, ms);
    }
  }
  if (hi <= 0) {
    lo = 0.1;
    hi = 1000;
  }
  // Whole decades around the data.
  double dlo = std::floor(std::log10(lo));
  double dhi = std::ceil(std::log10(hi));
  if (dhi <= dlo) dhi = dlo + 1;
  double plot_w = width - left - right;
  double plot_h = height - top - bottom;
  auto x_of = [&](double ms) { return left + (std::log10(std::max(ms, 1e-3)) - dlo) / (dhi - dlo) * plot_w; };
  auto y_of = [&](double f) { return top + (1 - f) * plot_h; };
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"cdf\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\" aria-label=\"{2}\">\n<text x=\"{3}\" y=\"18\" class=\"title\">{2}</text>\n",
      width, height + 20.0 * static_cast<double>(all.size()), html_escape(title), left);
  for (double d = dlo; d <= dhi; d += 1) {
    double x = x_of(std::pow(10, d));
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" class=\"grid\"/>"
                       "<text x=\"{0:.1f}\" y=\"{3}\" class=\"tick\" text-anchor=\"middle\">{4}</text>\n",
                       x, top, top + plot_h, top + plot_h + 16, ms_label(std::pow(10, d)));
  }
  for (int q = 0; q <= 4; ++q) {
    double y = y_of(q / 4.0);
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" class=\"grid\"/>"
                       "<text x=\"{3}\" y=\"{4:.1f}\" class=\"tick\" text-anchor=\"end\">{5}%</text>\n",
                       left, y, left + plot_w, left - 6, y + 4, q * 25);
  }
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">time (log scale)</text>\n",
                     left + plot_w / 2, top + plot_h + 36);
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& s = all[i];
    const char* colour = palette[i % std::size(palette)];
    if (!s.points.empty()) {
      std::string path;
      double last_y = y_of(0);
      for (const auto& [v, f] : s.points) {
        double x = x_of(v / 1e6);
        double y = y_of(f);
        // A step plot: up at each value, then across.
        path += fmt::format("{}{:.1f},{:.1f} {:.1f},{:.1f}", path.empty() ? "M" : " L", x, last_y, x, y);
        last_y = y;
      }
      svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", path, colour);
    }
    double ly = height + 4 + 20.0 * static_cast<double>(i);
    svg += fmt::format("<rect x=\"{}\" y=\"{:.0f}\" width=\"14\" height=\"4\" fill=\"{}\"/>"
                       "<text x=\"{}\" y=\"{:.0f}\" class=\"legend\">{} ({})</text>\n",
                       left, ly, colour, left + 20, ly + 6, html_escape(s.name),
                       s.count == 0 ? std::string("no samples") : fmt::format("{} samples", s.count));
  }
  svg += "</svg>\n";
  return svg;
}

std::string html_page(const std::string& title, const std::string& body) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n"
      "body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}\n"
      "table {{ border-collapse: collapse; margin: 1em 0; }}\n"
      "th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}\n"
      "th:first-child, td:first-child {{ text-align: left; }}\n"
      "svg.cdf .grid {{ stroke: #ddd; }} svg.cdf .tick, svg.cdf .legend {{ font-size: 12px; fill: #444; }}\n"
      "svg.cdf .title {{ font-weight: bold; }} svg.cdf .axis {{ font-size: 12px; fill: #666; }}\n"
      "code {{ background: #f4f4f4; padding: 1px 4px; }}\n"
      "</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      html_escape(title), body);
}

}  // namespace synscope::report
