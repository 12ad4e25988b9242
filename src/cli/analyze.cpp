// synscope analyze: every handshake in capture files (tcp::analyze), rendered as a summary,
// a connection table, JSON lines or CSV.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <system_error>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "render/summary.h"
#include "cli/terminal.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/format.h"
#include "render/json.h"
#include "render/table.h"
#include "core/file.h"
#include "report/capture_report.h"
#include "report/ladder.h"
#include "tcp/analyzer.h"

namespace synscope::cli {
namespace {

struct analyze_args {
  std::vector<std::string> words;  // files, then the filter expression (as tcpdump takes them)
  bool connections = false;
  bool json = false;
  bool csv = false;
  size_t top = 10;
  std::string idle_timeout = "300";
  bool no_vlan = false;
  std::vector<uint64_t> ladder;
  std::string report;
  size_t max_open = 262'144;
  int threads = 0;
};

std::string us(int64_t ns) { return ns < 0 ? "" : fmt::format("{:.3f}", static_cast<double>(ns) / 1e3); }
using render::ms;

std::vector<std::string> negotiated(const tcp::connection& c) {
  std::vector<std::string> out;
  const auto& a = c.client_options;
  const auto& b = c.server_options;
  if (!a.seen || !b.seen) return out;
  if (a.sack_permitted && b.sack_permitted) out.emplace_back("sack");
  if (a.timestamps && b.timestamps) out.emplace_back("timestamps");
  if (a.wscale && b.wscale) out.emplace_back("wscale");
  if (a.fastopen && b.fastopen) out.emplace_back("fastopen");
  if (a.mptcp && b.mptcp) out.emplace_back("mptcp");
  return out;
}

render::json_object options_json(const tcp::offered_options& o) {
  render::json_object j;
  j.field("seen", o.seen);
  if (o.mss) {
    j.field("mss", o.mss_value);
  } else {
    j.null_field("mss");
  }
  if (o.wscale) {
    j.field("wscale", o.wscale_value);
  } else {
    j.null_field("wscale");
  }
  j.field("sack_permitted", o.sack_permitted).field("timestamps", o.timestamps).field("fastopen", o.fastopen)
      .field("mptcp", o.mptcp);
  return j;
}

void optional_us(render::json_object& j, const char* key, int64_t ns) {
  if (ns < 0) {
    j.null_field(key);
  } else {
    j.micros(key, ns);
  }
}


render::json_object connection_json(const tcp::connection& c) {
  render::json_object j;
  std::vector<std::string> vlan;
  for (int i = 0; i < c.vlan_count && i < 3; ++i) vlan.push_back(std::to_string(c.vlan[static_cast<size_t>(i)]));
  render::json_object tfo;
  tfo.field("cookie_requested", c.tfo_cookie_requested)
      .field("cookie_sent", c.tfo_cookie_sent)
      .field("cookie_granted", c.tfo_cookie_granted)
      .field("syn_data_bytes", c.syn_data_bytes)
      .field("syn_data_acked", c.syn_data_acked);
  j.field("type", "connection")
      .field("id", c.id)
      .field("client", core::to_string(c.client))
      .field("server", core::to_string(c.server))
      .field("vlan", vlan)
      .field("first_unix_ns", c.first_ns)
      .field("last_unix_ns", c.last_ns)
      .field("syn_count", c.syn_count)
      .field("synack_count", c.synack_count);
  if (c.have_client_isn) {
    j.field("client_isn", c.client_isn);
  } else {
    j.null_field("client_isn");
  }
  if (c.have_server_isn) {
    j.field("server_isn", c.server_isn);
  } else {
    j.null_field("server_isn");
  }
  j.field("handshake_complete", c.handshake_complete);
  optional_us(j, "initial_rtt_us", c.initial_rtt_ns);
  optional_us(j, "connect_time_us", c.connect_time_ns());
  if (c.handshake_complete && c.handshake_ack_ns >= 0) {
    j.field("handshake_done_unix_ns", c.handshake_ack_ns);
  } else {
    j.null_field("handshake_done_unix_ns");
  }
  optional_us(j, "server_rtt_us", c.server_rtt_ns);
  optional_us(j, "client_rtt_us", c.client_rtt_ns);
  j.field("refused", c.refused)
      .field("conn_state", tcp::conn_state_name(c.state()))
      .field("history", c.history_string())
      .field("ended", tcp::end_reason_name(c.ended))
      .field("client_tcp_state", tcp::tcp_state_name(c.client_tcp))
      .field("server_tcp_state", tcp::tcp_state_name(c.server_tcp))
      .field("packets_to_server", c.to_server.packets)
      .field("bytes_to_server", c.to_server.payload_bytes)
      .field("packets_to_client", c.to_client.packets)
      .field("bytes_to_client", c.to_client.payload_bytes)
      .field("client_options", options_json(c.client_options))
      .field("server_options", options_json(c.server_options))
      .field("negotiated", negotiated(c))
      .field("tfo", tfo)
      .field("anomalies", tcp::anomaly_list(c.anomalies));
  return j;
}

const std::vector<std::string> csv_header = {
    "id", "client", "server", "vlan", "first_unix_ns", "syn_count", "synack_count", "handshake_complete",
    "initial_rtt_us", "server_rtt_us", "client_rtt_us", "refused", "conn_state", "history", "ended",
    "packets_to_server", "bytes_to_server", "packets_to_client", "bytes_to_client", "syn_data_bytes", "anomalies",
    "connect_time_us", "handshake_done_unix_ns"};

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) {
    out += ch;
    if (ch == '"') out += '"';
  }
  return out + "\"";
}

