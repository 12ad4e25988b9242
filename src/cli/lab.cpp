// synscope lab: drills that show what a tuning does, in network namespaces the lab builds and
// removes itself. Parsing and rendering only; the drills are in src/lab/.
#include <unistd.h>


#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/duration.h"
#include "core/file.h"
#include "core/json.h"
#include "core/table.h"
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

std::string ms(int64_t ns) { return fmt::format("{:.1f}", static_cast<double>(ns) / 1e6); }
std::string pct(uint64_t part, uint64_t whole) {
  return whole == 0 ? "-" : fmt::format("{:.1f}", 100.0 * static_cast<double>(part) / static_cast<double>(whole));
}
int64_t counter(const std::map<std::string, int64_t>& m, const char* name) {
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}
std::string p_ms(const core::histogram& h, double p) { return h.count() == 0 ? "-" : ms(h.percentile(p)); }

// The whole table of a drill's results, as the terminal and the HTML report show it.
core::table results_table(const lab::drill_report& r) {
  using a = core::table::align;
  if (r.drill == "synflood") {
    core::table t({{"scenario"}, {"legit ok", a::right}, {"ok %", a::right}, {"p50 ms", a::right}, {"p99 ms", a::right},
                   {"half-open peak", a::right}, {"ListenDrops", a::right}, {"SyncookiesSent", a::right},
                   {"flood SYNs", a::right}});
    for (const auto& s : r.scenarios) {
      t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), pct(s.load.succeeded, s.load.started),
                 p_ms(s.load.handshake, 50), p_ms(s.load.handshake, 99), std::to_string(s.half_open_peak),
                 std::to_string(counter(s.server_counters, "ListenDrops")),
                 std::to_string(counter(s.server_counters, "SyncookiesSent")), std::to_string(s.flood_sent)});
    }
    return t;
  }
  if (r.drill == "timewait") {
    core::table t({{"scenario"}, {"attempts", a::right}, {"ok", a::right}, {"EADDRNOTAVAIL", a::right},
                   {"ok before exhausted", a::right}, {"TIME-WAIT peak", a::right}, {"ok/s", a::right},
                   {"TWRecycled", a::right}});
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
  if (r.drill == "backlog") {
    core::table t({{"scenario"}, {"ok", a::right}, {"p50 ms", a::right}, {"p99 ms", a::right}, {"max ms", a::right},
                   {"SYN retransmits", a::right}, {"ListenOverflows", a::right}, {"accepted", a::right}});
    for (const auto& s : r.scenarios) {
      t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), p_ms(s.load.handshake, 50),
                 p_ms(s.load.handshake, 99), s.load.handshake.count() == 0 ? "-" : ms(s.load.handshake.max()),
                 std::to_string(counter(s.client_counters, "TCPSynRetrans")),
                 std::to_string(counter(s.server_counters, "ListenOverflows")), std::to_string(s.accepted)});
    }
    return t;
  }
  core::table t({{"scenario"}, {"requests ok", a::right}, {"p50 ms", a::right}, {"p99 ms", a::right},
                 {"data in SYN", a::right}, {"FastOpenActive", a::right}, {"FastOpenPassive", a::right}});
  for (const auto& s : r.scenarios) {
    t.add_row({s.name, fmt::format("{}/{}", s.load.succeeded, s.load.started), p_ms(s.load.request, 50),
               p_ms(s.load.request, 99), std::to_string(s.load.data_in_syn),
               std::to_string(counter(s.client_counters, "TCPFastOpenActive")),
               std::to_string(counter(s.server_counters, "TCPFastOpenPassive"))});
  }
  return t;
}

// fastopen: what TFO saved at the median, when both scenarios ran.
std::optional<double> saved_ms(const lab::drill_report& r) {
  const core::histogram* without = nullptr;
  const core::histogram* with = nullptr;
  for (const auto& s : r.scenarios) {
    if (s.key == "without") without = &s.load.request;
    if (s.key == "with") with = &s.load.request;
  }
  if (without == nullptr || with == nullptr || without->count() == 0 || with->count() == 0) return std::nullopt;
  return static_cast<double>(without->percentile(50) - with->percentile(50)) / 1e6;
}

