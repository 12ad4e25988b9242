// synscope serve: a tuned TCP server (ack, echo, discard, http) for handshake experiments.
#include <unistd.h>

#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "active/server.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/serve.h"
#include "kernel/counters.h"

namespace synscope::cli {
namespace {

struct serve_args {
  std::vector<std::string> listen{"127.0.0.1:8080"};
  std::string mode = "ack";
  int backlog = 4096;
  int threads = 1;
  int defer_accept = 0;
  int fastopen = 0;
  uint64_t max_conns = 0;
  std::string idle_timeout = "0";
  std::string duration;
  std::string drain = "5s";
  bool json = false;
};

std::atomic<bool> stats_asked{false};
void on_usr1(int /*signo*/) { stats_asked.store(true); }

// What the kernel counted in the whole namespace while serving, from `before` to now.
std::vector<std::pair<std::string, int64_t>> kernel_delta(const core::result<std::vector<kernel::counter>>& before) {
  auto now = kernel::read_counters();
  return kernel::counter_deltas(before ? *before : std::vector<kernel::counter>{},
                                now ? *now : std::vector<kernel::counter>{},
                                {"TcpExtListenOverflows", "TcpExtListenDrops", "TcpExtTCPReqQFullDrop",
                                 "TcpExtSyncookiesSent", "TcpPassiveOpens"});
}

std::string stats_of(const active::server& server, const core::result<std::vector<kernel::counter>>& before,
                     bool json) {
  auto delta = kernel_delta(before);
  return json ? render::serve_stats_json(server.stats(), delta) : render::serve_stats_text(server.stats(), delta);
}

int run(const serve_args& args) {
  active::server_options o;
  for (const auto& text : args.listen) {
    auto a = core::resolve_local_address(text, "--listen");
    if (!a) return fail(a.error());
    o.listen.insert(o.listen.end(), a->begin(), a->end());
  }
  if (args.mode == "ack") o.mode = active::serve_mode::ack;
  else if (args.mode == "echo") o.mode = active::serve_mode::echo;
  else if (args.mode == "discard") o.mode = active::serve_mode::discard;
  else if (args.mode == "http") o.mode = active::serve_mode::http;
  else return fail(core::error{core::exit_code::usage, fmt::format("--mode '{}': one of ack, echo, discard, http", core::printable(args.mode))});
  o.backlog = args.backlog;
  o.threads = args.threads;
  o.defer_accept_s = args.defer_accept;
  o.fastopen_qlen = args.fastopen;
  o.max_conns = args.max_conns;
  auto idle = core::parse_duration(args.idle_timeout, "--idle-timeout");
  if (!idle) return fail(idle.error());
  o.idle_timeout_ns = *idle;
  auto drain = core::parse_duration(args.drain, "--drain");
  if (!drain) return fail(drain.error());
  int64_t duration = 0;
  if (!args.duration.empty()) {
    auto d = core::parse_duration(args.duration, "--duration");
    if (!d) return fail(d.error());
    duration = *d;
  }
  auto& stop = install_interrupt_flag();
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, nullptr);

  auto before = kernel::read_counters();
  auto server = active::server::start(o);
  if (!server) return fail(server.error());
  fmt::print("{}", args.json ? render::serve_listening_json(o, (*server)->bound(), getpid())
                              : render::serve_listening_text(o, (*server)->bound()));
  std::fflush(stdout);
  int64_t start = core::monotonic_ns();
  while (!stop.load() && (duration == 0 || core::monotonic_ns() - start < duration)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (stats_asked.exchange(false)) {
      fmt::print("{}", stats_of(**server, before, args.json));
      std::fflush(stdout);
    }
  }
  (*server)->stop(*drain);  // stop accepting, let open connections finish
  fmt::print("{}", stats_of(**server, before, args.json));
  return 0;
}

}  // namespace

command_runner add_serve_command(CLI::App& app) {
  auto args = std::make_shared<serve_args>();
  CLI::App* cmd = app.add_subcommand("serve", "A TCP server for handshake experiments: ack, echo, discard or http, one event loop per thread");
  cmd->add_option("--listen", args->listen, "ADDR:PORT or NAME:PORT (every address it has) to listen on; repeatable; port 0: any")->capture_default_str();
  cmd->add_option("--mode", args->mode, "ack (read a message, reply ACK, close), echo, discard, http")->capture_default_str();
  cmd->add_option("--backlog", args->backlog, "listen() backlog (the kernel caps it at net.core.somaxconn)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Event loops, each with its own SO_REUSEPORT listeners")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  cmd->add_option("--defer-accept", args->defer_accept, "TCP_DEFER_ACCEPT seconds: accept() only once data arrived")
      ->check(CLI::Range(0, 3600));
  cmd->add_option("--fastopen", args->fastopen, "TCP_FASTOPEN queue length (0: off; needs net.ipv4.tcp_fastopen & 2)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--max-conns", args->max_conns, "Stop accepting while this many connections are open (0: no limit)");
  cmd->add_option("--idle-timeout", args->idle_timeout, "Close connections silent this long (0: never)")->capture_default_str();
  cmd->add_option("--duration", args->duration, "Stop by itself after this long (default: until SIGTERM or Ctrl-C)");
  cmd->add_option("--drain", args->drain, "On stop, how long open connections may take to finish")->capture_default_str();
  cmd->add_flag("--json", args->json, "JSON lines: a 'listening' object, then 'stats' objects");
  cmd->footer(
      "SIGTERM or Ctrl-C: stop accepting, drain, print the statistics, exit. SIGUSR1: print them now.\n"
      "Examples:\n"
      "  synscope serve                                          # read, answer ACK, close: 127.0.0.1:8080\n"
      "  synscope serve --mode http --threads 2 --listen 127.0.0.1:8080 --listen [::1]:8080\n"
      "  synscope serve --mode echo --fastopen 256 --defer-accept 5\n"
      "Exit codes: 0 ok, 2 bad arguments, 3 cannot listen, 77 a privileged port without the right.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
