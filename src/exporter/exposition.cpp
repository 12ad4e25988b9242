#include "exporter/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace synscope::exporter {

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // The shortest digits that read back as v, then Go's choice for 'g' with precision -1
  // (strconv/ftoa.go): %e when the decimal exponent is < -4 or >= 6, else %f.
  char sci[64];
  auto [end, ec] = std::to_chars(sci, sci + sizeof sci, v, std::chars_format::scientific);
  std::string_view s(sci, static_cast<size_t>(end - sci));
  int exp = std::atoi(std::string(s.substr(s.find('e') + 1)).c_str());
  if (exp < -4 || exp >= 6) return std::string(s);  // "1.1595753e+07", as Go writes it
  char fixed[64];
  auto [fend, fec] = std::to_chars(fixed, fixed + sizeof fixed, v, std::chars_format::fixed);
  return std::string(fixed, static_cast<size_t>(fend - fixed));
}

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void exposition::family(std::string_view name, std::string_view help, metric_type type) {
  const char* t = "untyped";
  switch (type) {
    case metric_type::counter: t = "counter"; break;
    case metric_type::gauge: t = "gauge"; break;
    case metric_type::histogram: t = "histogram"; break;
    case metric_type::untyped: t = format_ == format::openmetrics ? "unknown" : "untyped"; break;
  }
  std::string_view family_name = name;
  if (format_ == format::openmetrics && type == metric_type::counter && family_name.size() > 6 &&
      family_name.substr(family_name.size() - 6) == "_total") {
    family_name.remove_suffix(6);  // OpenMetrics names the family without the sample's suffix
  }
  out_ += "# HELP ";
  out_ += family_name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += family_name;
  out_ += ' ';
  out_ += t;
  out_ += '\n';
}

void exposition::sample(std::string_view name, const labels& l, double value) {
  out_ += name;
  if (!l.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : l) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += escape_label(v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

std::string exposition::finish() {
  if (format_ == format::openmetrics) out_ += "# EOF\n";
  return std::move(out_);
}

}  // namespace synscope::exporter