std::string repeat_command(const lab::drill_report& r) {
  std::string cmd = "synscope lab " + r.drill;
  for (const auto& [k, v] : r.parameters) cmd += " " + k + " " + v;
  std::string keys;
  for (const auto& s : r.scenarios) keys += (keys.empty() ? "" : ",") + s.key;
  if (!keys.empty()) cmd += " --scenarios " + keys;
  return cmd;
}

const core::histogram& plotted(const lab::drill_report& r, const lab::scenario_result& s) {
  return r.drill == "fastopen" ? s.load.request : s.load.handshake;
}

std::string json_of(const lab::drill_report& r, int rtt_ms) {
  core::json_object params;
  for (const auto& [k, v] : r.parameters) params.field(k.substr(2), v);
  std::string scenarios = "[";
  for (const auto& s : r.scenarios) {
    core::json_object settings;
    for (const auto& [k, v] : s.settings) settings.field(k, v);
    core::json_object errors;
    for (const auto& [e, n] : s.load.errors) errors.field(active::load_error_name(e), n);
    core::json_object server;
    for (const auto& [k, v] : s.server_counters) server.field(k, v);
    core::json_object client;
    for (const auto& [k, v] : s.client_counters) client.field(k, v);
    core::json_object j;
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
    if (r.drill == "synflood") j.field("half_open_peak", s.half_open_peak).field("flood_sent", s.flood_sent);
    if (r.drill == "timewait") j.field("time_wait_peak", s.time_wait_peak);
    if (r.drill == "backlog") j.field("accepted", s.accepted);
    scenarios += (scenarios.size() > 1 ? "," : "") + j.str();
  }
  scenarios += "]";
  core::json_object out;
  out.field("type", "lab").field("drill", r.drill).field("parameters", params).field("interrupted", r.interrupted);
  if (r.drill == "fastopen") {
    out.field("rtt_ms", rtt_ms);
    if (auto saved = saved_ms(r)) out.field("saved_ms", *saved);
    else out.null_field("saved_ms");
  }
  out.raw_field("scenarios", scenarios).field("repeat", repeat_command(r));
  return out.str();
}

// The table as the terminal shows it, in a <pre>: the same columns, the same alignment.
std::string html_table(const core::table& t) { return "<pre>" + report::html_escape(t.render()) + "</pre>\n"; }

