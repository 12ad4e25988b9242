// synscope top: the kernel's handshake state, live, once a second.
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/json.h"
#include "kernel/netns.h"
#include "kernel/snapshot.h"

namespace synscope::cli {
namespace {

struct top_args {
  std::string netns;
  std::string interval = "1s";
  int iterations = 0;
  bool json = false;
};

using kernel::tcp_state;

struct state_row {
  const char* label;
  tcp_state state;
};
constexpr state_row state_rows[] = {
    {"established", tcp_state::established}, {"syn-sent", tcp_state::syn_sent},     {"syn-recv", tcp_state::syn_recv},
    {"fin-wait-1", tcp_state::fin_wait1},    {"fin-wait-2", tcp_state::fin_wait2},   {"time-wait", tcp_state::time_wait},
    {"close-wait", tcp_state::close_wait},   {"last-ack", tcp_state::last_ack},      {"closing", tcp_state::closing},
    {"listen", tcp_state::listen},
};

struct rate_row {
  const char* label;
  const char* key;      // short name for the one-line and JSON forms
  const char* counter;  // nstat's name
};
constexpr rate_row rate_rows[] = {
    {"active opens", "active_opens", "TcpActiveOpens"},
    {"passive opens", "passive_opens", "TcpPassiveOpens"},
    {"attempt fails", "attempt_fails", "TcpAttemptFails"},
    {"established resets", "estab_resets", "TcpEstabResets"},
    {"SYN retransmits", "syn_retrans", "TcpExtTCPSynRetrans"},
    {"listen overflows", "listen_overflows", "TcpExtListenOverflows"},
    {"listen drops", "listen_drops", "TcpExtListenDrops"},
    {"SYN cookies sent", "syncookies_sent", "TcpExtSyncookiesSent"},
    {"resets sent", "resets_sent", "TcpOutRsts"},
};
constexpr size_t figure_count = std::size(state_rows) + std::size(rate_rows);

// The last values of every figure, for the sparklines.
class history {
 public:
  void add(std::array<double, figure_count> values) {
    samples_.push_back(values);
    if (samples_.size() > 120) samples_.pop_front();
  }
  [[nodiscard]] std::string sparkline(size_t figure, size_t width) const {
    static constexpr const char* bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
    size_t n = std::min(width, samples_.size());
    double top = 0;
    for (size_t i = samples_.size() - n; i < samples_.size(); ++i) top = std::max(top, samples_[i][figure]);
    std::string out;
    for (size_t i = samples_.size() - n; i < samples_.size(); ++i) {
      double v = samples_[i][figure];
      size_t level = top <= 0 ? 0 : std::min<size_t>(7, static_cast<size_t>(v / top * 7.0 + 0.5));
      out += bars[level];
    }
    return out;
  }

