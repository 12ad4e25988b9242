// synscope doctor: the handshake checklist, checked live, with evidence and fixes.
#include <unistd.h>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/doctor.h"
#include "doctor/doctor.h"
#include "kernel/netns.h"
#include "trace/live.h"

namespace synscope::cli {
namespace {

struct doctor_args {
  std::string window = "1s";
  std::string netns;
  std::vector<std::string> only;
  bool json = false;
  bool no_self_test = false;
  bool no_trace = false;
};

// Nagios plugin convention, so monitoring systems can run it as a check.
int exit_for(doctor::verdict v) {
  switch (v) {
    case doctor::verdict::pass:
    case doctor::verdict::info: return 0;
    case doctor::verdict::warn: return 1;
    case doctor::verdict::fail: return 2;
  }
  return 2;
}

int run(const doctor_args& args) {
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) {
      fmt::print(stderr, "synscope: {}\n", r.error().message);
      return 3;
    }
  }
  auto window = core::parse_duration(args.window, "--window");
  if (!window || *window < 0 || *window > 600 * core::ns_per_s) {
    fmt::print(stderr, "synscope: {}\n", window ? "--window: between 0 and 10m" : window.error().message);
    return 3;
  }
  doctor::options o;
  o.window_ns = *window;
  o.only = args.only;
  o.self_test = !args.no_self_test;
  // The handshake trace through the window where it can run (root, or CAP_BPF and CAP_PERFMON):
  // the queues group then names each listener's accept-queue wait and drops. Where it cannot,
  // the counters alone, and the finding says which tier it used.
#ifdef SYNSCOPE_HAVE_TRACE
  std::unique_ptr<trace::background> tracing;
  if (!args.no_trace) {
    if (auto bg = trace::background::start({.netns = kernel::current_netns_inode()}, 256)) {
      tracing = std::move(*bg);
      o.trace = [t = tracing.get()](const trace::view_fn& f) { t->read(f); };
    }
  }
#endif
  auto findings = doctor::examine(o);
  if (!findings) {
    fmt::print(stderr, "synscope: {}\n", findings.error().message);
    return 3;
  }
  auto worst = doctor::worst(*findings);
  fmt::print("{}", args.json ? render::doctor_json(*findings) : render::doctor_text(*findings, colour_on(STDOUT_FILENO)));
  return exit_for(worst);
}

}  // namespace

command_runner add_doctor_command(CLI::App& app) {
  auto args = std::make_shared<doctor_args>();
  CLI::App* cmd = app.add_subcommand("doctor", "The connection-establishment checklist, checked live on this host: verdict, numbers, fix");
  cmd->add_option("--window", args->window, "How long counters are watched for growth")->capture_default_str();
  cmd->add_option("--netns", args->netns, "Examine this network namespace (ip netns add NAME)");
  cmd->add_option("--only", args->only, "Only these groups: " + doctor::group_list())->delimiter(',');
  cmd->add_flag("--no-self-test", args->no_self_test, "Skip the loopback handshake burst");
#ifdef SYNSCOPE_HAVE_TRACE
  cmd->add_flag("--no-trace", args->no_trace,
                "Do not trace handshakes through the window (eBPF): the queues group then uses the counters alone");
#endif
  cmd->add_flag("--json", args->json, "JSON lines: one per finding, then a summary");
  cmd->footer(
      "Examples:\n"
      "  synscope doctor\n"
      "  synscope doctor --window 10s --only queues,failures\n"
      "  synscope doctor --netns lab0 --json\n"
      "Exit codes (the Nagios plugin convention): 0 nothing worse than INFO, 1 WARN, 2 FAIL,\n"
      "3 could not check (bad arguments, no such namespace, the kernel unreadable).");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