core::result<void> write_report(const lab::drill_report& r, const std::string& path, int rtt_ms) {
  std::string body = fmt::format("<h1>synscope lab {}</h1>\n<p>Repeat: <code>{}</code></p>\n", r.drill,
                                 report::html_escape(repeat_command(r)));
  body += html_table(results_table(r));
  if (r.drill == "fastopen") {
    if (auto saved = saved_ms(r)) {
      body += fmt::format("<p>TFO saved {:.1f} ms at the median: {:.2f} of the emulated {} ms round trip.</p>\n", *saved,
                          *saved / rtt_ms, rtt_ms);
    }
  }
  std::vector<report::series> series;
  for (const auto& s : r.scenarios) series.push_back(report::series_of(s.name, plotted(r, s)));
  body += report::cdf_svg(series, r.drill == "fastopen" ? "Request time (connect to reply), per scenario"
                                                        : "Handshake time seen by the client, per scenario");
  body += "<h2>Settings per scenario</h2>\n<ul>\n";
  for (const auto& s : r.scenarios) {
    std::string items;
    for (const auto& [k, v] : s.settings) items += fmt::format("{} = {}; ", k, v);
    body += fmt::format("<li><b>{}</b>: {}</li>\n", report::html_escape(s.name), report::html_escape(items));
  }
  body += "</ul>\n";
  return core::write_file_atomically(path, report::html_page("synscope lab " + r.drill, body));
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
  int rtt_ms = 0;
  if (args.which == "synflood") {
    lab::synflood_options o;
    o.flood_rate = args.flood_rate;
    o.probe_rate = args.probe_rate;
    o.backlog = args.backlog;
    o.scenarios = args.scenarios;
    if (auto e = set_duration(args.duration, o.duration_ns, "--duration"); !e) return fail(e.error());
    if (auto e = set_duration(args.probe_timeout, o.probe_timeout_ns, "--probe-timeout"); !e) return fail(e.error());
    if (o.duration_ns <= 0 || o.duration_ns > 600'000'000'000 || !(o.flood_rate > 0) || o.flood_rate > 1e6 ||
        !(o.probe_rate > 0) || o.probe_rate > 10'000) {
      return fail(core::error{core::exit_code::usage,
                              "synflood: --duration up to 10m, --flood-rate up to 1000000/s, --probe-rate up to 10000/s"});
    }
    r = lab::run_synflood(o, stop, progress);
  } else if (args.which == "timewait") {
    lab::timewait_options o;
    o.ports = args.ports;
    o.rate = args.rate;
    o.sources = args.sources;
    o.scenarios = args.scenarios;
    if (auto e = set_duration(args.duration, o.duration_ns, "--duration"); !e) return fail(e.error());
    if (o.duration_ns <= 0 || o.duration_ns > 600'000'000'000 || !(o.rate > 0) || o.rate > 100'000) {
      return fail(core::error{core::exit_code::usage, "timewait: --duration up to 10m, --rate up to 100000/s"});
    }
    r = lab::run_timewait(o, stop, progress);
  } else if (args.which == "backlog") {
    lab::backlog_options o;
    o.connections = args.connections;
    o.concurrency = args.concurrency;
    o.accept_rate = args.accept_rate;
    o.small = args.small;
    o.large = args.large;
    o.scenarios = args.scenarios;
    if (o.connections == 0 || o.connections > 100'000) {
      return fail(core::error{core::exit_code::usage, "backlog: -n 1 to 100000"});
    }
    r = lab::run_backlog(o, stop, progress);
  } else if (args.which == "fastopen") {
    lab::fastopen_options o;
    o.requests = args.requests;
    o.scenarios = args.scenarios;
    int64_t rtt_ns = 0;
    if (auto e = set_duration(args.rtt, rtt_ns, "--rtt"); !e) return fail(e.error());
    o.rtt_ms = static_cast<int>(rtt_ns / 1'000'000);
    rtt_ms = o.rtt_ms;
    if (o.requests == 0 || o.requests > 10'000) {
      return fail(core::error{core::exit_code::usage, "fastopen: -n 1 to 10000"});
    }
    r = lab::run_fastopen(o, stop, progress);
  }
  if (show_progress) fmt::print(stderr, "\r\033[K");
  if (!r) return fail(r.error());
  if (args.json) {
    fmt::print("{}\n", json_of(*r, rtt_ms));
  } else {
    fmt::print("synscope lab {}: {} scenario{}, each in namespaces of its own\n", r->drill, r->scenarios.size(),
               r->scenarios.size() == 1 ? "" : "s");
    fmt::print("{}", results_table(*r).render());
    if (auto saved = saved_ms(*r)) {
      fmt::print("TFO saved {:.1f} ms at the median: {:.2f} of the emulated {} ms round trip\n", *saved,
                 *saved / rtt_ms, rtt_ms);
    }
    fmt::print("repeat: {}\n", repeat_command(*r));
    if (r->interrupted) fmt::print("interrupted: the scenarios above are those that finished\n");
  }
  if (!args.report.empty()) {
    if (auto w = write_report(*r, args.report, rtt_ms); !w) return fail(w.error());
  }
  return r->interrupted ? static_cast<int>(core::exit_code::failed) : 0;
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
