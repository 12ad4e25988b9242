// synscope top: the kernel's handshake state, live, once a second.
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/top.h"
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

render::screen_size window_size() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) return {ws.ws_row, ws.ws_col};
  return {};
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
  render::top_history h;
  h.add(render::top_figures(nullptr, now));
  render::top_heading heading{args.netns, args.interval, {}};
  auto clock = [&] {
    heading.unix_ns = core::realtime_ns();
    heading.clock = core::format_time(heading.unix_ns, "%Y-%m-%d %H:%M:%S", core::time_zone::local);
    return heading;
  };
  std::optional<screen_mode> screen;
  if (interactive) {
    screen.emplace();
    fmt::print("{}", render::top_screen(clock(), nullptr, now, h, window_size(), colour_on(STDOUT_FILENO)));
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
    h.add(render::top_figures(&*before, now));
    if (interactive) {
      fmt::print("{}", render::top_screen(clock(), &*before, now, h, window_size(), colour_on(STDOUT_FILENO)));
    } else {
      fmt::print("{}\n", args.json ? render::top_json(clock(), &*before, now) : render::top_line(clock(), &*before, now));
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
