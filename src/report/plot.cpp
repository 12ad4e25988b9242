#include "report/plot.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/clock.h"

namespace synscope::report {
namespace {

constexpr const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string ms_label(double ms) {
  if (ms >= 1000) return fmt::format("{:g} s", ms / 1000);
  if (ms >= 1) return fmt::format("{:g} ms", ms);
  return fmt::format("{:g} µs", ms * 1000);
}

// The plots' common frame: a fixed-size SVG with a title, a plot area, and a legend of
// `legend_rows` rows below it.
struct frame {
  double width = 760;
  double height = 260;
  double left = 60;
  double right = 20;
  double top = 30;
  double bottom = 40;
  [[nodiscard]] double plot_w() const { return width - left - right; }
  [[nodiscard]] double plot_h() const { return height - top - bottom; }
  [[nodiscard]] std::string open(const std::string& title, size_t legend_rows) const {
    return fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"cdf\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
        "role=\"img\" aria-label=\"{2}\">\n<text x=\"{3}\" y=\"18\" class=\"title\">{2}</text>\n",
        width, height + 20.0 * static_cast<double>(legend_rows), html_escape(title), left);
  }
  // One legend row: a swatch of `colour` (`swatch_h` high) and its text.
  [[nodiscard]] std::string legend(size_t row, const char* colour, double swatch_h, const std::string& text) const {
    double ly = height + 4 + 20.0 * static_cast<double>(row);
    return fmt::format("<rect x=\"{}\" y=\"{:.0f}\" width=\"14\" height=\"{}\" fill=\"{}\"/>"
                       "<text x=\"{}\" y=\"{:.0f}\" class=\"legend\">{}</text>\n",
                       left, ly, swatch_h, colour, left + 20, ly + 6 + (swatch_h > 4 ? 2 : 0), html_escape(text));
  }
};

// Round tick values from 0 to at least `most`: 4 to 8 steps of 1, 2 or 5 times a power of ten.
std::vector<double> nice_ticks(double most) {
  if (most <= 0) most = 1;
  double raw = most / 5;
  double power = std::pow(10, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  }
  step = std::max(step, 1.0);  // counts: whole numbers
  std::vector<double> ticks;
  for (double v = 0; v < most + step; v += step) {
    ticks.push_back(v);
    if (v >= most) break;
  }
  return ticks;
}

// The y axis of a count: a grid line and a label at each tick, and the axis' name.
std::string y_axis(const frame& f, const std::vector<double>& ticks, const std::string& name) {
  std::string svg;
  double top_value = ticks.back();
  for (double t : ticks) {
    double y = f.top + f.plot_h() - t / top_value * f.plot_h();
    svg += fmt::format("<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" class=\"grid\"/>"
                       "<text x=\"{3}\" y=\"{4:.1f}\" class=\"tick\" text-anchor=\"end\">{5:g}</text>\n",
                       f.left, y, f.left + f.plot_w(), f.left - 6, y + 4, t);
  }
  svg += fmt::format("<text transform=\"translate(14,{:.1f}) rotate(-90)\" class=\"axis\" text-anchor=\"middle\">{}</text>\n",
                     f.top + f.plot_h() / 2, html_escape(name));
  return svg;
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

std::string html_table(const std::string& id, const std::vector<std::string>& head,
                       const std::vector<std::vector<std::string>>& rows) {
  std::string out = fmt::format("<table id=\"{}\"><tr>", html_escape(id));
  for (const auto& h : head) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& r : rows) {
    out += "<tr>";
    for (const auto& c : r) out += "<td>" + html_escape(c) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string cdf_svg(const std::vector<series>& all, const std::string& title) {
  const frame f{.height = 360, .bottom = 50};
  const double left = f.left;
  const double top = f.top;
  double lo = 1e300;
  double hi = 0;
  for (const auto& s : all) {
    for (const auto& [v, share] : s.points) {
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
  double plot_w = f.plot_w();
  double plot_h = f.plot_h();
  auto x_of = [&](double ms) { return left + (std::log10(std::max(ms, 1e-3)) - dlo) / (dhi - dlo) * plot_w; };
  auto y_of = [&](double share) { return top + (1 - share) * plot_h; };
  std::string svg = f.open(title, all.size());
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
      for (const auto& [v, share] : s.points) {
        double x = x_of(v / 1e6);
        double y = y_of(share);
        // A step plot: up at each value, then across.
        path += fmt::format("{}{:.1f},{:.1f} {:.1f},{:.1f}", path.empty() ? "M" : " L", x, last_y, x, y);
        last_y = y;
      }
      svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", path, colour);
    }
    svg += f.legend(i, colour, 4,
                    fmt::format("{} ({})", s.name, s.count == 0 ? std::string("no samples") : fmt::format("{} samples", s.count)));
  }
  svg += "</svg>\n";
  return svg;
}

std::string bars_svg(const std::vector<std::pair<std::string, const core::histogram*>>& all, const std::string& title) {
  const frame f;
  const double left = f.left;
  const double top = f.top;
  constexpr int bins = 40;
  int64_t lo = 0;
  int64_t hi = 0;
  for (const auto& [name, h] : all) {
    if (h->count() == 0) continue;
    lo = lo == 0 ? std::max<int64_t>(h->min(), 1000) : std::min(lo, std::max<int64_t>(h->min(), 1000));
    hi = std::max(hi, h->max());
  }
  std::string svg = f.open(title, all.size());
  double plot_w = f.plot_w();
  double plot_h = f.plot_h();
  if (hi > 0) {
    double dlo = std::floor(std::log10(static_cast<double>(lo) / 1e6));
    double dhi = std::ceil(std::log10(static_cast<double>(hi) / 1e6));
    if (dhi <= dlo) dhi = dlo + 1;
    auto edge = [&](int i) { return std::pow(10, dlo + (dhi - dlo) * i / bins) * 1e6; };  // ns
    std::vector<std::vector<uint64_t>> counts(all.size(), std::vector<uint64_t>(bins, 0));
    uint64_t most = 1;
    for (size_t k = 0; k < all.size(); ++k) {
      const core::histogram& h = *all[k].second;
      for (int i = 0; i < bins; ++i) {
        auto a = i == 0 ? -1 : static_cast<int64_t>(edge(i));
        auto b = i == bins - 1 ? h.max() : static_cast<int64_t>(edge(i + 1));
        uint64_t n = h.count_at_or_below(b) - (a < 0 ? 0 : h.count_at_or_below(a));
        counts[k][static_cast<size_t>(i)] = n;
        most = std::max(most, n);
      }
    }
    auto ticks = nice_ticks(static_cast<double>(most));
    double scale_top = ticks.back();
    svg += y_axis(f, ticks, "handshakes");
    double bin_w = plot_w / bins;
    double bar_w = bin_w / static_cast<double>(std::max<size_t>(all.size(), 1));
    for (size_t k = 0; k < all.size(); ++k) {
      for (int i = 0; i < bins; ++i) {
        uint64_t n = counts[k][static_cast<size_t>(i)];
        if (n == 0) continue;
        double h = plot_h * static_cast<double>(n) / scale_top;
        svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
                           left + bin_w * i + bar_w * static_cast<double>(k), top + plot_h - h, std::max(bar_w - 0.5, 0.5), h,
                           palette[k % std::size(palette)], html_escape(all[k].first), n);
      }
    }
    for (double d = dlo; d <= dhi; d += 1) {
      double x = left + (d - dlo) / (dhi - dlo) * plot_w;
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", x,
                         top + plot_h + 16, ms_label(std::pow(10, d)));
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">time (log scale)</text>\n",
                       left + plot_w / 2, top + plot_h + 34);
  }
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"grid\"/>\n", left, top + plot_h, left + plot_w);
  for (size_t k = 0; k < all.size(); ++k) {
    svg += f.legend(k, palette[k % std::size(palette)], 8, fmt::format("{} ({} samples)", all[k].first, all[k].second->count()));
  }
  svg += "</svg>\n";
  return svg;
}

