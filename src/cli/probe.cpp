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
#include "render/json.h"
#include "render/format.h"
#include "render/probe.h"
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
    fmt::print("{}", render::probe_heading(options.targets, own.has_value(), args.count, *interval, *timeout));
    std::fflush(stdout);
  }

  auto& interrupted = install_interrupt_flag();
  auto on_attempt = [&](const active::attempt& a) {
    const auto& target = options.targets[a.target];
    if (args.json) {
      fmt::print("{}\n", render::attempt_json(a, target).str());
    } else if (!args.quiet) {
      fmt::print("{}\n", render::attempt_line(a, target));
    }
    std::fflush(stdout);
  };
  auto report = active::run_probe(options, on_attempt, &interrupted);
  if (!report) return fail(report.error());

  for (const auto& t : report->targets) {
    if (args.json) {
      fmt::print("{}\n", render::probe_summary_json(t, report->stopped).str());
    } else {
      fmt::print("{}", render::probe_summary_text(t));
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
