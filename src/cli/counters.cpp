// synscope counters: the kernel's TCP counters (nstat's names), grouped for the handshake.
#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/counters.h"
#include "kernel/counters.h"
#include "kernel/netns.h"

namespace synscope::cli {
namespace {

struct counters_args {
  std::vector<std::string> patterns;
  std::string netns;
  bool all = false;
  bool absolute = false;
  bool zeros = false;
  bool line = false;
  bool json = false;
  bool delta = false;
  std::string state_file;
  std::string interval;
  int iterations = 0;
};

void print(std::vector<kernel::counter_row> rows, const counters_args& args, const char* change_name) {
  // As nstat: the whole listing leaves zeros out unless -z. What a pattern or the handshake
  // groups name is shown whatever its value: it was asked for.
  if (args.all && args.patterns.empty() && !args.zeros) kernel::drop_zero_rows(rows);
  bool grouped = args.patterns.empty() && !args.all;
  fmt::print("{}", args.json ? render::counters_json(rows, change_name) : render::counters_text(rows, change_name, grouped));
}

int run(const counters_args& args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  auto now = kernel::read_counters();
  if (!now) return fail(now.error());
  // As grep does: a pattern that matches nothing is said on stderr, and when none matches
  // anything, nothing is printed and the exit code is 1 (a misspelt name is not a quiet zero).
  auto unmatched = kernel::unmatched_patterns(*now, args.patterns);
  for (const auto& p : unmatched) {
    fmt::print(stderr, "synscope: no counter matches '{}' (synscope counters --all lists them)\n", core::printable(p));
  }
  if (!args.patterns.empty() && unmatched.size() == args.patterns.size()) return static_cast<int>(core::exit_code::failed);

  if (!args.interval.empty()) {
    auto step = core::parse_duration(args.interval, "--interval");
    if (!step) return fail(step.error());
    if (*step < core::ns_per_ms * 10) {
      return fail(core::error{core::exit_code::usage, "--interval: at least 10ms"});
    }
    auto& stop = install_interrupt_flag();
    const auto& line_patterns = args.patterns.empty() ? kernel::line_counter_names() : args.patterns;
    bool terminal = stdout_is_terminal();
    std::vector<kernel::counter> before = std::move(*now);
    int64_t t0 = core::monotonic_ns();
    for (int i = 0; args.iterations <= 0 || i < args.iterations; ++i) {
      int64_t next = t0 + (i + 1) * *step;
      while (!stop && core::monotonic_ns() < next) {
        std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<int64_t>(next - core::monotonic_ns(), 50'000'000)));
      }
      if (stop) break;
      auto after = kernel::read_counters();
      if (!after) return fail(after.error());
      double seconds = static_cast<double>(*step) / 1e9;
      if (args.line) {
        auto rows = kernel::select_counters(*after, line_patterns, false);
        kernel::set_rates(rows, before, seconds);
        int64_t t = core::realtime_ns();
        // The header once, and again every screenful on a terminal, as vmstat does.
        if (!args.json && (i == 0 || (terminal && i % 20 == 0))) fmt::print("{}", render::counters_line_header(rows));
        fmt::print("{}", args.json ? render::counters_line_json(rows, t) : render::counters_line(rows, t));
        std::fflush(stdout);
        before = std::move(*after);
        continue;
      }
      auto rows = kernel::select_counters(*after, args.patterns, args.all);
      kernel::set_rates(rows, before, seconds);
      if (!args.json) fmt::print("{}-- {} --\n", i == 0 ? "" : "\n", fmt::format("{:.3f} s", static_cast<double>(core::monotonic_ns() - t0) / 1e9));
      print(rows, args, "per_s");
      std::fflush(stdout);
      before = std::move(*after);
    }
    return 0;
  }

  auto rows = kernel::select_counters(*now, args.patterns, args.all);
  if (args.delta) {
    std::string path = args.state_file.empty() ? kernel::default_history_path(args.netns) : args.state_file;
    auto loaded = kernel::load_history(path);
    if (!loaded) fmt::print(stderr, "synscope: warning: {}; counting from boot, and saving over it\n", loaded.error().message);
    auto previous = loaded ? *loaded : std::nullopt;
    int64_t t = core::realtime_ns();
    if (previous) {
      kernel::set_deltas(rows, *previous);
      if (!args.json) fmt::print("since the previous call, {:.1f} s ago ({})\n", static_cast<double>(t - previous->wall_ns) / 1e9, path);
    } else if (!args.json) {
      fmt::print("no previous call recorded in {}: values since boot\n", path);
    }
    if (auto r = kernel::save_history(path, *now, t); !r) return fail(r.error());
    print(rows, args, "delta");
    return 0;
  }
  print(rows, args, "");
  return 0;
}

}  // namespace

command_runner add_counters_command(CLI::App& app) {
  auto args = std::make_shared<counters_args>();
  CLI::App* cmd = app.add_subcommand(
      "counters", "The kernel's TCP counters (/proc/net/snmp, netstat, snmp6; nstat's names), grouped for the handshake");
  cmd->add_option("pattern", args->patterns, "Only counters matching these globs (TcpExt*Listen*); default: the handshake groups");
  cmd->add_option("--netns", args->netns, "Read this network namespace's counters (ip netns add NAME)");
  cmd->add_flag("--all", args->all, "Every counter the kernel has, settings (gauges) included; zeros with -z");
  cmd->add_flag("-a,--absolute", args->absolute,
                "Values since boot, as nstat -a (what is shown unless --delta or --interval)");
  cmd->add_flag("-z,--zeros", args->zeros, "Zeros too in --all's listing, as nstat -z (patterns and groups show them always)");
  cmd->add_flag("--line", args->line,
                "With --interval: one line per interval, a column per counter (the handshake's nine, or the patterns')");
  cmd->add_flag("--json", args->json, "JSON lines: one object per counter");
  cmd->add_flag("--delta", args->delta, "Change since the previous --delta call (kept in a state file, like nstat's history)");
  cmd->add_option("--state-file", args->state_file, "Where --delta keeps values (default $TMPDIR/.synscope-counters.u<uid>[.<netns>])");
  cmd->add_option("--interval", args->interval, "Print per-second rates every interval (1s, 500ms) until Ctrl-C or -n");
  cmd->add_option("-n,--iterations", args->iterations, "With --interval: stop after this many")->check(CLI::Range(0, 1'000'000));
  cmd->get_option("--interval")->excludes(cmd->get_option("--delta"));
  cmd->get_option("--absolute")->excludes(cmd->get_option("--delta"))->excludes(cmd->get_option("--interval"));
  cmd->get_option("--line")->needs(cmd->get_option("--interval"));
  cmd->footer(
      "Examples:\n"
      "  synscope counters                        # opens, queues, SYN cookies, retransmits, TFO, TIME-WAIT, resets\n"
      "  synscope counters 'TcpExt*Listen*'       # by glob, nstat's names\n"
      "  synscope counters --interval 1s -n 10    # per-second rates, ten times\n"
      "  synscope counters --interval 1s --line   # one line a second, as vmstat\n"
      "  synscope counters --all -z               # every counter, zeros too (nstat -az)\n"
      "  synscope counters --delta                # what changed since the last --delta\n"
      "Exit codes: 0 ok, 1 no counter matches the patterns, 2 bad arguments or no such namespace, 3 /proc unreadable,\n"
      "4 /proc malformed.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