std::string timeline_svg(const std::vector<int64_t>& x, const std::vector<std::pair<std::string, std::vector<double>>>& lines,
                         const std::string& title) {
  const frame f;
  const double left = f.left;
  const double top = f.top;
  double plot_w = f.plot_w();
  double plot_h = f.plot_h();
  size_t n = x.size();
  size_t step = std::max<size_t>(1, (n + 599) / 600);  // at most 600 points a line
  std::string full_title = step == 1 ? title : fmt::format("{} ({} s steps)", title, step);
  std::string svg = f.open(full_title, lines.size());
  if (n > 0) {
    int64_t x0 = x.front();
    int64_t x1 = std::max(x.back(), x0 + 1);
    std::vector<std::vector<std::pair<int64_t, double>>> pts(lines.size());
    double most = 1;
    for (size_t k = 0; k < lines.size(); ++k) {
      for (size_t i = 0; i < n; i += step) {
        double sum = 0;
        for (size_t j = i; j < std::min(n, i + step); ++j) sum += lines[k].second[j];
        pts[k].emplace_back(x[i], sum);
        most = std::max(most, sum);
      }
    }
    auto ticks = nice_ticks(most);
    double scale_top = ticks.back();
    svg += y_axis(f, ticks, step == 1 ? "per second" : fmt::format("per {} s", step));
    auto px = [&](int64_t t) { return left + static_cast<double>(t - x0) / static_cast<double>(x1 - x0) * plot_w; };
    auto py = [&](double v) { return top + plot_h - v / scale_top * plot_h; };
    for (size_t k = 0; k < lines.size(); ++k) {
      std::string path;
      for (const auto& [t, v] : pts[k]) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "M" : " L", px(t), py(v));
      svg += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"/>\n", path,
                         palette[k % std::size(palette)]);
    }
    // Seconds from the first, at round steps, and the first one's clock time.
    for (double t : nice_ticks(static_cast<double>(x1 - x0))) {
      if (t > static_cast<double>(x1 - x0)) break;
      double tx = px(x0 + static_cast<int64_t>(t));
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" class=\"grid\"/>"
                         "<text x=\"{0:.1f}\" y=\"{3}\" class=\"tick\" text-anchor=\"middle\">+{4:g} s</text>\n",
                         tx, top + plot_h, top + plot_h + 4, top + plot_h + 16, t);
    }
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"axis\" text-anchor=\"middle\">seconds from {} UTC</text>\n",
                       left + plot_w / 2, top + plot_h + 34,
                       core::format_time(x0 * core::ns_per_s, "%Y-%m-%d %H:%M:%S", core::time_zone::utc));
  }
  svg += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" class=\"grid\"/>\n", left, top + plot_h, left + plot_w);
  for (size_t k = 0; k < lines.size(); ++k) svg += f.legend(k, palette[k % std::size(palette)], 4, lines[k].first);
  svg += "</svg>\n";
  return svg;
}

std::string html_page(const std::string& title, const std::string& body, const std::string& head_extra) {
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n"
      "body {{ font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }}\n"
      "table {{ border-collapse: collapse; margin: 1em 0; }}\n"
      "th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}\n"
      "th:first-child, td:first-child {{ text-align: left; }}\n"
      "svg.cdf .grid {{ stroke: #ddd; }} svg.cdf .tick, svg.cdf .legend {{ font-size: 12px; fill: #444; }}\n"
      "svg.cdf .title {{ font-weight: bold; }} svg.cdf .axis {{ font-size: 12px; fill: #666; }}\n"
      "code {{ background: #f4f4f4; padding: 1px 4px; }}\n"
      "</style>\n{}</head>\n<body>\n{}</body>\n</html>\n",
      html_escape(title), head_extra, body);
}

}  // namespace synscope::report
