// synscope analyze: every handshake in capture files (tcp::analyze), rendered as a summary,
// a connection table, JSON lines or CSV.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string_view>
#include <system_error>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "render/summary.h"
#include "cli/terminal.h"
#include "core/background_writer.h"
#include "core/clock.h"
#include "core/duration.h"
#include "render/format.h"
#include "render/json.h"
#include "render/connection.h"
#include "render/table.h"
#include "core/file.h"
#include "report/capture_report.h"
#include "report/ladder.h"
#include "trace/trace_file.h"
#include "tcp/analyzer.h"
#include "tcp/id_order.h"

namespace synscope::cli {
namespace {

struct analyze_args {
  std::vector<std::string> words;  // files, then the filter expression (as tcpdump takes them)
  bool connections = false;
  bool json = false;
  bool csv = false;
  bool zeek = false;
  uint16_t community_seed = 0;
  size_t top = 10;
  std::string idle_timeout = "300";
  bool no_vlan = false;
  std::vector<uint64_t> ladder;
  std::string trace;  ///< --trace FILE: synscope trace --json output, drawn on the ladders
  std::string report;
  size_t max_open = 262'144;
  int threads = 0;
};

// Streams connections as they finish (JSON lines, CSV) or keeps them for a table.
class output_sink : public tcp::connection_sink {
 public:
  /// `bulk`: lines are handed to a writing thread in large blocks (output from files), not to
  /// stdio a line at a time (from standard input, often a live tcpdump, they keep its pace).
  output_sink(const analyze_args& a, bool bulk) : args_(a) {
    if (args_.csv) {
      fmt::print("{}\n", render::csv_header());
    }
    if (bulk) {
      std::fflush(stdout);
      bulk_ = std::make_unique<core::background_writer>(STDOUT_FILENO);
    }
  }
  // Called on the tracking thread: a failed write (a full disk) is kept for the main thread to
  // report, and nothing more is written.
  void on_connection(const tcp::connection& c) override {
    if (write_error_) return;
    try {
      if (args_.json || args_.csv) {
        // Written in place on the stack and handed to stdio whole: no allocation, no string.
        char stack_line[render::max_connection_line + 1];
        char* line = bulk_ ? bulk_->room(render::max_connection_line + 1) : stack_line;
        char* end = args_.json ? render::write_connection_json(line, c, args_.community_seed)
                               : render::write_csv_line(line, c, args_.community_seed);
        *end++ = '\n';
        if (bulk_) {
          bulk_->commit(end);
        } else {
          write(line, static_cast<size_t>(end - line));
        }
      } else if (args_.zeek) {
        // The header's #open is the first connection's first packet (connections come in the
        // order they began).
        if (!zeek_started_) zeek_header(c.first_ns);
        last_ns_ = std::max(last_ns_, c.last_ns);
        line_.clear();
        render::append_zeek_line(line_, c, args_.community_seed);
        write_line();
      } else if (args_.connections) {
        kept_.push_back(c);
      }
    } catch (const std::system_error& e) {
      write_error_ = e;
    }
  }
  std::vector<tcp::connection>& kept() { return kept_; }
  /// --zeek: the #close line (and the header first, when no connection came).
  void finish_zeek() {
    if (!args_.zeek || write_error_) return;
    try {
      if (!zeek_started_) zeek_header(0);
      line_ = render::zeek_footer(last_ns_);
      write_line();
    } catch (const std::system_error& e) {
      write_error_ = e;
    }
  }
  /// Waits until every line is written (before anything else goes to standard output).
  void finish() {
    if (!bulk_) return;
    if (int err = bulk_->finish(); err != 0 && !write_error_) {
      write_error_ = std::system_error(err, std::generic_category(), "standard output");
    }
    bulk_.reset();
  }
  [[nodiscard]] const std::optional<std::system_error>& write_error() const { return write_error_; }

