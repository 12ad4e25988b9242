#include "render/format.h"

#include <fmt/format.h>

#include "core/clock.h"

namespace synscope::render {

std::string counted(uint64_t n, std::string_view noun, std::string_view plural) {
  if (n == 1) return fmt::format("1 {}", noun);
  return plural.empty() ? fmt::format("{} {}s", n, noun) : fmt::format("{} {}", n, plural);
}

std::string format_duration(int64_t ns) {
  auto trim = [](double v, const char* unit) {
    std::string s = fmt::format("{:.3f}", v);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
    return s + " " + unit;
  };
  int64_t mag = ns < 0 ? -ns : ns;
  if (mag == 0) return "0 s";
  if (mag >= core::ns_per_s) return trim(static_cast<double>(ns) / 1e9, "s");
  if (mag >= core::ns_per_ms) return trim(static_cast<double>(ns) / 1e6, "ms");
  if (mag >= core::ns_per_us) return trim(static_cast<double>(ns) / 1e3, "us");
  return trim(static_cast<double>(ns), "ns");
}

std::string ms(int64_t ns, int decimals) { return ms(static_cast<double>(ns), decimals); }

std::string ms(double ns, int decimals) { return fmt::format("{:.{}f}", ns / 1e6, decimals); }

std::vector<std::string> histogram_row(std::string_view label, const core::histogram& h,
                                       std::initializer_list<stat> stats) {
  std::vector<std::string> row{std::string(label)};
  for (stat s : stats) {
    if (s == stat::count) {
      row.push_back(std::to_string(h.count()));
      continue;
    }
    if (h.count() == 0) {
      row.emplace_back("-");
      continue;
    }
    switch (s) {
      case stat::count: break;
      case stat::min: row.push_back(ms(h.min())); break;
      case stat::mean: row.push_back(ms(h.mean())); break;
      case stat::p50: row.push_back(ms(h.percentile(50))); break;
      case stat::p90: row.push_back(ms(h.percentile(90))); break;
      case stat::p99: row.push_back(ms(h.percentile(99))); break;
      case stat::p999: row.push_back(ms(h.percentile(99.9))); break;
      case stat::max: row.push_back(ms(h.max())); break;
      case stat::stddev: row.push_back(ms(h.stddev())); break;
    }
  }
  return row;
}

json_object histogram_json_us(const core::histogram& h) {
  json_object o;
  o.field("count", h.count());
  if (h.count() == 0) {
    for (const char* k : {"min", "avg", "p50", "p90", "p99", "max", "stddev"}) o.null_field(k);
    return o;
  }
  o.micros("min", h.min())
      .micros("avg", h.mean())
      .micros("p50", h.percentile(50))
      .micros("p90", h.percentile(90))
      .micros("p99", h.percentile(99))
      .micros("max", h.max())
      .micros("stddev", h.stddev());
  return o;
}

}  // namespace synscope::render
