// synscope trace: the server's side of every handshake as its kernel lived it (trace::tracer's
// tracepoint programs through trace::run_live), a line a second, a summary at the end.
#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/duration.h"
#include "core/endpoint.h"
#include "kernel/counters.h"
#include "kernel/netns.h"
#include "render/trace.h"
#include "trace/live.h"
#include "trace/tracer.h"

namespace synscope::cli {
namespace {

struct trace_args {
  std::string port;
  std::string netns;
  uint64_t count = 0;
  std::string duration = "0";
  bool json = false;
  bool verbose = false;
  bool quiet = false;
};

int run(const trace_args& args) {
  trace::tracer_options o;
  if (!args.port.empty()) {
    auto port = core::parse_port(args.port, "--port", false);
    if (!port) return fail(port.error());
    o.port = *port;
  }
  auto duration = core::parse_duration(args.duration, "--duration");
  if (!duration) return fail(duration.error());
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
    o.netns = kernel::current_netns_inode();
    if (o.netns == 0) {
      return fail(core::system_error("trace: --netns " + core::printable(args.netns), "stat /proc/thread-self/ns/net", errno));
    }
  }
  auto t = trace::tracer::open(o);
  if (!t) return fail(t.error());
  size_t active = 0;
  for (const auto& h : t->hooks()) active += h.active;
  fmt::print(stderr, "synscope: tracing handshakes{}{}: {} of {} hooks active{}\n",
             o.port ? fmt::format(" to port {}", o.port) : "",
             args.netns.empty() ? "" : " in netns " + core::printable(args.netns), active, t->hooks().size(),
             args.json ? "" : " (the summary lists them)");

  trace::live_options live;
  live.count = args.count;
  live.duration_ns = *duration;
  live.interrupted = &install_interrupt_flag();
  const int64_t offset = t->realtime_offset_ns();
  const trace::reason_names& reasons = t->reasons();
  auto on_interval = [&](const trace::interval_report& w) {
    if (args.json) {
      fmt::print("{}\n", render::trace_interval_json(w).str());
    } else if (!args.quiet) {
      fmt::print("{}\n", render::trace_interval_text(w));
    }
    std::fflush(stdout);
  };
  auto on_handshake = [&](const trace::handshake& h) {
    if (args.json) {
      fmt::print("{}\n", render::handshake_json(h, offset, reasons).str());
    } else if (args.verbose) {
      fmt::print("{}\n", render::handshake_text(h, reasons));
    }
  };
  // The namespace's own counts beside the trace's: accept-queue overflows, and the SYN cookies
  // no tracepoint shows. Missing counters (an unreadable /proc) leave the list empty.
  auto before = kernel::read_counters();
  auto report = trace::run_live(*t, live, on_interval, on_handshake);
  if (!report) return fail(report.error());
  auto after = kernel::read_counters();
  std::vector<std::pair<std::string, int64_t>> counters;
  if (before && after) {
    counters = kernel::counter_deltas(*before, *after,
                                      {"TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtSyncookiesSent",
                                       "TcpExtSyncookiesRecv", "TcpExtSyncookiesFailed", "TcpExtTCPReqQFullDrop"});
  }
  if (args.json) {
    fmt::print("{}\n", render::trace_summary_json(*report, t->hooks(), reasons, counters).str());
  } else {
    fmt::print("\n{}", render::trace_summary_text(*report, t->hooks(), reasons, counters));
  }
  return 0;
}

}  // namespace

command_runner add_trace_command(CLI::App& app) {
  auto args = std::make_shared<trace_args>();
  CLI::App* cmd = app.add_subcommand(
      "trace", "The server's side of every handshake (eBPF): SYN in, SYN-ACK out, ACK, accept(), drops");
  cmd->add_option("-p,--port", args->port, "Only handshakes to this server port");
  cmd->add_option("--netns", args->netns, "Only this network namespace (ip netns add NAME)");
  cmd->add_option("-c,--count", args->count, "Stop after this many finished handshakes (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--duration", args->duration, "Stop after this long: seconds or 500ms, 0 = until Ctrl-C")
      ->capture_default_str();
  cmd->add_flag("--json", args->json,
                "JSON lines: one object per handshake (every time in ns since the epoch), one a second, the summary");
  cmd->add_flag("-v,--verbose", args->verbose, "Also a line per finished handshake");
  cmd->add_flag("-q,--quiet", args->quiet, "Only the summary at the end");
  cmd->footer(
      "Examples:\n"
      "  synscope trace -p 8080                 # every handshake to port 8080, until Ctrl-C\n"
      "  synscope trace -p 443 --duration 30 -v # a line per connection: SYN>SYN-ACK, SYN-ACK>ACK, ACK>accept\n"
      "  synscope trace --netns lab0 --json -c 100\n"
      "The ACK>accept time is how long the connection waited in the listener's accept queue.\n"
      "Needs CAP_BPF and CAP_PERFMON, or root (exit 77 without). Exit codes: 0 done, 2 bad arguments or no\n"
      "such namespace, 3 the kernel has no BTF or refused the programs, 77 no permission. docs/trace.md");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
