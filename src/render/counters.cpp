#include "render/counters.h"

#include <algorithm>
#include <string_view>

#include <fmt/format.h>

#include "core/clock.h"
#include "render/json.h"
#include "render/table.h"

namespace synscope::render {

std::string counters_json(const std::vector<kernel::counter_row>& rows, const char* change_name) {
  std::string out;
  for (const auto& r : rows) {
    json_object j;
    j.field("name", r.name);
    if (r.value) j.field("value", *r.value); else j.null_field("value");
    if (*change_name != '\0') {
      if (r.change) j.field(change_name, *r.change); else j.null_field(change_name);
    }
    if (*r.group != '\0') j.field("group", r.group);
    if (*r.meaning != '\0') j.field("meaning", r.meaning);
    if (r.gauge) j.field("gauge", true);
    out += j.str() + "\n";
  }
  return out;
}

std::string counters_text(const std::vector<kernel::counter_row>& rows, const char* change_name, bool grouped) {
  std::vector<table::column> cols{{"counter"}, {"value", table::align::right}};
  if (*change_name != '\0') cols.push_back({change_name, table::align::right});
  // The default view comes in the handshake's groups, each with a heading; a pattern's matches in
  // the kernel's order, with the meaning where synscope knows one.
  grouped = grouped && !rows.empty() && *rows.front().group != '\0';
  bool meanings = std::any_of(rows.begin(), rows.end(), [](const kernel::counter_row& r) { return *r.meaning != '\0'; });
  if (meanings) cols.push_back({"meaning"});
  table t(cols);
  const char* group = "";
  std::string out;
  auto flush = [&] {
    if (t.rows() > 0) out += t.render();
    t = table(cols);
  };
  for (const auto& r : rows) {
    if (grouped && std::string_view(r.group) != group) {
      flush();
      group = r.group;
      for (const auto& g : kernel::handshake_groups()) {
        if (std::string_view(g.name) == group) out += fmt::format("{}{} ({})\n", out.empty() ? "" : "\n", g.title, g.name);
      }
    }
    std::vector<std::string> cells{r.name, r.value ? std::to_string(*r.value) : "n/a"};
    if (*change_name != '\0') {
      cells.push_back(!r.change ? "" : std::string_view(change_name) == "per_s" ? fmt::format("{:.1f}", *r.change)
                                                                              : fmt::format("{:.0f}", *r.change));
    }
    if (meanings) cells.emplace_back(r.meaning);
    t.add_row(std::move(cells));
  }
  flush();
  return out;
}

namespace {

// nstat's name without its table's prefix: the column header of the line view.
std::string_view short_name(std::string_view name) {
  for (std::string_view prefix : {"TcpExt", "IpExt", "Tcp6", "Tcp", "Ip6", "Ip", "Udp6", "Udp", "Icmp6", "Icmp"}) {
    if (name.size() > prefix.size() && name.substr(0, prefix.size()) == prefix) return name.substr(prefix.size());
  }
  return name;
}

size_t column_width(const kernel::counter_row& r) { return std::max<size_t>(short_name(r.name).size(), 7); }

// A rate as the line shows it: one decimal, or "-" where there is none (a gauge, a missing counter).
std::string rate_text(const kernel::counter_row& r) { return r.change ? fmt::format("{:.1f}", *r.change) : "-"; }

}  // namespace

std::string counters_line_header(const std::vector<kernel::counter_row>& rows) {
  std::string out = "time    ";
  for (const auto& r : rows) out += fmt::format(" {:>{}}", short_name(r.name), column_width(r));
  return out + "\n";
}

std::string counters_line(const std::vector<kernel::counter_row>& rows, int64_t unix_ns) {
  std::string out = core::format_time(unix_ns, "%H:%M:%S", core::time_zone::local);
  for (const auto& r : rows) out += fmt::format(" {:>{}}", rate_text(r), column_width(r));
  return out + "\n";
}

std::string counters_line_json(const std::vector<kernel::counter_row>& rows, int64_t unix_ns) {
  json_object rates;
  for (const auto& r : rows) {
    if (r.change) rates.field(r.name, *r.change); else rates.null_field(r.name);
  }
  return json_object().field("time_unix_ns", unix_ns).field("per_s", rates).str() + "\n";
}

}  // namespace synscope::render
