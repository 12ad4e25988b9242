// synscope lab: drills that show what a tuning does, in network namespaces the lab builds and
// removes itself. Parsing and rendering only; the drills are in src/lab/.
#include <unistd.h>

#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/file.h"
#include "render/lab.h"
#include "lab/drills.h"
#include "lab/testbed.h"

namespace synscope::cli {
namespace {

// Each drill's options are bound straight to its lab:: options; durations are taken as text
// ("3s", "500ms") and parsed in run().
struct lab_args {
  std::string which;
  bool json = false;
  std::string report;
  lab::synflood_options synflood;
  lab::timewait_options timewait;
  lab::backlog_options backlog;
  lab::fastopen_options fastopen;
  std::string duration;
  std::string probe_timeout = "3s";
  std::string rtt = "50ms";
};

// The drill's report as text or JSON, and the HTML report beside it when asked.
int render_report(const lab::drill_report& r, const lab_args& args) {
  fmt::print("{}", args.json ? render::lab_json(r) + "\n" : render::lab_text(r));
  if (!args.report.empty()) {
    auto w = core::write_file_atomically(args.report, render::lab_html(r));
    if (!w) return fail(w.error());
  }
  bool interrupted = std::visit([](const auto& report) { return report.interrupted; }, r);
  return interrupted ? static_cast<int>(core::exit_code::failed) : 0;
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
    lab::synflood_options o = args.synflood;
    if (auto e = set_duration(args.duration, o.duration_ns, "--duration"); !e) return fail(e.error());
    if (auto e = set_duration(args.probe_timeout, o.probe_timeout_ns, "--probe-timeout"); !e) return fail(e.error());
    r = any(lab::run_synflood(o, stop, progress));
  } else if (args.which == "timewait") {
    lab::timewait_options o = args.timewait;
    if (auto e = set_duration(args.duration, o.duration_ns, "--duration"); !e) return fail(e.error());
    r = any(lab::run_timewait(o, stop, progress));
  } else if (args.which == "backlog") {
    r = any(lab::run_backlog(args.backlog, stop, progress));
  } else if (args.which == "fastopen") {
    lab::fastopen_options o = args.fastopen;
    int64_t rtt_ns = 0;
    if (auto e = set_duration(args.rtt, rtt_ns, "--rtt"); !e) return fail(e.error());
    o.rtt_ms = static_cast<int>(rtt_ns / core::ns_per_ms);
    r = any(lab::run_fastopen(o, stop, progress));
  }
  if (show_progress) fmt::print(stderr, "\r\033[K");
  if (!r) return fail(r.error());
  return render_report(*r, args);
}

void add_common(CLI::App* cmd, lab_args& args, std::vector<std::string>& scenarios,
                const std::vector<std::string>& keys) {
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
  cmd->add_option("--scenarios", scenarios, "Which to run, comma-separated: " + list + " (default: all)")
      ->delimiter(',');
  cmd->add_flag("--json", args.json, "One JSON object with the parameters and every scenario's figures");
  cmd->add_option("--report", args.report, "Also write a self-contained HTML file with the latency CDFs");
}

}  // namespace

command_runner add_lab_command(CLI::App& app) {
  auto args = std::make_shared<lab_args>();
  CLI::App* cmd = app.add_subcommand(
      "lab", "Drills that show what a tuning does: SYN flood, TIME-WAIT, backlog, TFO, in namespaces of their own");
  cmd->require_subcommand(0, 1);  // `synscope lab` alone lists the drills
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
  flood->add_option("--flood-rate", args->synflood.flood_rate, "Spoofed SYNs per second")->capture_default_str();
  flood->add_option("--duration", args->duration, "How long the legitimate client runs (default 5s)");
  flood->add_option("--probe-rate", args->synflood.probe_rate, "Legitimate handshakes per second")->capture_default_str();
  flood->add_option("--probe-timeout", args->probe_timeout, "A legitimate handshake fails after this")->capture_default_str();
  flood->add_option("--backlog", args->synflood.backlog, "listen() backlog = tcp_max_syn_backlog = somaxconn")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  add_common(flood, *args, args->synflood.scenarios, lab::synflood_scenarios());
  flood->footer("Example:\n  synscope lab synflood --scenarios off,on --flood-rate 1000 --duration 3s");

  auto* tw = cmd->add_subcommand("timewait", "Short connections until the local ports run out, and three cures");
  tw->add_option("--ports", args->timewait.ports, "Width of the client's ip_local_port_range")->capture_default_str();
  tw->add_option("--rate", args->timewait.rate, "Connections per second")->capture_default_str();
  tw->add_option("--duration", args->duration, "How long (default 4s)");
  tw->add_option("--sources", args->timewait.sources, "Client addresses in the 'sources' scenario")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  add_common(tw, *args, args->timewait.scenarios, lab::timewait_scenarios());
  tw->footer("Example:\n  synscope lab timewait --ports 250 --rate 100 --duration 3.5s");

  auto* bl = cmd->add_subcommand("backlog", "A slow-accepting server: small vs large backlog, somaxconn capping it");
  bl->add_option("-n,--connections", args->backlog.connections, "Connections")->capture_default_str();
  bl->add_option("-c,--concurrency", args->backlog.concurrency, "In flight at once")->check(CLI::Range(1, 10000))->capture_default_str();
  bl->add_option("--accept-rate", args->backlog.accept_rate, "The server's accept() calls per second")->capture_default_str();
  bl->add_option("--small", args->backlog.small, "The small backlog")->capture_default_str();
  bl->add_option("--large", args->backlog.large, "The large backlog")->capture_default_str();
  add_common(bl, *args, args->backlog.scenarios, lab::backlog_scenarios());
  bl->footer("Example:\n  synscope lab backlog -n 300 -c 100 --accept-rate 200");

  auto* tfo = cmd->add_subcommand("fastopen", "Request latency with and without TCP Fast Open over an emulated RTT");
  tfo->add_option("--rtt", args->rtt, "Emulated round trip (a delay line in the lab, half each way)")->capture_default_str();
  tfo->add_option("-n,--requests", args->fastopen.requests, "Requests per scenario, one at a time")->capture_default_str();
  add_common(tfo, *args, args->fastopen.scenarios, lab::fastopen_scenarios());
  tfo->footer("Example:\n  synscope lab fastopen --rtt 50ms -n 20");

  auto* clean = cmd->add_subcommand("cleanup", "Remove lab namespaces left by a lab that died");
  clean->footer("Example:\n  synscope lab cleanup");

  return [args, cmd, flood, tw, bl, tfo, clean] {
    if (flood->parsed()) args->which = "synflood";
    if (tw->parsed()) args->which = "timewait";
    if (bl->parsed()) args->which = "backlog";
    if (tfo->parsed()) args->which = "fastopen";
    if (clean->parsed()) args->which = "cleanup";
    if (args->which.empty()) {
      fmt::print("{}", cmd->help("synscope"));
      return 0;
    }
    return run(*args);
  };
}

}  // namespace synscope::cli
