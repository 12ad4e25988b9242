#pragma once
// The Prometheus text exposition format (0.0.4), and OpenMetrics 1.0 when asked for: metric
// families with HELP and TYPE lines, escaped label values, numbers written the way Go's
// client_golang writes them (strconv 'g', shortest), so output matches node_exporter's byte
// for byte where the series are the same.
//
//   exporter::exposition out(exporter::format::prometheus);
//   out.family("synscope_tcp_sockets", "TCP sockets by state.", exporter::metric_type::gauge);
//   out.sample("synscope_tcp_sockets", {{"state", "time-wait"}}, 20512);
//   std::string body = out.finish();
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synscope::exporter {

enum class format { prometheus, openmetrics };
enum class metric_type { counter, gauge, histogram, untyped };

using labels = std::vector<std::pair<std::string_view, std::string_view>>;

/// "1264", "1.1595753e+07", "0.5", "NaN", "+Inf": what Go's strconv.FormatFloat(v, 'g', -1, 64) gives.
std::string format_value(double v);

/// A label value escaped for the text format: backslash, double quote and newline.
std::string escape_label(std::string_view v);

class exposition {
 public:
  explicit exposition(format f) : format_(f) {}
  /// Starts a family: its HELP and TYPE lines.
  void family(std::string_view name, std::string_view help, metric_type type);
  /// One sample line: name{labels} value.
  void sample(std::string_view name, const labels& l, double value);
  /// The whole text (OpenMetrics: with its "# EOF" line).
  std::string finish();
  [[nodiscard]] format kind() const { return format_; }

 private:
  format format_;
  std::string out_;
};

}  // namespace synscope::exporter