std::vector<std::string> connection_row(const tcp::connection& c) {
  std::string vlan;
  for (int i = 0; i < c.vlan_count && i < 3; ++i) {
    vlan += (i ? "." : "") + std::to_string(c.vlan[static_cast<size_t>(i)]);
  }
  return {std::to_string(c.id), core::to_string(c.client), core::to_string(c.server), vlan,
          std::to_string(c.first_ns), std::to_string(c.syn_count), std::to_string(c.synack_count),
          c.handshake_complete ? "1" : "0", us(c.initial_rtt_ns), us(c.server_rtt_ns), us(c.client_rtt_ns),
          c.refused ? "1" : "0", tcp::conn_state_name(c.state()), c.history_string(), tcp::end_reason_name(c.ended),
          std::to_string(c.to_server.packets), std::to_string(c.to_server.payload_bytes),
          std::to_string(c.to_client.packets), std::to_string(c.to_client.payload_bytes),
          std::to_string(c.syn_data_bytes), tcp::anomaly_names(c.anomalies), us(c.connect_time_ns()),
          c.handshake_complete && c.handshake_ack_ns >= 0 ? std::to_string(c.handshake_ack_ns) : ""};
}

// Streams connections as they finish (JSON lines, CSV) or keeps them for a table.
class output_sink : public tcp::connection_sink {
 public:
  explicit output_sink(const analyze_args& a) : args_(a) {
    if (args_.csv) {
      std::string line;
      for (size_t i = 0; i < csv_header.size(); ++i) line += (i ? "," : "") + csv_header[i];
      fmt::print("{}\n", line);
    }
  }
  // Called on the tracking thread: a failed write (a full disk) is kept for the main thread to
  // report, and nothing more is written.
  void on_connection(const tcp::connection& c) override {
    if (write_error_) return;
    try {
      if (args_.json) {
        fmt::print("{}\n", connection_json(c).str());
      } else if (args_.csv) {
        auto row = connection_row(c);
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + csv_cell(row[i]);
        fmt::print("{}\n", line);
      } else if (args_.connections) {
        kept_.push_back(c);
      }
    } catch (const std::system_error& e) {
      write_error_ = e;
    }
  }
  std::vector<tcp::connection>& kept() { return kept_; }
  [[nodiscard]] const std::optional<std::system_error>& write_error() const { return write_error_; }

 private:
  const analyze_args& args_;
  std::vector<tcp::connection> kept_;
  std::optional<std::system_error> write_error_;
};

