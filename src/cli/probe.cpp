// synscope probe: repeated TCP connects, timed (active::run_probe), rendered like ping.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "active/loopback_listener.h"
#include "active/prober.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/endpoint.h"
#include "core/text.h"
#include "render/format.h"
#include "render/json.h"
#include "render/table.h"
#include "kernel/tcp_info.h"

namespace synscope::cli {
namespace {

struct probe_args {
  std::vector<std::string> targets;
  uint64_t count = 10;
  std::string interval = "1";
  std::string timeout = "2";
  unsigned concurrency = 1;
  std::string port;
  bool ipv4 = false;
  bool ipv6 = false;
  bool all_addresses = false;
  bool fastopen = false;
  std::optional<std::string> data;
  bool nodelay = false;
  bool quickack = false;
  std::string bind;
  std::optional<unsigned> tos;
  std::optional<uint32_t> mark;
  bool reset = false;
  bool json = false;
  bool quiet = false;
};

// What TFO carries on the SYN when --fastopen is given without --data.
constexpr const char* default_fastopen_data = "synscope probe\n";

using render::ms;

std::string describe_attempt(const active::attempt& a, const core::socket_address& target) {
  std::string line = fmt::format("{} seq={} ", target.to_string(), a.seq);
  switch (a.result) {
    case active::outcome::connected:
      line += fmt::format("connected time={} ms", ms(a.elapsed_ns));
      if (a.kernel.valid) {
        line += a.kernel_rtt_known() ? fmt::format(" kernel_rtt={:.3f} ms", static_cast<double>(a.kernel.rtt_us) / 1e3)
                                     : std::string(" kernel_rtt=unknown (SYN retransmitted: no sample, Karn's rule)");
        auto names = kernel::option_names(a.kernel.options);
        line += fmt::format(" options={}", names.empty() ? "none" : fmt::format("{}", fmt::join(names, ",")));
      }
      break;
    case active::outcome::refused:
      line += fmt::format("refused (RST) time={} ms", ms(a.elapsed_ns));
      break;
    case active::outcome::timeout:
      line += fmt::format("timeout after {} ms", ms(a.elapsed_ns));
      break;
    case active::outcome::error:
      line += fmt::format("error {} ({}) after {} ms", core::errno_name(a.error_number),
                          std::strerror(a.error_number), ms(a.elapsed_ns));
      break;
  }
  if (a.syn_retransmits > 0) {
    line += fmt::format(" syn_retransmits={} (SYN sent {} times)", a.syn_retransmits, a.syn_retransmits + 1);
  }
  switch (a.tfo) {
    case active::tfo_use::off: break;
    case active::tfo_use::cookie_requested: line += " tfo=cookie_requested"; break;
    case active::tfo_use::client_disabled: line += " tfo=client_disabled"; break;
    case active::tfo_use::data_in_syn:
      line += fmt::format(" tfo=data_in_syn({} B, {})", a.syn_data_bytes, a.syn_data_acked ? "acked" : "not acked");
      break;
  }
  if (auto why = kernel::fastopen_fail_name(a.kernel.fastopen_client_fail); !why.empty() && a.tfo != active::tfo_use::off) {
    line += fmt::format(" tfo_fail={}", why);
  }
  return line;
}

render::json_object attempt_json(const active::attempt& a, const core::socket_address& target) {
  render::json_object o;
  o.field("type", "attempt")
      .field("target", target.to_string())
      .field("seq", a.seq)
      .field("time_unix_ns", a.started_unix_ns)
      .field("outcome", active::outcome_name(a.result))
      .micros("elapsed_us", a.elapsed_ns);
  if (a.local.size() > 0) {
    o.field("local", a.local.to_string());
  } else {
    o.null_field("local");
  }
  if (a.result == active::outcome::refused || a.result == active::outcome::error) {
    o.field("error", core::errno_name(a.error_number));
  } else {
    o.null_field("error");
  }
  o.field("syn_retransmits", a.syn_retransmits);
  if (a.kernel.valid && a.result == active::outcome::connected) {
    if (a.kernel_rtt_known()) {
      o.field("kernel_rtt_us", a.kernel.rtt_us).field("kernel_rttvar_us", a.kernel.rttvar_us);
    } else {
      o.null_field("kernel_rtt_us").null_field("kernel_rttvar_us");  // no sample after a retransmitted SYN
    }
    o.field("options", kernel::option_names(a.kernel.options))
        .field("snd_wscale", a.kernel.snd_wscale)
        .field("rcv_wscale", a.kernel.rcv_wscale)
        .field("snd_mss", a.kernel.snd_mss);
  } else {
    o.null_field("kernel_rtt_us");
  }
  o.field("tfo", active::tfo_use_name(a.tfo))
      .field("syn_data_bytes", a.syn_data_bytes)
      .field("syn_data_acked", a.syn_data_acked);
  auto why = kernel::fastopen_fail_name(a.kernel.fastopen_client_fail);
  if (a.tfo != active::tfo_use::off && !why.empty()) {
    o.field("tfo_fail", why);
  } else {
    o.null_field("tfo_fail");
  }
  return o;
}

render::json_object summary_json(const active::target_stats& t, bool stopped) {
  render::json_object errors;
  for (const auto& [name, n] : t.errors_by_name) {
    errors.field(name, n);
  }
  render::json_object tfo;
  tfo.field("cookie_requested", t.tfo_cookie_requested)
      .field("data_in_syn", t.tfo_data_in_syn)
      .field("data_acked", t.tfo_data_acked);
  render::json_object o;
  o.field("type", "summary")
      .field("target", t.address.to_string())
      .field("sent", t.sent)
      .field("connected", t.connected)
      .field("refused", t.refused)
      .field("timed_out", t.timed_out)
      .field("errors", t.errors)
      .field("errors_by_name", errors)
      .field("loss_pct", t.loss_pct())
      .field("handshake_us", render::histogram_json_us(t.handshake))
      .field("no_syn_retransmit_us", render::histogram_json_us(t.clean))
      .field("syn_retransmitted_us", render::histogram_json_us(t.retransmitted))
      .field("kernel_rtt_us", render::histogram_json_us(t.kernel_rtt))
      .field("tfo", tfo)
      .field("stopped", stopped);
  return o;
}

constexpr std::initializer_list<render::stat> handshake_stats = {
    render::stat::count, render::stat::min, render::stat::mean, render::stat::p50,
    render::stat::p90,   render::stat::p99, render::stat::max,  render::stat::stddev};

std::string summary_text(const active::target_stats& t) {
  std::string out = fmt::format("\n--- {} probe statistics ---\n", t.address.to_string());
  out += fmt::format("{} sent, {} connected, {} refused, {} timed out, {} errors", t.sent, t.connected, t.refused,
                     t.timed_out, t.errors);
  for (const auto& [name, n] : t.errors_by_name) {
    out += fmt::format(" ({} {})", n, name);
  }
  out += fmt::format(", {:.1f}% loss\n", t.loss_pct());
  if (t.connected > 0) {
    using col = render::table::column;
    constexpr auto right = render::table::align::right;
    render::table table({col{"handshake"}, col{"count", right}, col{"min_ms", right}, col{"avg_ms", right},
                       col{"p50_ms", right}, col{"p90_ms", right}, col{"p99_ms", right}, col{"max_ms", right},
                       col{"stddev_ms", right}});
    table.add_row(render::histogram_row("all", t.handshake, handshake_stats));
    table.add_row(render::histogram_row("no SYN retransmit", t.clean, handshake_stats));
    table.add_row(render::histogram_row("SYN retransmitted", t.retransmitted, handshake_stats));
    table.add_row(render::histogram_row("kernel rtt", t.kernel_rtt, handshake_stats));
    out += table.render();
  }
  if (t.tfo_cookie_requested + t.tfo_data_in_syn > 0) {
    out += fmt::format("fast open: {} requested a cookie, {} carried data on the SYN, {} had it acknowledged\n",
                       t.tfo_cookie_requested, t.tfo_data_in_syn, t.tfo_data_acked);
    if (t.tfo_data_in_syn == 0 && t.sent > 1) {
      out += "fast open: no cookie was granted; on a Linux server, net.ipv4.tcp_fastopen needs bit 2 (value 2 or 3)\n";
    }
  }
  return out;
}

int run(const probe_args& args) {
  auto interval = core::parse_duration(args.interval, "-i/--interval");
  if (!interval) return fail(interval.error());
  auto timeout = core::parse_duration(args.timeout, "-W/--timeout");
  if (!timeout) return fail(timeout.error());
  if (*timeout == 0) {
    return fail({core::exit_code::usage, "-W/--timeout '0': must be more than zero"});
  }
  if (args.concurrency == 0 || args.concurrency > 100000) {
    return fail({core::exit_code::usage, fmt::format("--concurrency {}: must be 1 to 100000", args.concurrency)});
  }
  if (args.tos && *args.tos > 255) {
    return fail({core::exit_code::usage, fmt::format("--tos {}: must be 0 to 255", *args.tos)});
  }
  core::address_family family = args.ipv4   ? core::address_family::ipv4
                                : args.ipv6 ? core::address_family::ipv6
                                            : core::address_family::any;

  active::probe_options options;
  options.count = args.count;
  options.interval_ns = *interval;
  options.timeout_ns = *timeout;
  options.concurrency = args.concurrency;
  options.fastopen = args.fastopen;
  if (args.data) {
    auto data = core::unescape(*args.data, "--data");
    if (!data) return fail(data.error());
    options.data = *data;
  } else {
    options.data = args.fastopen ? default_fastopen_data : "";
  }
  options.socket.nodelay = args.nodelay;
  options.socket.quickack = args.quickack;
  options.socket.reset_on_close = args.reset;
  options.socket.mark = args.mark;
  if (args.tos) options.socket.tos = static_cast<uint8_t>(*args.tos);
  if (!args.bind.empty()) {
    auto local = core::parse_local_address(args.bind, "--bind");
    if (!local) return fail(local.error());
    options.socket.bind = *local;
  }

  std::optional<uint16_t> default_port;
  if (!args.port.empty()) {
    auto port = core::parse_port(args.port, "-p/--port", false);
    if (!port) return fail(port.error());
    default_port = *port;
  }

  // No target: probe a listener of our own on loopback, the local kernel's baseline.
  std::optional<active::loopback_listener> own;
  if (args.targets.empty()) {
    active::listener_options lo;
    lo.family = args.ipv6 ? core::address_family::ipv6 : core::address_family::ipv4;
    lo.fastopen_queue = args.fastopen ? 256 : 0;
    auto listener = active::loopback_listener::start(lo);
    if (!listener) return fail(listener.error());
    own.emplace(std::move(*listener));
    options.targets.push_back(own->address());
  }
  for (const auto& text : args.targets) {
    auto spec = core::parse_endpoint(text, {.default_port = default_port});
    if (!spec) return fail(spec.error());
    auto addrs = core::resolve(*spec, family);
    if (!addrs) return fail(addrs.error());
    if (args.all_addresses) {
      options.targets.insert(options.targets.end(), addrs->begin(), addrs->end());
    } else {
      options.targets.push_back(addrs->front());
    }
  }

  if (!args.json) {
    std::string what = own ? fmt::format("{} (synscope's own listener: this kernel's loopback baseline)",
                                         options.targets.front().to_string())
                           : fmt::format("{}", fmt::join([&] {
                               std::vector<std::string> v;
                               for (const auto& t : options.targets) v.push_back(t.to_string());
                               return v;
                             }(), ", "));
    fmt::print("PROBE {}: {} attempts{}, interval {}, timeout {}\n", what,
               args.count == 0 ? std::string("until Ctrl-C") : std::to_string(args.count),
               options.targets.size() > 1 ? " each" : "", render::format_duration(*interval), render::format_duration(*timeout));
    std::fflush(stdout);
  }

  auto& interrupted = install_interrupt_flag();
  auto on_attempt = [&](const active::attempt& a) {
    const auto& target = options.targets[a.target];
    if (args.json) {
      fmt::print("{}\n", attempt_json(a, target).str());
    } else if (!args.quiet) {
      fmt::print("{}\n", describe_attempt(a, target));
    }
    std::fflush(stdout);
  };
  auto report = active::run_probe(options, on_attempt, &interrupted);
  if (!report) return fail(report.error());

  for (const auto& t : report->targets) {
    if (args.json) {
      fmt::print("{}\n", summary_json(t, report->stopped).str());
    } else {
      fmt::print("{}", summary_text(t));
    }
  }
  std::fflush(stdout);
  return static_cast<int>(report->all_connected() ? core::exit_code::ok : core::exit_code::failed);
}

}  // namespace

command_runner add_probe_command(CLI::App& app) {
  auto args = std::make_shared<probe_args>();
  CLI::App* cmd = app.add_subcommand("probe", "Time TCP handshakes to targets (like nc -zv, tcping, hping3 -S)");
  cmd->add_option("target", args->targets,
                  "host:port, [ipv6]:port or host (with -p). None: probe a listener of synscope's own on "
                  "127.0.0.1 (::1 with -6), the local kernel's handshake baseline");
  cmd->add_option("-c,--count", args->count, "Attempts per target address; 0 = until Ctrl-C")->capture_default_str();
  cmd->add_option("-i,--interval", args->interval, "Between attempts: seconds or 500ms, 0 = back to back")
      ->capture_default_str();
  cmd->add_option("-W,--timeout", args->timeout, "Per attempt: seconds or 500ms")->capture_default_str();
  cmd->add_option("--concurrency", args->concurrency, "Attempts in flight at once")->capture_default_str();
  cmd->add_option("-p,--port", args->port, "Port for targets written without one");
  auto* v4 = cmd->add_flag("-4", args->ipv4, "IPv4 addresses only");
  cmd->add_flag("-6", args->ipv6, "IPv6 addresses only")->excludes(v4);
  cmd->add_flag("--all-addresses", args->all_addresses, "Probe every address a name resolves to, not just the first");
  cmd->add_flag("--fastopen", args->fastopen,
                "TCP Fast Open: send the data on the SYN once a cookie is cached (MSG_FASTOPEN)");
  cmd->add_option("--data", args->data,
                  fmt::format("Bytes to send once connected, with C escapes (\\r \\n \\xHH) (on the SYN with "
                              "--fastopen; default there: {:?})",
                              default_fastopen_data));
  cmd->add_flag("--nodelay", args->nodelay, "Set TCP_NODELAY");
  cmd->add_flag("--quickack", args->quickack, "Set TCP_QUICKACK");
  cmd->add_option("--bind", args->bind, "Local address to connect from: ADDR, ADDR:PORT or [v6]:PORT");
  cmd->add_option("--tos", args->tos, "IP TOS / IPv6 traffic class (0-255)");
  cmd->add_option("--mark", args->mark, "SO_MARK firewall mark (needs CAP_NET_ADMIN)");
  cmd->add_flag("--reset", args->reset, "Close with RST instead of FIN (leaves no TIME_WAIT socket)");
  cmd->add_flag("--json", args->json, "JSON lines: one object per attempt, one summary per target (docs/probe.md)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the summary");
  cmd->footer(
      "Examples:\n"
      "  synscope probe                          # this kernel's loopback handshake baseline\n"
      "  synscope probe db1:5432 -c 20 -i 0.2    # 20 connects, 200 ms apart\n"
      "  synscope probe [::1]:8080 --json        # JSON lines\n"
      "  synscope probe 127.0.0.1:80 --fastopen --data 'GET / HTTP/1.0\\r\\n\\r\\n'\n"
      "Exit codes: 0 every attempt connected, 1 some did not, 2 bad arguments, 3 system error.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
