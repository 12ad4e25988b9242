#include "render/lab.h"

#include <cerrno>
#include <optional>
#include <type_traits>

#include <fmt/format.h>

#include "render/format.h"
#include "render/table.h"
#include "report/plot.h"

namespace synscope::render {
namespace {

std::string ms1(int64_t ns) { return ms(ns, 1); }
std::string pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-" : fmt::format("{:.1f}", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}
int64_t counter(const std::map<std::string, int64_t>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}
std::string p_ms(const core::histogram& h, double p) { return h.count() == 0 ? "-" : ms1(h.percentile(p)); }

// Each drill's table, as the terminal and the HTML report show it: one overload per drill and no
// fallback, so that a drill added to lab::drill_report without a table does not compile.
using align = table::align;

table results_table(const lab::synflood_report& r) {
  table t({{"scenario"}, {"legit ok", align::right}, {"ok %", align::right}, {"p50 ms", align::right},
                 {"p99 ms", align::right}, {"half-open peak", align::right}, {"ListenDrops", align::right},
                 {"SyncookiesSent", align::right}, {"flood SYNs", align::right}});
  for (const auto& s : r.scenarios) {
    t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), pct(s.load.succeeded, s.load.started),
               p_ms(s.load.handshake, 50), p_ms(s.load.handshake, 99), std::to_string(s.half_open_peak),
               std::to_string(counter(s.server_counters, "ListenDrops")),
               std::to_string(counter(s.server_counters, "SyncookiesSent")), std::to_string(s.flood_sent)});
  }
  return t;
}

table results_table(const lab::timewait_report& r) {
  table t({{"scenario"}, {"attempts", align::right}, {"ok", align::right}, {"EADDRNOTAVAIL", align::right},
                 {"ok before exhausted", align::right}, {"TIME-WAIT peak", align::right}, {"ok/s", align::right},
                 {"TWRecycled", align::right}});
  for (const auto& s : r.scenarios) {
    uint64_t exhausted = s.load.errors_of(EADDRNOTAVAIL);
    double secs = static_cast<double>(s.load.elapsed_ns) / 1e9;
    t.add_row({s.name, std::to_string(s.load.started), std::to_string(s.load.succeeded), std::to_string(exhausted),
               exhausted > 0 ? std::to_string(s.load.succeeded) : "never", std::to_string(s.time_wait_peak),
               secs > 0 ? fmt::format("{:.0f}", static_cast<double>(s.load.succeeded) / secs) : "-",
               std::to_string(counter(s.client_counters, "TWRecycled"))});
  }
  return t;
}

table results_table(const lab::backlog_report& r) {
  table t({{"scenario"}, {"ok", align::right}, {"p50 ms", align::right}, {"p99 ms", align::right},
                 {"max ms", align::right}, {"SYN retransmits", align::right}, {"ListenOverflows", align::right},
                 {"accepted", align::right}});
  for (const auto& s : r.scenarios) {
    t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), p_ms(s.load.handshake, 50),
               p_ms(s.load.handshake, 99), s.load.handshake.count() == 0 ? "-" : ms1(s.load.handshake.max()),
               std::to_string(counter(s.client_counters, "TCPSynRetrans")),
               std::to_string(counter(s.server_counters, "ListenOverflows")), std::to_string(s.accepted)});
  }
  return t;
}

table results_table(const lab::fastopen_report& r) {
  table t({{"scenario"}, {"requests ok", align::right}, {"p50 ms", align::right}, {"p99 ms", align::right},
                 {"data in SYN", align::right}, {"FastOpenActive", align::right}, {"FastOpenPassive", align::right}});
  for (const auto& s : r.scenarios) {
    t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), p_ms(s.load.request, 50),
               p_ms(s.load.request, 99), std::to_string(s.load.data_in_syn),
               std::to_string(counter(s.client_counters, "TCPFastOpenActive")),
               std::to_string(counter(s.server_counters, "TCPFastOpenPassive"))});
  }
  return t;
}

// What only one drill measures, in its scenario's JSON; again one overload per drill.
void drill_fields(json_object& j, const lab::synflood_scenario& s) {
  j.field("half_open_peak", s.half_open_peak).field("flood_sent", s.flood_sent);
}
void drill_fields(json_object& j, const lab::timewait_scenario& s) { j.field("time_wait_peak", s.time_wait_peak); }
void drill_fields(json_object& j, const lab::backlog_scenario& s) { j.field("accepted", s.accepted); }
void drill_fields(json_object& /*j*/, const lab::fastopen_scenario& /*s*/) {}

// The drill's own summary line, where it has one (TFO's saving over the emulated round trip).
std::optional<std::string> saving(const lab::fastopen_report& r) {
  auto saved = r.saved_ms();
  if (!saved) return std::nullopt;
  return fmt::format("TFO saved {:.1f} ms at the median: {:.2f} of the emulated {} ms round trip", *saved,
                     *saved / r.rtt_ms, r.rtt_ms);
}
template <typename Report>
std::optional<std::string> saving(const Report& /*r*/) {
  return std::nullopt;
}