 private:
  std::deque<std::array<double, figure_count>> samples_;
};

std::string clock_text() { return core::format_time(core::realtime_ns(), "%Y-%m-%d %H:%M:%S", core::time_zone::local); }

// Raw keyboard input and the alternate screen while top runs; everything restored after.
class screen_mode {
 public:
  screen_mode() {
    if (tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);  // ISIG stays: Ctrl-C still interrupts
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      have_saved_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    fmt::print("\033[?1049h\033[?25l");
    std::fflush(stdout);
  }
  ~screen_mode() {
    fmt::print("\033[?25h\033[?1049l");
    std::fflush(stdout);
    if (have_saved_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  screen_mode(const screen_mode&) = delete;
  screen_mode& operator=(const screen_mode&) = delete;

 private:
  termios saved_{};
  bool have_saved_ = false;
};

struct window {
  size_t rows = 24;
  size_t cols = 80;
};
window window_size() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) return {ws.ws_row, ws.ws_col};
  return {};
}

std::array<double, figure_count> figures(const kernel::snapshot* before, const kernel::snapshot& now) {
  std::array<double, figure_count> v{};
  size_t i = 0;
  for (const auto& r : state_rows) v[i++] = static_cast<double>(now.sockets.in_state(r.state));
  for (const auto& r : rate_rows) v[i++] = before == nullptr ? 0.0 : kernel::rate(*before, now, r.counter);
  return v;
}

std::string render_screen(const top_args& args, const kernel::snapshot* before, const kernel::snapshot& now,
                          const history& h, window w) {
  auto v = figures(before, now);
  size_t spark = w.cols > 40 ? std::min<size_t>(60, w.cols - 40) : 0;
  std::vector<std::string> lines;
  lines.push_back(fmt::format("synscope top  {}  {}every {}  q quits", clock_text(),
                              args.netns.empty() ? "" : "netns " + args.netns + "  ", args.interval));
  lines.emplace_back("");
  lines.push_back(fmt::format("{:<20} {:>10}  history", "SOCKETS", fmt::format("{}", now.sockets.total)));
  size_t i = 0;
  for (const auto& r : state_rows) {
    lines.push_back(fmt::format("  {:<18} {:>10}  {}", r.label, static_cast<uint64_t>(v[i]), h.sparkline(i, spark)));
    ++i;
  }
  lines.emplace_back("");
  lines.push_back(fmt::format("{:<20} {:>10}", "HANDSHAKES", "per s"));
  for (const auto& r : rate_rows) {
    std::string value = before == nullptr ? "-" : fmt::format("{:.1f}", v[i]);
    lines.push_back(fmt::format("  {:<18} {:>10}  {}", r.label, value, h.sparkline(i, spark)));
    ++i;
  }
  lines.emplace_back("");
  lines.push_back(fmt::format("{:<28} {:>8} {:>8} {:>6} {:>10}", "LISTENERS (fullest first)", "queue", "backlog", "fill",
                              "half-open"));
  size_t room = w.rows > lines.size() + 1 ? w.rows - lines.size() - 1 : 0;
  for (size_t k = 0; k < now.sockets.listeners.size() && k < room; ++k) {
    const auto& l = now.sockets.listeners[k];
    lines.push_back(fmt::format("  {:<26} {:>8} {:>8} {:>5.0f}% {:>10}", kernel::socket_text(l.local), l.accept_queue,
                                l.backlog, l.fill() * 100.0, l.half_open));
  }
  if (now.sockets.listeners.empty()) lines.emplace_back("  (none)");
  std::string out = "\033[H";
  for (size_t k = 0; k < lines.size() && k < w.rows; ++k) {
    std::string line = lines[k];
    out += line + "\033[K" + (k + 1 < w.rows ? "\r\n" : "");
  }
  out += "\033[J";
  return out;
}

std::string render_line(const top_args& args, const kernel::snapshot* before, const kernel::snapshot& now) {
  auto v = figures(before, now);
  if (args.json) {
    render::json_object states;
    render::json_object rates;
    size_t i = 0;
    for (const auto& r : state_rows) states.field(r.label, static_cast<uint64_t>(v[i++]));
    for (const auto& r : rate_rows) rates.field(r.key, v[i++]);
    render::json_array listeners;
    for (size_t k = 0; k < now.sockets.listeners.size() && k < 5; ++k) {
      const auto& l = now.sockets.listeners[k];
      listeners.add(render::json_object()
                        .field("local", kernel::socket_text(l.local))
                        .field("accept_queue", l.accept_queue)
                        .field("backlog", l.backlog)
                        .field("half_open", l.half_open));
    }
    return render::json_object()
        .field("time", clock_text())
        .field("sockets", now.sockets.total)
        .field("states", states)
        .field("per_s", rates)
        .field("listeners", listeners)
        .str();
  }
  std::string out = fmt::format("{} sockets={}", clock_text(), now.sockets.total);
  size_t i = 0;
  for (const auto& r : state_rows) {
    if (r.state == tcp_state::listen || r.state == tcp_state::syn_sent || r.state == tcp_state::closing) {
      ++i;
      continue;
    }
    out += fmt::format(" {}={}", r.label, static_cast<uint64_t>(v[i++]));
  }
  for (const auto& r : rate_rows) {
    out += fmt::format(" {}/s={}", r.key, before == nullptr ? std::string("-") : fmt::format("{:.1f}", v[i]));
    ++i;
  }
  if (!now.sockets.listeners.empty()) {
    const auto& l = now.sockets.listeners.front();
    out += fmt::format(" fullest={} {}/{}", kernel::socket_text(l.local), l.accept_queue, l.backlog);
  }
  return out;
}

// Waits until `deadline` (monotonic ns); true when the user asked to quit (q, or Ctrl-C).
bool wait_or_quit(int64_t deadline, bool keyboard, const std::atomic<bool>& stop) {
  while (!stop) {
    int64_t left = deadline - core::monotonic_ns();
    if (left <= 0) return false;
    int ms = static_cast<int>(std::min<int64_t>(left / core::ns_per_ms + 1, 100));
    if (!keyboard) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      continue;
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, ms) > 0) {
      char c = 0;
      if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) return true;
      if ((p.revents & (POLLHUP | POLLERR)) != 0) keyboard = false;  // stdin went away: keep running
    }
  }
  return true;
}

