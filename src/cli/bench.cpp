// synscope bench: connections (or requests) per second against a target, with latency
// percentiles measured without coordinated omission and the kernel's counters beside them.
#include <unistd.h>

#include <cmath>

#include <fmt/format.h>

#include "active/load.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/file.h"
#include "render/bench.h"
#include "core/text.h"
#include "kernel/counters.h"

namespace synscope::cli {
namespace {

struct bench_args {
  std::string target;
  uint64_t count = 0;
  int concurrency = 1;
  std::string rate;
  std::string duration;
  std::string mode = "connect";
  std::optional<std::string> data;
  bool fastopen = false;
  std::string source;
  int threads = 1;
  std::string timeout = "5s";
  bool json = false;
  std::string report;
};



int run(const bench_args& args) {
  if (!args.report.empty()) {
    if (auto c = core::check_output_path(args.report, "--report"); !c) return fail(c.error());
  }
  auto spec = core::parse_endpoint(args.target, {});
  if (!spec) return fail(spec.error());
  auto addrs = core::resolve(*spec, core::address_family::any);
  if (!addrs) return fail(addrs.error());
  active::load_options o;
  o.target = addrs->front();
  if (args.mode == "connect") o.mode = active::load_mode::connect;
  else if (args.mode == "request") o.mode = active::load_mode::request;
  else if (args.mode == "pooled") o.mode = active::load_mode::pooled;
  else return fail(core::error{core::exit_code::usage, fmt::format("--mode '{}': one of connect, request, pooled", core::printable(args.mode))});
  o.count = args.count;
  o.concurrency = args.concurrency;
  o.threads = args.threads;
  o.fastopen = args.fastopen;
  if (args.data) {
    auto d = core::unescape(*args.data, "--data");
    if (!d) return fail(d.error());
    if (d->empty()) return fail(core::error{core::exit_code::usage, "--data: empty (request and pooled need a request)"});
    o.data = *d;
  }
  if (!args.rate.empty()) {
    std::string r = args.rate;
    if (r.size() > 2 && r.substr(r.size() - 2) == "/s") r.resize(r.size() - 2);
    char* end = nullptr;
    o.rate = std::strtod(r.c_str(), &end);
    if (r.empty() || *end != '\0' || !(o.rate > 0) || !std::isfinite(o.rate) || o.rate > 10'000'000) {
      return fail(core::error{core::exit_code::usage, fmt::format("--rate '{}': a positive number per second (1000 or 1000/s)", core::printable(args.rate))});
    }
  }
  if (!args.duration.empty()) {
    auto d = core::parse_duration(args.duration, "--duration");
    if (!d) return fail(d.error());
    o.duration_ns = *d;
  }
  if (o.rate > 0 && o.duration_ns == 0 && o.count == 0) {
    return fail(core::error{core::exit_code::usage, "--rate needs --duration or -n (every run is bounded)"});
  }
  auto timeout = core::parse_duration(args.timeout, "--timeout");
  if (!timeout) return fail(timeout.error());
  o.timeout_ns = *timeout;
  if (!args.source.empty()) {
    auto s = active::parse_source_range(args.source);
    if (!s) return fail(s.error());
    o.sources = std::move(*s);
  }
  if (o.threads > o.concurrency) o.concurrency = o.threads;

  auto& stop = install_interrupt_flag();
  bool show_progress = isatty(STDERR_FILENO) == 1 && !args.json;
  int64_t started = core::monotonic_ns();
  auto progress = [&](uint64_t done, uint64_t total) {
    if (!show_progress) return;
    fmt::print(stderr, "\r{}\033[K", render::bench_progress(done, total, core::monotonic_ns() - started, o.duration_ns));
  };
  auto before = kernel::read_counters();
  auto r = active::run_load(o, stop, progress);
  if (show_progress) fmt::print(stderr, "\r\033[K");
  if (!r) return fail(r.error());
  auto after = kernel::read_counters();
  // Where either read failed, no movement is shown rather than the whole count since boot.
  std::vector<kernel::counter> none;
  render::bench_result shown{o, *r,
                             kernel::counter_deltas(before && after ? *before : none, before && after ? *after : none,
                                                    {"TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPSynRetrans",
                                                     "TcpExtTW", "TcpExtSyncookiesSent", "TcpExtTCPFastOpenActive",
                                                     "TcpExtTCPFastOpenPassive"})};
  fmt::print("{}", args.json ? render::bench_json(shown) : render::bench_text(shown));
  if (uint64_t exhausted = r->errors_of(EADDRNOTAVAIL); exhausted > 0) {
    std::fflush(stdout);
    fmt::print(stderr, "synscope: {}: {} connects failed with EADDRNOTAVAIL\n", render::ports_exhausted_fix, exhausted);
  }
  if (!args.report.empty()) {
    auto written = core::write_file_atomically(args.report, render::bench_html(shown));
    if (!written) return fail(written.error());
  }
  return r->failed == 0 && r->not_started == 0 ? 0 : static_cast<int>(core::exit_code::failed);
}

}  // namespace

command_runner add_bench_command(CLI::App& app) {
  auto args = std::make_shared<bench_args>();
  CLI::App* cmd = app.add_subcommand("bench", "Connections or requests per second against a server, latency without coordinated omission");
  cmd->add_option("target", args->target, "HOST:PORT")->required();
  cmd->add_option("-n,--count", args->count, "Attempts (connections, or requests with --mode pooled)");
  cmd->add_option("-c,--concurrency", args->concurrency, "At most this many in flight (pooled: connections)")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  cmd->add_option("--rate", args->rate, "Open loop: start attempts at this rate (1000 or 1000/s), due or not");
  cmd->add_option("--duration", args->duration, "Stop starting attempts after this long (30s, 2m)");
  cmd->add_option("--mode", args->mode, "connect (handshake, close), request (send --data, wait for the reply, close), pooled")
      ->capture_default_str();
  cmd->add_option("--data", args->data, "The request, with C escapes (\\r \\n \\xHH); default \"hello\\n\"");
  cmd->add_flag("--fastopen", args->fastopen, "Send the request on the SYN (TCP Fast Open, MSG_FASTOPEN)");
  cmd->add_option("--source", args->source, "Source addresses, round robin: 127.0.0.2-127.0.0.60 (IP_BIND_ADDRESS_NO_PORT)");
  cmd->add_option("--threads", args->threads, "Event loops (each takes a share of -c)")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--timeout", args->timeout, "Give up on an attempt after this long")->capture_default_str();
  cmd->add_flag("--json", args->json, "One JSON summary object");
  cmd->add_option("--report", args->report, "Also write a self-contained HTML file with the latency charts");
  cmd->footer(
      "Bounded by -n or --duration: it stops by itself. On a terminal a progress line shows the count, the rate,\n"
      "the time taken and the time left. HTTP replies are counted by status (non-2xx as ab reports them); chunked\n"
      "bodies, Content-Length bodies and bodies ended by the close are read to their end.\n"
      "Examples:\n"
      "  synscope bench 127.0.0.1:8080 -n 10000 -c 100                     # handshakes per second\n"
      "  synscope bench 127.0.0.1:8080 --mode request -n 10000 -c 100      # a request a connection, against serve\n"
      "  synscope bench 127.0.0.1:8080 --mode pooled -n 10000 -c 10        # the same requests over 10 connections\n"
      "  synscope bench 127.0.0.1:8080 --rate 2000/s --duration 10s        # open loop: stalls show as latency\n"
      "  synscope bench 127.0.0.1:8080 -n 100000 -c 64 --source 127.0.0.2-127.0.0.60\n"
      "Exit codes: 0 every attempt succeeded, 1 some failed, 2 bad arguments, 3 the system refused.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
