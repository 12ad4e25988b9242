#include "render/bench.h"

#include <algorithm>
#include <cerrno>
#include <initializer_list>

#include <fmt/format.h>

#include "render/format.h"
#include "render/json.h"
#include "render/table.h"
#include "report/plot.h"

namespace synscope::render {

const char* const ports_exhausted_fix =
    "local ports exhausted (TIME_WAIT): the kernel had no free source port for this target. Fixes: spread "
    "source addresses (--source 127.0.0.2-127.0.0.60), widen net.ipv4.ip_local_port_range, let connects reuse "
    "TIME-WAIT ports (net.ipv4.tcp_tw_reuse=1, with timestamps), or reuse connections (--mode pooled)";

namespace {

constexpr std::initializer_list<stat> latency_stats = {stat::count, stat::min, stat::mean, stat::p50,
                                                       stat::p90,   stat::p99, stat::p999, stat::max};

double seconds_of(const active::load_report& r) { return static_cast<double>(r.elapsed_ns) / 1e9; }
double per_second(const active::load_report& r) {
  double s = seconds_of(r);
  return s > 0 ? static_cast<double>(r.succeeded) / s : 0;
}
const char* latency_label(const active::load_options& o) { return o.rate > 0 ? "latency (from due time)" : "latency"; }

}  // namespace

std::string bench_progress(uint64_t done, uint64_t total, int64_t elapsed_ns, int64_t duration_ns) {
  double seconds = static_cast<double>(elapsed_ns) / 1e9;
  double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  std::string out;
  if (total > 0) {
    constexpr size_t width = 20;
    size_t filled = std::min(width, static_cast<size_t>(static_cast<double>(done) / static_cast<double>(total) * width));
    out = fmt::format("[{}{}] {}/{}  {:.0f}/s  {:.1f} s", std::string(filled, '#'), std::string(width - filled, '-'), done,
                      total, rate, seconds);
    // The count's ETA, or the duration's when that ends the run first.
    double left = rate > 0 ? static_cast<double>(total - std::min(done, total)) / rate : -1;
    if (duration_ns > 0) {
      double by_time = std::max(0.0, static_cast<double>(duration_ns) / 1e9 - seconds);
      left = left < 0 ? by_time : std::min(left, by_time);
    }
    out += left < 0 ? ", ETA -" : fmt::format(", ETA {:.1f} s", left);
  } else {
    out = fmt::format("{}  {:.0f}/s  {:.1f} s of {:.1f} s", done, rate, seconds, static_cast<double>(duration_ns) / 1e9);
  }
  return out;
}

std::string bench_json(const bench_result& b) {
  const auto& o = b.options;
  const auto& r = b.report;
  json_object errors;
  for (const auto& [e, n] : r.errors) errors.field(active::load_error_name(e), n);
  json_object k;
  for (const auto& [name, d] : b.kernel_delta) k.field(name, d);
  json_object j;
  j.field("type", "summary")
      .field("target", o.target.to_string())
      .field("mode", active::load_mode_name(o.mode))
      .field("loop", o.rate > 0 ? "open" : "closed")
      .field("concurrency", o.concurrency)
      .field("threads", o.threads)
      .field("started", r.started)
      .field("succeeded", r.succeeded)
      .field("failed", r.failed)
      .field("connections", r.connections)
      .field("data_in_syn", r.data_in_syn)
      .field("not_started", r.not_started)
      .field("elapsed_s", seconds_of(r))
      .field("per_s", per_second(r))
      .field("handshake_us", histogram_json_us(r.handshake))
      .field("latency_us", histogram_json_us(r.request))
      .field("errors", errors)
      .field("kernel_delta", k);
  if (!r.http_status.empty()) {
    json_object codes;
    for (const auto& [code, n] : r.http_status) codes.field(std::to_string(code), n);
    j.field("http_status", codes).field("non_2xx", r.non_2xx()).field("chunked_replies", r.chunked_replies);
  }
  if (r.errors_of(EADDRNOTAVAIL) > 0) j.field("ports_exhausted", ports_exhausted_fix);
  return j.str() + "\n";
}

std::string bench_text(const bench_result& b) {
  const auto& o = b.options;
  const auto& r = b.report;
  std::string out = fmt::format("synscope bench {}: {}, {} loop, concurrency {}, {} thread{}\n", o.target.to_string(),
                                active::load_mode_name(o.mode), o.rate > 0 ? fmt::format("open ({:g}/s)", o.rate) : "closed",
                                o.concurrency, o.threads, o.threads == 1 ? "" : "s");
  out += fmt::format("started {}, succeeded {}, failed {} in {:.3f} s: {:.0f} {}/s ({} connections)\n", r.started,
                     r.succeeded, r.failed, seconds_of(r), per_second(r),
                     o.mode == active::load_mode::connect ? "connections" : "requests", r.connections);
  table t({{""}, {"count", table::align::right}, {"min_ms", table::align::right}, {"avg_ms", table::align::right},
           {"p50_ms", table::align::right}, {"p90_ms", table::align::right}, {"p99_ms", table::align::right},
           {"p99.9_ms", table::align::right}, {"max_ms", table::align::right}});
  t.add_row(histogram_row("handshake", r.handshake, latency_stats));
  t.add_row(histogram_row(latency_label(o), r.request, latency_stats));
  out += t.render();
  if (!r.errors.empty()) {
    std::string line = "errors:";
    for (const auto& [e, n] : r.errors) line += fmt::format(" {} {}", active::load_error_name(e), n);
    out += line + "\n";
  }
  if (!r.http_status.empty()) {
    // As ab's "Non-2xx responses" and wrk's "Non-2xx or 3xx responses", with each code counted.
    std::string line = "HTTP status:";
    for (const auto& [code, n] : r.http_status) line += fmt::format(" {} {}", code, n);
    if (uint64_t bad = r.non_2xx(); bad > 0) line += fmt::format("  (non-2xx responses: {})", bad);
    if (r.chunked_replies > 0) line += fmt::format("; {} chunked", r.chunked_replies);
    out += line + "\n";
  }
  if (o.fastopen) out += fmt::format("fast open: {} requests carried their data on the SYN\n", r.data_in_syn);
  if (r.not_started > 0) {
    out += fmt::format("not started: {} attempts were due but no slot (-c) freed up within --timeout after the duration\n",
                       r.not_started);
  }
  std::string k = "kernel, whole namespace, during the run:";
  for (const auto& [name, d] : b.kernel_delta) {
    k += fmt::format(" {} {:+}", name.starts_with("TcpExt") ? name.substr(6) : name, d);
  }
  return out + k + "\n";
}

std::string bench_html(const bench_result& b) {
  const auto& o = b.options;
  const auto& r = b.report;
  std::string body = fmt::format(
      "<h1>synscope bench {}</h1>\n<p>{}, {} loop, concurrency {}: started {}, succeeded {}, failed {} in {:.3f} s "
      "({:.0f}/s).</p>\n",
      report::html_escape(o.target.to_string()), active::load_mode_name(o.mode), o.rate > 0 ? "open" : "closed",
      o.concurrency, r.started, r.succeeded, r.failed, seconds_of(r), per_second(r));
  // What was run, so that the page alone says how to run it again.
  std::vector<std::vector<std::string>> params = {
      {"target", o.target.to_string()},
      {"mode", active::load_mode_name(o.mode)},
      {"loop", o.rate > 0 ? fmt::format("open, {:g} attempts/s", o.rate) : "closed"},
      {"concurrency", std::to_string(o.concurrency)},
      {"threads", std::to_string(o.threads)},
      {"count", o.count == 0 ? "-" : std::to_string(o.count)},
      {"duration", o.duration_ns == 0 ? "-" : format_duration(o.duration_ns)},
      {"timeout", format_duration(o.timeout_ns)},
      {"fast open", o.fastopen ? "yes" : "no"},
      {"source addresses", o.sources.empty() ? "the kernel's choice" : std::to_string(o.sources.size())},
  };
  if (o.mode != active::load_mode::connect) params.push_back({"request bytes", std::to_string(o.data.size())});
  body += "<h2>Parameters</h2>\n" + report::html_table("params", {"parameter", "value"}, params);
  const char* latency = latency_label(o);
  std::vector<std::string> head{""};
  for (const char* h : {"count", "min ms", "avg ms", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"}) head.emplace_back(h);
  body += "<h2>Percentiles</h2>\n" + report::html_table("percentiles", head,
                                                        {histogram_row("handshake", r.handshake, latency_stats),
                                                         histogram_row(latency, r.request, latency_stats)});
  std::vector<std::vector<std::string>> outcomes;
  for (const auto& [e, n] : r.errors) outcomes.push_back({active::load_error_name(e), std::to_string(n)});
  for (const auto& [code, n] : r.http_status) outcomes.push_back({fmt::format("HTTP {}", code), std::to_string(n)});
  if (!outcomes.empty()) body += "<h2>Errors and replies</h2>\n" + report::html_table("outcomes", {"what", "attempts"}, outcomes);
  std::vector<std::vector<std::string>> kernel;
  for (const auto& [name, d] : b.kernel_delta) kernel.push_back({name, fmt::format("{:+}", d)});
  body += "<h2>Kernel counters during the run</h2>\n<p>The whole namespace's, so other traffic counts too.</p>\n" +
          report::html_table("kernel", {"counter", "change"}, kernel);
  body += "<h2>Distributions</h2>\n";
  body += report::bars_svg({{"handshake", &r.handshake}, {latency, &r.request}}, "How many took how long");
  body += report::cdf_svg({report::series_of("handshake", r.handshake), report::series_of(latency, r.request)},
                          "Cumulative share");
  return report::html_page("synscope bench " + o.target.to_string(), body);
}

}  // namespace synscope::render