std::string connection_table(std::vector<tcp::connection>& all) {
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  using col = render::table::column;
  constexpr auto right = render::table::align::right;
  render::table t({col{"id", right}, col{"client"}, col{"server"}, col{"state"}, col{"history"}, col{"syn", right},
                 col{"synack", right}, col{"connect_ms", right}, col{"irtt_ms", right}, col{"server_ms", right},
                 col{"client_ms", right}, col{"anomalies"}});
  auto opt_ms = [](int64_t ns) { return ns < 0 ? std::string("-") : ms(ns); };
  for (const auto& c : all) {
    t.add_row({std::to_string(c.id), core::to_string(c.client), core::to_string(c.server),
               tcp::conn_state_name(c.state()), c.history_string(), std::to_string(c.syn_count),
               std::to_string(c.synack_count), opt_ms(c.connect_time_ns()), opt_ms(c.initial_rtt_ns),
               opt_ms(c.server_rtt_ns), opt_ms(c.client_rtt_ns), tcp::anomaly_names(c.anomalies)});
  }
  return t.render();
}

int run(const analyze_args& args) {
  if (args.words.empty()) {
    return fail({core::exit_code::usage, "analyze: no capture file (use - for standard input)"});
  }
  // Files first (the first word always), then everything from the first word that is not a
  // file is the filter, as `tcpdump -r FILE EXPRESSION` takes it.
  tcp::analyze_options options;
  size_t i = 0;
  for (; i < args.words.size(); ++i) {
    struct stat st {};
    const auto& w = args.words[i];
    if (i == 0 || w == "-" || stat(w.c_str(), &st) == 0) {
      options.inputs.push_back(w);
    } else {
      break;
    }
  }
  for (; i < args.words.size(); ++i) options.filter += (options.filter.empty() ? "" : " ") + args.words[i];
  auto idle = core::parse_duration(args.idle_timeout, "--idle-timeout");
  if (!idle) return fail(idle.error());
  options.tracker.idle_timeout_ns = *idle;
  options.tracker.vlan_aware = !args.no_vlan;
  options.tracker.max_open = args.max_open;
  options.top_n = args.top;
  options.ladder_ids = args.ladder;
  options.threads = args.threads;
  if (!args.report.empty()) {
    // Checked before the work, so that a long analysis does not end in "cannot write".
    if (auto c = core::check_output_path(args.report, "--report"); !c) return fail(c.error());
    // The report's table: the first connections, each with the start of its ladder.
    options.ladder_ids = report::report_ladder_ids();
    options.ladder_packets = report::report_ladder_packets;
  }

  bool show_progress = isatty(STDERR_FILENO) == 1;
  int64_t last_progress = 0;
  auto progress = [&](const std::string& name, uint64_t done, uint64_t total, uint64_t frames) {
    int64_t now = core::monotonic_ns();
    if (!show_progress || now - last_progress < 200 * core::ns_per_ms) return;
    last_progress = now;
    if (total > 0) {
      fmt::print(stderr, "\r{}: {:5.1f}%  {} packets", core::printable(name), 100.0 * static_cast<double>(done) / static_cast<double>(total), frames);
    } else {
      fmt::print(stderr, "\r{}: {} packets", core::printable(name), frames);
    }
  };

  output_sink out(args);
  int64_t begin = core::monotonic_ns();
  auto report = tcp::analyze(options, &out, progress);
  if (show_progress && last_progress != 0) fmt::print(stderr, "\r\033[K");
  if (!report) return fail(report.error());
  if (out.write_error()) return output_failed(*out.write_error());
  for (const auto& in : report->inputs) {
    if (!in.truncation.empty()) fmt::print(stderr, "synscope: warning: {}\n", in.truncation);
    if (in.odd_timestamps > 0) {
      fmt::print(stderr, "synscope: warning: {}: {} packets have a timestamp fraction of a second >= 1 s (read as tshark does)\n",
                 core::printable(in.name), in.odd_timestamps);
    }
  }
  double seconds = static_cast<double>(core::monotonic_ns() - begin) / 1e9;
  if (!args.report.empty()) {
    std::string source;
    for (const auto& in : options.inputs) source += (source.empty() ? "" : ", ") + in;
    if (!options.filter.empty()) source += fmt::format(" (filter '{}')", options.filter);
    auto written = core::write_file_atomically(
        args.report, report::capture_report_html(*report, source, std::string("synscope ") + SYNSCOPE_VERSION));
    if (!written) return fail(written.error());
  }
  if (!args.ladder.empty()) {
    for (uint64_t id : args.ladder) {
      auto it = std::find_if(report->ladders.begin(), report->ladders.end(),
                             [&](const tcp::ladder& l) { return l.record.id == id; });
      if (it == report->ladders.end()) {
        fmt::print(stderr, "synscope: warning: --ladder {}: no such connection (ids: synscope analyze --connections)\n", id);
        continue;
      }
      fmt::print("{}\n", report::render_ladder(*it));
    }
    return report->stopped ? fail(*report->stopped) : 0;
  }
  if (args.json) {
    fmt::print("{}\n", render::summary_json(*report).str());
  } else if (args.csv) {
    // CSV carries connections only.
  } else if (args.connections) {
    fmt::print("{}", connection_table(out.kept()));
  } else {
    size_t files = options.inputs.size();
    fmt::print("{}", render::summary_text(*report, fmt::format("{} file{}", files, files == 1 ? "" : "s"), seconds));
  }
  // The results up to a corrupt record (or a file that shrank) are out; now what stopped them.
  return report->stopped ? fail(*report->stopped) : 0;
}

}  // namespace

