// synscope capture: live capture (capture::live_capture) through the same tracker as analyze,
// a line a second, the analyze summary at the end.
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "capture/live.h"
#include "wire/reassembly.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/file.h"
#include "cli/summary_render.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/histogram.h"
#include "core/json.h"
#include "tcp/summary.h"
#include "tcp/tracker.h"
#include "wire/packet.h"

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
};

// One second of handshake events.
struct interval {
  uint64_t syns = 0;
  uint64_t synacks = 0;
  uint64_t completed = 0;
  uint64_t resets = 0;
  uint64_t refused = 0;
  core::histogram rtt;
};

std::string clock_text(int64_t unix_ns) {
  time_t sec = static_cast<time_t>(unix_ns / 1'000'000'000);
  tm local{};
  localtime_r(&sec, &local);
  return fmt::format("{:02}:{:02}:{:02}", local.tm_hour, local.tm_min, local.tm_sec);
}

int run(const capture_args& args) {
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

  auto& interrupted = install_interrupt_flag();
  tcp::summary_builder summary;
  tcp::tracker track({}, summary);
  interval window;
  uint64_t packets = 0;
  uint64_t tcp_packets = 0;
  int64_t begin_ns = core::realtime_ns();
  int64_t start = core::monotonic_ns();
  int64_t next_tick = start + core::ns_per_s;
  wire::packet_view p;

  auto report_interval = [&](int64_t now_unix) {
    auto st = cap->stats();
    const auto& ts = track.stats();
    bool any = window.rtt.count() > 0;
    if (args.json) {
      core::json_object j;
      j.field("type", "interval")
          .field("time_unix_ns", now_unix)
          .field("syn", window.syns)
          .field("synack", window.synacks)
          .field("completed", window.completed)
          .field("rst", window.resets)
          .field("refused", window.refused)
          .field("half_open", ts.awaiting_synack);
      if (any) {
        j.micros("rtt_p50_us", window.rtt.percentile(50)).micros("rtt_p99_us", window.rtt.percentile(99));
      } else {
        j.null_field("rtt_p50_us").null_field("rtt_p99_us");
      }
      j.field("kernel_drops", st.dropped);
      fmt::print("{}\n", j.str());
    } else if (!args.quiet) {
      fmt::print("{}  syn/s {:>6}  synack/s {:>6}  completed/s {:>6}  rst/s {:>5}  refused {:>4}  half-open {:>5}  "
                 "rtt p50 {} p99 {}  drops {}\n",
                 clock_text(now_unix), window.syns, window.synacks, window.completed, window.resets, window.refused,
                 ts.awaiting_synack, any ? fmt::format("{:.3f} ms", core::ns_to_ms(window.rtt.percentile(50))) : "-",
                 any ? fmt::format("{:.3f} ms", core::ns_to_ms(window.rtt.percentile(99))) : "-", st.dropped);
    }
    std::fflush(stdout);
    window.syns = window.synacks = window.completed = window.resets = window.refused = 0;
    window.rtt.reset();
  };

  wire::frame_decoder decoder;  // reassembles IP fragments, as analyze does
  auto on_frame = [&](const wire::frame& f) {
    ++packets;
    if (args.count != 0 && packets >= args.count) cap->stop();
    if (decoder.decode(f.linktype, f.data, f.ts_ns, p) != wire::decode_status::tcp) return;
    ++tcp_packets;
    using namespace wire::tcp_flag;
    summary.add_segment(p, f.ts_ns);
    if ((p.flags & syn) && !(p.flags & ack)) ++window.syns;
    if ((p.flags & syn) && (p.flags & ack)) ++window.synacks;
    if (p.flags & rst) ++window.resets;
    const tcp::connection& c = track.add(p, f.ts_ns);
    if (c.handshake_complete && c.handshake_ack_ns == f.ts_ns && c.initial_rtt_ns >= 0) {
      ++window.completed;
      window.rtt.record(c.initial_rtt_ns);
    }
    if ((p.flags & rst) && c.refused && c.server == tcp::endpoint{p.src, p.sport}) ++window.refused;
  };

  while (!interrupted.load(std::memory_order_relaxed)) {
    auto n = cap->dispatch(on_frame);
    if (!n) return fail(n.error());
    int64_t now = core::monotonic_ns();
    if (now >= next_tick) {
      report_interval(core::realtime_ns());
      next_tick += core::ns_per_s;
      if (next_tick < now) next_tick = now + core::ns_per_s;
    }
    if (args.count != 0 && packets >= args.count) break;
    if (*duration != 0 && now - start >= *duration) break;
  }
  if (args.count == 0 || packets < args.count) {
    auto n = cap->drain(on_frame);
    if (!n) return fail(n.error());
  }
  if (window.syns + window.synacks + window.resets + window.completed > 0) report_interval(core::realtime_ns());
  track.flush();
  tcp::analyze_report report;
  report.frames = packets;
  tcp::input_report in;
  in.name = o.interface;
  in.frames = packets;
  in.decoded[static_cast<size_t>(wire::decode_status::tcp)] = tcp_packets;
  report.inputs.push_back(in);
  report.tracker = track.stats();
  report.result = summary.finish();
  auto st = cap->stats();
  double seconds = static_cast<double>(core::realtime_ns() - begin_ns) / 1e9;
  if (args.json) {
    auto j = summary_json(report);
    j.field("kernel_received", st.received).field("kernel_drops", st.dropped);
    fmt::print("{}\n", j.str());
  } else {
    fmt::print("\n{}", summary_text(report, "interface " + core::printable(o.interface), seconds));
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
  cmd->footer(
      "Examples:\n"
      "  synscope capture                              # all TCP on every interface, until Ctrl-C\n"
      "  synscope capture -i eth0 port 443 --duration 60 -w handshakes.pcap\n"
      "Needs root or CAP_NET_RAW (exit 77 without); as root it continues as 'nobody' once the\n"
      "device and the -w file are open. Exit codes: 0 done, 2 bad arguments, 77 no permission.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
