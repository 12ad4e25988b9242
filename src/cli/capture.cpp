// synscope capture: a live capture (capture::live_capture) through analyze's pipeline
// (tcp::analyze_live), a line a second, the analyze summary at the end.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "capture/live.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/file.h"
#include "kernel/netns.h"
#include "render/summary.h"
#include "cli/terminal.h"
#include "tcp/analyzer.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/json.h"

namespace synscope::cli {
namespace {

struct capture_args {
  std::string interface = "any";
  std::vector<std::string> filter_words;
  std::string write;
  uint64_t count = 0;
  std::string duration = "0";
  int snaplen = 128;
  bool json = false;
  bool quiet = false;
  std::string read;   ///< -r FILE: analyze it instead, as tcpdump -r reads a file
  std::string netns;
};

int run(const capture_args& args) {
  if (!args.read.empty()) return analyze_file(args.read, args.filter_words, args.json);
  if (!args.netns.empty()) {
    if (auto r = kernel::enter_netns(args.netns); !r) return fail(r.error());
  }
  auto duration = core::parse_duration(args.duration, "--duration");
  if (!duration) return fail(duration.error());
  if (args.snaplen < 64 || args.snaplen > 262144) {
    return fail({core::exit_code::usage, fmt::format("--snaplen {}: must be 64 to 262144", args.snaplen)});
  }
  if (!args.write.empty()) {
    if (auto c = core::check_output_path(args.write, "-w"); !c) return fail(c.error());
  }
  capture::live_options o;
  o.interface = args.interface;
  o.snaplen = args.snaplen;
  o.write_path = args.write;
  if (!args.filter_words.empty()) {
    o.filter.clear();
    for (const auto& w : args.filter_words) o.filter += (o.filter.empty() ? "" : " ") + w;
  }
  auto cap = capture::live_capture::open(o);
  if (!cap) return fail(cap.error());
  fmt::print(stderr, "synscope: capturing on {} (link type {}), filter '{}', snaplen {}{}\n",
             core::printable(o.interface), cap->linktype(), core::printable(o.filter), o.snaplen,
             o.write_path.empty() ? "" : ", writing " + core::printable(o.write_path));

  tcp::live_options live;
  live.count = args.count;
  live.duration_ns = *duration;
  live.interrupted = &install_interrupt_flag();
  auto print_interval = [&](const tcp::interval_report& w) {
    if (args.json) {
      fmt::print("{}\n", render::interval_json(w).str());
    } else if (!args.quiet) {
      fmt::print("{}\n", render::interval_text(w));
    }
    std::fflush(stdout);
  };
  auto report = tcp::analyze_live(*cap, {}, live, print_interval);
  if (!report) return fail(report.error());
  wire::source_stats st = report->source.value_or(wire::source_stats{});
  if (args.json) {
    auto j = render::summary_json(*report);
    j.field("kernel_received", st.received).field("kernel_drops", st.dropped);
    fmt::print("{}\n", j.str());
  } else {
    fmt::print("\n{}", render::summary_text(*report, "interface " + core::printable(o.interface),
                                    static_cast<double>(report->elapsed_ns) / 1e9));
    fmt::print("kernel: {} packets received by the filter, {} dropped\n", st.received, st.dropped);
  }
  return 0;
}

}  // namespace

command_runner add_capture_command(CLI::App& app) {
  auto args = std::make_shared<capture_args>();
  CLI::App* cmd = app.add_subcommand("capture", "Watch handshakes live (libpcap): a line a second, a summary at the end");
  cmd->add_option("filter", args->filter_words, "tcpdump filter expression (default: tcp)");
  cmd->add_option("-i,--interface", args->interface, "Interface, or any")->capture_default_str();
  cmd->add_option("-w,--write", args->write, "Also write what is captured to this pcap file");
  cmd->add_option("-c,--count", args->count, "Stop after this many packets (0: no limit)")->capture_default_str();
  cmd->add_option("--duration", args->duration, "Stop after this long: seconds or 500ms, 0 = until Ctrl-C")
      ->capture_default_str();
  cmd->add_option("--snaplen", args->snaplen, "Bytes kept of each packet")->capture_default_str();
  cmd->add_flag("--json", args->json, "JSON lines: one object a second, then the summary");
  cmd->add_flag("-q,--quiet", args->quiet, "Only the summary at the end");
  cmd->add_option("--netns", args->netns, "Capture in this network namespace (ip netns add NAME), as ip netns exec would");
  auto* read = cmd->add_option("-r,--read", args->read,
                               "Read this capture file instead, as tcpdump -r: the same as synscope analyze FILE [filter]");
  for (const char* live_only : {"--interface", "--write", "--count", "--duration", "--snaplen", "--quiet", "--netns"}) {
    read->excludes(cmd->get_option(live_only));
  }
  cmd->footer(
      "Examples:\n"
      "  synscope capture                              # all TCP on every interface, until Ctrl-C\n"
      "  synscope capture -i eth0 port 443 --duration 60 -w handshakes.pcap\n"
      "  synscope capture --netns lab0 -i veth0 -c 1000  # inside a network namespace\n"
      "  synscope capture -r handshakes.pcap port 443    # a file, as tcpdump -r (synscope analyze)\n"
      "Each line is one second of the packets' time, in UTC, counted as the summary's timeline counts it.\n"
      "Needs root or CAP_NET_RAW (exit 77 without); as root it continues as 'nobody' once the\n"
      "device and the -w file are open. Exit codes: 0 done, 2 bad arguments or no such namespace, 77 no\n"
      "permission; with -r, analyze's.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