command_runner add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<analyze_args>();
  CLI::App* cmd = app.add_subcommand("analyze", "Every TCP handshake in capture files (pcap, pcapng), like tshark's iRTT");
  cmd->add_option("file_or_filter", args->words,
                  "Capture files (- for stdin), then an optional tcpdump filter expression")
      ->required();
  cmd->add_flag("--connections", args->connections, "A table of every connection instead of the summary");
  cmd->add_flag("--json", args->json, "JSON lines: one object per connection, then a summary (docs/analyze.md)");
  cmd->add_flag("--csv", args->csv, "CSV: a header, then one row per connection");
  cmd->add_option("--top", args->top, "Rows in the top-servers and top-ports lists")->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout, "A connection silent this long is finished")->capture_default_str();
  cmd->add_option("--max-open", args->max_open,
                  "Track at most this many connections at once (under 1 KB each); past it the least "
                  "recently active is finished early")
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}))
      ->capture_default_str();
  cmd->add_flag("--no-vlan", args->no_vlan, "Ignore VLAN tags when telling connections apart (as tshark does)");
  cmd->add_option("--ladder", args->ladder, "Draw the ladder diagram of these connections (ids from --connections)")
      ->delimiter(',');
  cmd->add_option("--report", args->report,
                  "Also write one self-contained HTML file: cards, outcomes, RTT charts, timeline, and a "
                  "connection table whose rows draw their ladder diagram")
      ->excludes(cmd->get_option("--ladder"));
  cmd->add_option("--threads", args->threads,
                  "1: read and track in one thread; 2: a reading thread feeds the tracking one "
                  "(the same results); 0: 2 when two CPUs are available")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  auto* excl_json = cmd->get_option("--json");
  cmd->get_option("--csv")->excludes(excl_json);
  cmd->get_option("--connections")->excludes(excl_json)->excludes(cmd->get_option("--csv"));
  cmd->footer(
      "Examples:\n"
      "  synscope analyze trace.pcapng                  # the summary\n"
      "  synscope analyze trace.pcap 'port 443'         # only what the filter passes\n"
      "  tcpdump -i any -w - 'tcp' | synscope analyze - # from a pipe\n"
      "  synscope analyze a.pcap b.pcap --json          # JSON lines\n"
      "  synscope analyze trace.pcap --ladder 0,3       # ladder diagrams of connections 0 and 3\n"
      "  synscope analyze trace.pcap --report out.html  # the same, to open in a browser\n"
      "Exit codes: 0 analyzed, 2 bad arguments or unreadable file, 4 corrupt capture.");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