int run(const top_args& args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  auto step = core::parse_duration(args.interval, "--interval");
  if (!step) return fail(step.error());
  if (*step < 100 * core::ns_per_ms) return fail(core::error{core::exit_code::usage, "--interval: at least 100ms"});
  auto& stop = install_interrupt_flag();
  bool interactive = !args.json && stdout_is_terminal() && isatty(STDIN_FILENO) == 1;

  auto first = kernel::take_snapshot();
  if (!first) return fail(first.error());
  std::optional<kernel::snapshot> before;
  kernel::snapshot now = std::move(*first);
  history h;
  h.add(figures(nullptr, now));
  std::optional<screen_mode> screen;
  if (interactive) {
    screen.emplace();
    fmt::print("{}", render_screen(args, nullptr, now, h, window_size()));
    std::fflush(stdout);
  }
  int64_t start = core::monotonic_ns();
  for (int i = 1; args.iterations <= 0 || i <= args.iterations; ++i) {
    if (wait_or_quit(start + i * *step, interactive, stop)) break;
    auto next = kernel::take_snapshot();
    if (!next) {
      screen.reset();
      return fail(next.error());
    }
    before = std::move(now);
    now = std::move(*next);
    h.add(figures(&*before, now));
    if (interactive) {
      fmt::print("{}", render_screen(args, &*before, now, h, window_size()));
    } else {
      fmt::print("{}\n", render_line(args, &*before, now));
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

command_runner add_top_command(CLI::App& app) {
  auto args = std::make_shared<top_args>();
  CLI::App* cmd = app.add_subcommand("top", "A live view of the kernel's handshake state: sockets, rates, listener queues");
  cmd->add_option("--netns", args->netns, "Watch this network namespace (ip netns add NAME)");
  cmd->add_option("--interval", args->interval, "Refresh interval")->capture_default_str();
  cmd->add_option("-n,--iterations", args->iterations, "Stop after this many refreshes (0: until q or Ctrl-C)")
      ->check(CLI::Range(0, 10'000'000));
  cmd->add_flag("--json", args->json, "One JSON object per interval instead of the screen");
  cmd->footer(
      "On a terminal: a full-screen view with a history sparkline per figure; q quits.\n"
      "Otherwise (a pipe, a file): one line per interval.\n"
      "Examples:\n"
      "  synscope top\n"
      "  synscope top --netns lab0 --interval 500ms\n"
      "  synscope top -n 60 --json > handshakes.jsonl    # a minute of samples\n"
      "Exit codes: 0 ok, 2 bad arguments or no such namespace, 3 netlink or /proc failed.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