 private:
  const analyze_args& args_;
  std::vector<tcp::connection> kept_;
  std::optional<std::system_error> write_error_;
  std::string line_;
  bool zeek_started_ = false;
  int64_t last_ns_ = 0;
  void zeek_header(int64_t open_ns) {
    zeek_started_ = true;
    line_ = render::zeek_header(open_ns);
    write_line();
  }
  std::unique_ptr<core::background_writer> bulk_;
  void write_line() {
    line_ += '\n';
    if (bulk_) {
      char* at = bulk_->room(line_.size());
      std::memcpy(at, line_.data(), line_.size());
      bulk_->commit(at + line_.size());
    } else {
      write(line_.data(), line_.size());
    }
  }
  static void write(const char* text, size_t n) {
    if (std::fwrite(text, 1, n, stdout) != n) throw std::system_error(errno, std::generic_category(), "standard output");
  }
};


// A word named like a capture file is a file, there or not (then "no such file"), not the start
// of a filter: no filter word ends in .pcap.
bool looks_like_capture_file(const std::string& w) {
  for (const char* ext : {".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".dmp"}) {
    std::string_view e(ext);
    if (w.size() > e.size() && std::string_view(w).substr(w.size() - e.size()) == e) return true;
  }
  return false;
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
    if (i == 0 || w == "-" || stat(w.c_str(), &st) == 0 || looks_like_capture_file(w)) {
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
    // The report's table: the connections that need a look most, each with the start of its ladder.
    options.ladder_ids.clear();
    options.ladder_attention = report::report_connection_cap;
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

  // Lines from files go out in 1 MiB writes by a thread of their own; from standard input,
  // often a live tcpdump, they keep stdio's pace.
  bool from_stdin = std::find(options.inputs.begin(), options.inputs.end(), "-") != options.inputs.end();
  bool rows = args.json || args.csv || args.zeek;
  output_sink out(args, rows && !from_stdin);
  // JSON and CSV lines in id order (the order connections began), not the order they ended.
  tcp::id_order_sink ordered(out, options.tracker.max_open);
  int64_t begin = core::monotonic_ns();
  auto report = tcp::analyze(options, rows ? static_cast<tcp::connection_sink*>(&ordered) : &out, progress);
  ordered.flush();
  out.finish_zeek();
  out.finish();
  if (show_progress && last_progress != 0) fmt::print(stderr, "\r\033[K");
  if (!report) return fail(report.error());
  if (out.write_error()) return output_failed(*out.write_error());
  if (ordered.out_of_order() > 0) {
    fmt::print(stderr,
               "synscope: warning: {} written after connections that began later (each stayed open while {} "
               "others finished; --max-open sets how many are held back)\n",
               render::counted(ordered.out_of_order(), "connection"), options.tracker.max_open);
  }
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
    // --trace: the server kernel's moments of the same connections, joined by their key.
    std::vector<trace::traced_handshake> traced;
    if (!args.trace.empty()) {
      auto text = core::read_file(args.trace);
      if (!text) return fail(text.error());
      auto parsed = trace::read_trace_json(*text, args.trace);
      if (!parsed) return fail(parsed.error());
      traced = std::move(*parsed);
    }
    auto kernel_side = [&](const tcp::connection& c) {
      std::vector<report::annotation> notes;
      if (!c.have_client_isn) return notes;
      std::string client = core::to_string(c.client), server = core::to_string(c.server);
      for (const auto& h : traced) {
        if (h.client_isn != c.client_isn || h.client != client || h.server != server) continue;
        for (const auto& [ns, what] : h.moments) notes.push_back({ns, what});
      }
      return notes;
    };
    std::vector<uint64_t> unknown;
    for (uint64_t id : args.ladder) {
      auto it = std::find_if(report->ladders.begin(), report->ladders.end(),
                             [&](const tcp::ladder& l) { return l.record.id == id; });
      if (it == report->ladders.end()) {
        unknown.push_back(id);
        continue;
      }
      auto notes = kernel_side(it->record);
      fmt::print("{}", report::render_ladder(*it, notes));
      if (!args.trace.empty() && notes.empty()) {
        fmt::print("(no handshake of this connection in {})\n", core::printable(args.trace));
      }
      fmt::print("\n");
    }
    if (report->stopped) return fail(*report->stopped);
    if (!unknown.empty()) {
      uint64_t n = report->tracker.connections;
      return fail({core::exit_code::usage,
                   fmt::format("--ladder {}: no such connection (this capture has {}{}; synscope analyze --connections lists them)",
                               fmt::join(unknown, ","), render::counted(n, "connection"),
                               n == 0 ? "" : fmt::format(", ids 0 to {}", n - 1))});
    }
    return 0;
  }
  if (args.json) {
    fmt::print("{}\n", render::summary_json(*report).str());
  } else if (args.csv || args.zeek) {
    // CSV and conn.log carry connections only.
  } else if (args.connections) {
    fmt::print("{}", render::connection_table(out.kept()));
  } else {
    size_t files = options.inputs.size();
    fmt::print("{}", render::summary_text(*report, render::counted(files, "file"), seconds));
  }
  // The results up to a corrupt record (or a file that shrank) are out; now what stopped them.
  return report->stopped ? fail(*report->stopped) : 0;
}

}  // namespace

int analyze_file(const std::string& file, const std::vector<std::string>& filter_words, bool json) {
  analyze_args args;
  args.words.push_back(file);
  args.words.insert(args.words.end(), filter_words.begin(), filter_words.end());
  args.json = json;
  return run(args);
}

command_runner add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<analyze_args>();
  CLI::App* cmd = app.add_subcommand("analyze", "Every TCP handshake in capture files (pcap, pcapng), like tshark's iRTT");
  cmd->add_option("file_or_filter", args->words,
                  "Capture files (- for stdin), then an optional tcpdump filter expression")
      ->required();
  cmd->add_flag("--connections", args->connections, "A table of every connection instead of the summary");
  cmd->add_flag("--json", args->json, "JSON lines: one object per connection, then a summary (docs/analyze.md)");
  cmd->add_flag("--csv", args->csv, "CSV: a header, then one row per connection");
  cmd->add_flag("--zeek", args->zeek,
                "Zeek's conn.log (TSV, its #fields header and column names) with community_id and the handshake "
                "columns, for Zeek pipelines, DuckDB, ClickHouse");
  cmd->add_option("--community-id-seed", args->community_seed,
                  "The Community ID seed (as Zeek's CommunityID::seed) of every record's community_id")
      ->capture_default_str();
  cmd->add_option("--top", args->top, "Rows in the top-servers and top-ports lists")->capture_default_str();
  cmd->add_option("--idle-timeout", args->idle_timeout, "A connection silent this long is finished")->capture_default_str();
  cmd->add_option("--max-open", args->max_open,
                  "Track at most this many connections at once (under 1 KB each); past it the least "
                  "recently active is finished early")
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}))
      ->capture_default_str();
  cmd->add_flag("--no-vlan", args->no_vlan, "Ignore VLAN tags when telling connections apart (as tshark does)");
  auto* ladder = cmd->add_option("--ladder", args->ladder,
                                 "Draw the ladder diagram of these connections (ids from --connections)")
                      ->delimiter(',');
  cmd->add_option("--trace", args->trace,
                  "With --ladder: draw the server kernel's moments from this synscope trace --json output on the "
                  "ladders of the same connections (joined by client, server and client ISN)")
      ->needs(ladder);
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
  cmd->get_option("--zeek")->excludes(excl_json)->excludes(cmd->get_option("--csv"));
  cmd->get_option("--connections")->excludes(excl_json)->excludes(cmd->get_option("--csv"))->excludes(cmd->get_option("--zeek"));
  cmd->footer(
      "Examples:\n"
      "  synscope analyze trace.pcapng                  # the summary\n"
      "  synscope analyze trace.pcap 'port 443'         # only what the filter passes\n"
      "  tcpdump -i any -w - 'tcp' | synscope analyze - # from a pipe\n"
      "  synscope analyze a.pcap b.pcap --json          # JSON lines\n"
      "  synscope analyze trace.pcap --zeek > conn.log  # Zeek's conn.log, with community_id\n"
      "  synscope analyze trace.pcap --ladder 0,3       # ladder diagrams of connections 0 and 3\n"
      "  synscope analyze wire.pcap --ladder 0 --trace kernel.jsonl  # with synscope trace --json's moments\n"
      "  synscope analyze trace.pcap --report out.html  # the same, to open in a browser\n"
      "Exit codes: 0 analyzed; 2 bad arguments, a file that is not there or unreadable, a --report or --ladder that\n"
      "cannot be (a folder that is not there; an id no connection has); 3 --report or standard output could not be\n"
      "written; 4 corrupt capture (the results up to the damage are printed first).");
  return [args] { return run(*args); };
}

}  // namespace synscope::cli
