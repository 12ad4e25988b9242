// synscope lab: drills that show what a tuning does, in network namespaces the lab builds and
// removes itself. Parsing and rendering only; the drills are in src/lab/.
#include <unistd.h>

#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/duration.h"
#include "core/file.h"
#include "render/format.h"
#include "render/json.h"
#include "render/table.h"
#include "lab/drills.h"
#include "lab/testbed.h"
#include "report/plot.h"

namespace synscope::cli {
namespace {

struct lab_args {
  std::string which;
  bool json = false;
  std::string report;
  std::vector<std::string> scenarios;
  // synflood
  double flood_rate = 2000;
  std::string duration;
  double probe_rate = 20;
  std::string probe_timeout = "3s";
  int backlog = 128;
  // timewait
  int ports = 500;
  double rate = 200;
  int sources = 4;
  // backlog
  uint64_t connections = 300;
  int concurrency = 100;
  double accept_rate = 200;
  int small = 8;
  int large = 1024;
  // fastopen
  std::string rtt = "50ms";
  uint64_t requests = 20;
};

std::string ms(int64_t ns) { return render::ms(ns, 1); }
std::string pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-" : fmt::format("{:.1f}", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}
int64_t counter(const std::map<std::string, int64_t>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}
std::string p_ms(const core::histogram& h, double p) { return h.count() == 0 ? "-" : ms(h.percentile(p)); }

// Each drill's table, as the terminal and the HTML report show it: one overload per drill and no
// fallback, so that a drill added to lab::drill_report without a table does not compile.
using align = render::table::align;

render::table results_table(const lab::synflood_report& r) {
  render::table t({{"scenario"}, {"legit ok", align::right}, {"ok %", align::right}, {"p50 ms", align::right},
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

render::table results_table(const lab::timewait_report& r) {
  render::table t({{"scenario"}, {"attempts", align::right}, {"ok", align::right}, {"EADDRNOTAVAIL", align::right},
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

render::table results_table(const lab::backlog_report& r) {
  render::table t({{"scenario"}, {"ok", align::right}, {"p50 ms", align::right}, {"p99 ms", align::right},
                 {"max ms", align::right}, {"SYN retransmits", align::right}, {"ListenOverflows", align::right},
                 {"accepted", align::right}});
  for (const auto& s : r.scenarios) {
    t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), p_ms(s.load.handshake, 50),
               p_ms(s.load.handshake, 99), s.load.handshake.count() == 0 ? "-" : ms(s.load.handshake.max()),
               std::to_string(counter(s.client_counters, "TCPSynRetrans")),
               std::to_string(counter(s.server_counters, "ListenOverflows")), std::to_string(s.accepted)});
  }
  return t;
}

render::table results_table(const lab::fastopen_report& r) {
  render::table t({{"scenario"}, {"requests ok", align::right}, {"p50 ms", align::right}, {"p99 ms", align::right},
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
void drill_fields(render::json_object& j, const lab::synflood_scenario& s) {
  j.field("half_open_peak", s.half_open_peak).field("flood_sent", s.flood_sent);
}
void drill_fields(render::json_object& j, const lab::timewait_scenario& s) { j.field("time_wait_peak", s.time_wait_peak); }
void drill_fields(render::json_object& j, const lab::backlog_scenario& s) { j.field("accepted", s.accepted); }
void drill_fields(render::json_object& /*j*/, const lab::fastopen_scenario& /*s*/) {}

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
  render::json_object params;
  for (const auto& [k, v] : r.parameters) params.field(k.substr(2), v);
  render::json_array scenarios;
  for (const auto& s : r.scenarios) {
    render::json_object settings;
    for (const auto& [k, v] : s.settings) settings.field(k, v);
    render::json_object errors;
    for (const auto& [e, n] : s.load.errors) errors.field(active::load_error_name(e), n);
    render::json_object server;
    for (const auto& [k, v] : s.server_counters) server.field(k, v);
    render::json_object client;
    for (const auto& [k, v] : s.client_counters) client.field(k, v);
    render::json_object j;
    j.field("key", s.key)
        .field("name", s.name)
        .field("settings", settings)
        .field("started", s.load.started)
        .field("succeeded", s.load.succeeded)
        .field("failed", s.load.failed)
        .field("errors", errors)
        .field("elapsed_s", static_cast<double>(s.load.elapsed_ns) / 1e9)
        .field("handshake_us", render::histogram_json_us(s.load.handshake))
        .field("latency_us", render::histogram_json_us(s.load.request))
        .field("data_in_syn", s.load.data_in_syn)
        .field("server_counters", server)
        .field("client_counters", client);
    drill_fields(j, s);
    scenarios.add(j);
  }
  render::json_object out;
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
std::string html_table(const render::table& t) { return "<pre>" + report::html_escape(t.render()) + "</pre>\n"; }

template <typename Report>
core::result<void> write_report(const Report& r, const std::string& path) {
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
  return core::write_file_atomically(path, report::html_page(fmt::format("synscope lab {}", Report::drill), body));
}

template <typename Report>
int render(const Report& r, const lab_args& args) {
  if (args.json) {
    fmt::print("{}\n", json_of(r));
  } else {
    fmt::print("synscope lab {}: {} scenario{}, each in namespaces of its own\n", Report::drill, r.scenarios.size(),
               r.scenarios.size() == 1 ? "" : "s");
    fmt::print("{}", results_table(r).render());
    if (auto line = saving(r)) fmt::print("{}\n", *line);
    fmt::print("repeat: {}\n", repeat_command(r));
    if (r.interrupted) fmt::print("interrupted: the scenarios above are those that finished\n");
  }
  if (!args.report.empty()) {
    if (auto w = write_report(r, args.report); !w) return fail(w.error());
  }
  return r.interrupted ? static_cast<int>(core::exit_code::failed) : 0;
}

// A drill's typed result into the variant.
template <typename Report>
core::result<lab::drill_report> any(core::result<Report> r) {
  if (!r) return r.error();
  return lab::drill_report(std::move(*r));
}

int run(const lab_args& args) {
  if (args.which == "cleanup") {
    auto removed = lab::cleanup_stale();
    for (const auto& name : removed) fmt::print("removed {}\n", name);
    if (removed.empty()) fmt::print("no lab namespaces left over\n");
    return 0;
  }
  if (!args.report.empty()) {
    if (auto c = core::check_output_path(args.report, "--report"); !c) return fail(c.error());
  }
  if (geteuid() != 0) {
    return fail(core::error{core::exit_code::no_permission, "lab: needs root (it creates network namespaces)"});
  }
  if (auto g = lab::guardian::start(); !g) return fail(g.error());  // first: the process has one thread
  auto& stop = install_interrupt_flag();
  bool show_progress = isatty(STDERR_FILENO) == 1 && !args.json;
  auto progress = [&](size_t i, size_t n, const std::string& name) {
    if (show_progress) fmt::print(stderr, "\r\033[K[{}/{}] {}", i + 1, n, name);
  };
  // A duration option, when given, into its field.
  auto set_duration = [](const std::string& text, int64_t& into, const char* what) -> core::result<void> {
    if (text.empty()) return {};
    auto d = core::parse_duration(text, what);
    if (!d) return d.error();
    into = *d;
    return {};
  };
  core::result<lab::drill_report> r = core::error{core::exit_code::usage, "lab: no drill"};
  if (args.which == "synflood") {
    lab::synflood_options o;
    o.flood_rate = args.flood_rate;
    o.probe_rate = args.probe_rate;
    o.backlog = args.backlog;
    o.scenarios = args.scenarios;
    if (auto e = set_duration(args.duration, o.duration_ns, "--duration"); !e) return fail(e.error());
    if (auto e = set_duration(args.probe_timeout, o.probe_timeout_ns, "--probe-timeout"); !e) return fail(e.error());
    r = any(lab::run_synflood(o, stop, progress));
  } else if (args.which == "timewait") {
    lab::timewait_options o;
    o.ports = args.ports;
    o.rate = args.rate;
    o.sources = args.sources;
    o.scenarios = args.scenarios;
    if (auto e = set_duration(args.duration, o.duration_ns, "--duration"); !e) return fail(e.error());
    r = any(lab::run_timewait(o, stop, progress));
  } else if (args.which == "backlog") {
    lab::backlog_options o;
    o.connections = args.connections;
    o.concurrency = args.concurrency;
    o.accept_rate = args.accept_rate;
    o.small = args.small;
    o.large = args.large;
    o.scenarios = args.scenarios;
    r = any(lab::run_backlog(o, stop, progress));
  } else if (args.which == "fastopen") {
    lab::fastopen_options o;
    o.requests = args.requests;
    o.scenarios = args.scenarios;
    int64_t rtt_ns = 0;
    if (auto e = set_duration(args.rtt, rtt_ns, "--rtt"); !e) return fail(e.error());
    o.rtt_ms = static_cast<int>(rtt_ns / 1'000'000);
    r = any(lab::run_fastopen(o, stop, progress));
  }
  if (show_progress) fmt::print(stderr, "\r\033[K");
  if (!r) return fail(r.error());
  return std::visit([&](const auto& report) { return render(report, args); }, *r);
}

void add_common(CLI::App* cmd, lab_args& args, const std::vector<std::string>& keys) {
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
  cmd->add_option("--scenarios", args.scenarios, "Which to run, comma-separated: " + list + " (default: all)")
      ->delimiter(',');
  cmd->add_flag("--json", args.json, "One JSON object with the parameters and every scenario's figures");
  cmd->add_option("--report", args.report, "Also write a self-contained HTML file with the latency CDFs");
}

}  // namespace

command_runner add_lab_command(CLI::App& app) {
  auto args = std::make_shared<lab_args>();
  CLI::App* cmd = app.add_subcommand(
      "lab", "Drills that show what a tuning does: SYN flood, TIME-WAIT, backlog, TFO, in namespaces of their own");
  cmd->require_subcommand(1);
  cmd->footer(
      "Each scenario builds two network namespaces joined by a veth pair (synscope-lab-<pid>-...), runs the\n"
      "server and the traffic there, and removes them; nothing of the host changes. Root only. A guardian\n"
      "process removes the namespaces even if synscope is killed; 'synscope lab cleanup' removes any left.\n"
      "Examples:\n"
      "  synscope lab synflood                          # SYN cookies off vs on (and more) under a flood\n"
      "  synscope lab timewait --scenarios baseline,reuse\n"
      "  synscope lab backlog --report backlog.html\n"
      "  synscope lab fastopen --rtt 80ms --json\n"
      "Exit codes: 0 the drill ran, 1 interrupted, 2 bad arguments, 3 the system refused, 77 not root.");

  auto* flood = cmd->add_subcommand("synflood", "Spoofed SYNs at a server while a legitimate client connects");
  flood->add_option("--flood-rate", args->flood_rate, "Spoofed SYNs per second")->capture_default_str();
  flood->add_option("--duration", args->duration, "How long the legitimate client runs (default 5s)");
  flood->add_option("--probe-rate", args->probe_rate, "Legitimate handshakes per second")->capture_default_str();
  flood->add_option("--probe-timeout", args->probe_timeout, "A legitimate handshake fails after this")->capture_default_str();
  flood->add_option("--backlog", args->backlog, "listen() backlog = tcp_max_syn_backlog = somaxconn")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  add_common(flood, *args, lab::synflood_scenarios());
  flood->footer("Example:\n  synscope lab synflood --scenarios off,on --flood-rate 1000 --duration 3s");

  auto* tw = cmd->add_subcommand("timewait", "Short connections until the local ports run out, and three cures");
  tw->add_option("--ports", args->ports, "Width of the client's ip_local_port_range")->capture_default_str();
  tw->add_option("--rate", args->rate, "Connections per second")->capture_default_str();
  tw->add_option("--duration", args->duration, "How long (default 4s)");
  tw->add_option("--sources", args->sources, "Client addresses in the 'sources' scenario")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  add_common(tw, *args, lab::timewait_scenarios());
  tw->footer("Example:\n  synscope lab timewait --ports 250 --rate 100 --duration 3.5s");

  auto* bl = cmd->add_subcommand("backlog", "A slow-accepting server: small vs large backlog, somaxconn capping it");
  bl->add_option("-n,--connections", args->connections, "Connections")->capture_default_str();
  bl->add_option("-c,--concurrency", args->concurrency, "In flight at once")->check(CLI::Range(1, 10000))->capture_default_str();
  bl->add_option("--accept-rate", args->accept_rate, "The server's accept() calls per second")->capture_default_str();
  bl->add_option("--small", args->small, "The small backlog")->capture_default_str();
  bl->add_option("--large", args->large, "The large backlog")->capture_default_str();
  add_common(bl, *args, lab::backlog_scenarios());
  bl->footer("Example:\n  synscope lab backlog -n 300 -c 100 --accept-rate 200");

  auto* tfo = cmd->add_subcommand("fastopen", "Request latency with and without TCP Fast Open over an emulated RTT");
  tfo->add_option("--rtt", args->rtt, "Emulated round trip (netem, half on each end)")->capture_default_str();
  tfo->add_option("-n,--requests", args->requests, "Requests per scenario, one at a time")->capture_default_str();
  add_common(tfo, *args, lab::fastopen_scenarios());
  tfo->footer("Example:\n  synscope lab fastopen --rtt 50ms -n 20");

  auto* clean = cmd->add_subcommand("cleanup", "Remove lab namespaces left by a lab that died");
  clean->footer("Example:\n  synscope lab cleanup");

  return [args, flood, tw, bl, tfo, clean] {
    if (flood->parsed()) args->which = "synflood";
    if (tw->parsed()) args->which = "timewait";
    if (bl->parsed()) args->which = "backlog";
    if (tfo->parsed()) args->which = "fastopen";
    if (clean->parsed()) args->which = "cleanup";
    return run(*args);
  };
}

}  // namespace synscope::cli