// The curve each scenario contributes to the CDF plot: TFO is about the request, the others
// about the handshake.
const core::histogram& plotted(const lab::fastopen_scenario& s) { return s.load.request; }
const core::histogram& plotted(const lab::scenario_result& s) { return s.load.handshake; }

template <typename Report>
std::string repeat_command(const Report& r) {
  std::string cmd = fmt::format("synscope lab {}", Report::drill);
  for (const auto& [k, v] : r.parameters) cmd += " " + k + " " + v;
  std::string keys;
  for (const auto& s : r.scenarios) keys += (keys.empty() ? "" : ",") + s.key;
  if (!keys.empty()) cmd += " --scenarios " + keys;
  return cmd;
}

template <typename Report>
std::string json_of(const Report& r) {
  json_object params;
  for (const auto& [k, v] : r.parameters) params.field(k.substr(2), v);
  json_array scenarios;
  for (const auto& s : r.scenarios) {
    json_object settings;
    for (const auto& [k, v] : s.settings) settings.field(k, v);
    json_object errors;
    for (const auto& [e, n] : s.load.errors) errors.field(active::load_error_name(e), n);
    json_object server;
    for (const auto& [k, v] : s.server_counters) server.field(k, v);
    json_object client;
    for (const auto& [k, v] : s.client_counters) client.field(k, v);
    json_object j;
    j.field("key", s.key)
        .field("name", s.name)
        .field("settings", settings)
        .field("started", s.load.started)
        .field("succeeded", s.load.succeeded)
        .field("failed", s.load.failed)
        .field("errors", errors)
        .field("elapsed_s", static_cast<double>(s.load.elapsed_ns) / 1e9)
        .field("handshake_us", histogram_json_us(s.load.handshake))
        .field("latency_us", histogram_json_us(s.load.request))
        .field("data_in_syn", s.load.data_in_syn)
        .field("server_counters", server)
        .field("client_counters", client);
    drill_fields(j, s);
    scenarios.add(j);
  }
  json_object out;
  out.field("type", "lab").field("drill", Report::drill).field("parameters", params).field("interrupted", r.interrupted);
  if constexpr (std::is_same_v<Report, lab::fastopen_report>) {
    out.field("rtt_ms", r.rtt_ms);
    if (auto saved = r.saved_ms()) out.field("saved_ms", *saved);
    else out.null_field("saved_ms");
  }
  out.field("scenarios", scenarios).field("repeat", repeat_command(r));
  return out.str();
}

// The table as the terminal shows it, in a <pre>: the same columns, the same alignment.
std::string html_table(const table& t) { return "<pre>" + report::html_escape(t.render()) + "</pre>\n"; }

template <typename Report>
std::string html_of(const Report& r) {
  std::string body = fmt::format("<h1>synscope lab {}</h1>\n<p>Repeat: <code>{}</code></p>\n", Report::drill,
                                 report::html_escape(repeat_command(r)));
  body += html_table(results_table(r));
  if (auto line = saving(r)) body += fmt::format("<p>{}.</p>\n", *line);
  std::vector<report::series> series;
  for (const auto& s : r.scenarios) series.push_back(report::series_of(s.name, plotted(s)));
  body += report::cdf_svg(series, std::is_same_v<Report, lab::fastopen_report>
                                      ? "Request time (connect to reply), per scenario"
                                      : "Handshake time seen by the client, per scenario");
  body += "<h2>Settings per scenario</h2>\n<ul>\n";
  for (const auto& s : r.scenarios) {
    std::string items;
    for (const auto& [k, v] : s.settings) items += fmt::format("{} = {}; ", k, v);
    body += fmt::format("<li><b>{}</b>: {}</li>\n", report::html_escape(s.name), report::html_escape(items));
  }
  body += "</ul>\n";
  return report::html_page(fmt::format("synscope lab {}", Report::drill), body);
}

template <typename Report>
std::string text_of(const Report& r) {
  std::string out = fmt::format("synscope lab {}: {} scenario{}, each in namespaces of its own\n", Report::drill,
                                r.scenarios.size(), r.scenarios.size() == 1 ? "" : "s");
  out += results_table(r).render();
  if (auto line = saving(r)) out += *line + "\n";
  out += fmt::format("repeat: {}\n", repeat_command(r));
  if (r.interrupted) out += "interrupted: the scenarios above are those that finished\n";
  return out;
}

}  // namespace

std::string lab_text(const lab::drill_report& r) {
  return std::visit([](const auto& report) { return text_of(report); }, r);
}

std::string lab_json(const lab::drill_report& r) {
  return std::visit([](const auto& report) { return json_of(report); }, r);
}

std::string lab_html(const lab::drill_report& r) {
  return std::visit([](const auto& report) { return html_of(report); }, r);
}

}  // namespace synscope::render
