#pragma once
// The analyzer pipeline behind `synscope analyze` and `synscope capture`: frames (capture files
// or a live source) -> (filter) -> packet views -> tracker -> summary, plus any connection sink
// the caller adds; a live run also reports every interval.
//
//   tcp::analyze_options o;
//   o.inputs = {"trace.pcapng"};
//   auto r = tcp::analyze(o, nullptr, {});
//   r->result.success_rate();
//
//   auto r = tcp::analyze_live(capture, {}, {.duration_ns = 60 * core::ns_per_s}, print_line);
#include <array>
#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/histogram.h"
#include "tcp/summary.h"
#include "tcp/tracker.h"
#include "wire/frame_source.h"
#include "wire/packet.h"
#include "wire/reassembly.h"

namespace synscope::tcp {

/// One packet of a connection, as a ladder diagram draws it.
struct ladder_packet {
  int64_t ts_ns = 0;
  bool from_client = true;
  uint16_t flags = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint32_t payload_len = 0;
  uint16_t window = 0;
  wire::tcp_options options;
  tcp_state client_after = tcp_state::closed;  ///< RFC 9293 states after this packet
  tcp_state server_after = tcp_state::listen;
};

/// The packets of the connections chosen for ladder diagrams, and their records.
struct ladder {
  connection record;
  std::vector<ladder_packet> packets;  ///< at most ladder_packet_limit
  bool cut = false;                    ///< more packets than were kept
};
inline constexpr size_t ladder_packet_limit = 1000;
inline constexpr size_t attention_live_limit = 20'000;

struct analyze_options {
  std::vector<std::string> inputs;  ///< files, "-" for stdin; read in order as one capture
  std::string filter;               ///< tcpdump syntax; empty = everything
  tracker_options tracker;
  size_t top_n = 10;
  syn_flood_thresholds flood;
  std::vector<uint64_t> ladder_ids;  ///< connections (by id) whose packets to keep for ladders
  size_t ladder_packets = ladder_packet_limit;  ///< packets kept per ladder (at most ladder_packet_limit)
  /// With no ladder_ids: keep ladders for this many connections of the whole input, those that
  /// need a look most (tcp::attention_rank, then the slowest connect, then the earliest), in that
  /// order; the report's table. At most `ladder_attention` + attention_live_limit ladders are
  /// held at once (a connection that begins while that many are open gets none).
  size_t ladder_attention = 0;
  /// 2: one thread reads and decodes while another tracks (results are identical); 1: all in
  /// the calling thread. 0 picks 2 when this process may run on two or more CPUs.
  int threads = 0;
};

struct input_report {
  std::string name;
  uint64_t frames = 0;
  uint64_t filtered_out = 0;
  std::array<uint64_t, wire::decode_status_count> decoded{};  ///< by wire::decode_status
  wire::reassembly_stats reassembly;  ///< IP fragments made whole again (their frames count as `fragment` but the last)
  uint64_t odd_timestamps = 0;
  std::string truncation;  ///< non-empty: the file was cut short there (a warning)
};

struct analyze_report {
  std::vector<input_report> inputs;
  tracker_stats tracker;
  summary result;
  uint64_t frames = 0;
  uint64_t bytes = 0;  ///< bytes of input read
  std::vector<ladder> ladders;  ///< one per ladder id that exists, in the order asked (or by attention)
  /// What stopped the reading before the end (a corrupt record, a file that shrank while it was
  /// read): everything before it is in the report, as tshark prints what it read before an error.
  std::optional<core::error> stopped;
  /// A live run: how long it ran, and what the kernel said of the source at the end.
  int64_t elapsed_ns = 0;
  std::optional<wire::source_stats> source;
};

/// Progress: bytes read so far of the current input, its size (0 when unknown), frames so far.
using progress_fn = std::function<void(const std::string& input, uint64_t done, uint64_t total, uint64_t frames)>;

/// Runs the pipeline. `extra`, when given, receives every connection as it is finished (for
/// streaming --json/--connections output), on the calling thread. `progress` is called every
/// 2^16 frames, from the reading thread (which is not the caller's with two threads). An input
/// that cannot be opened is an error; a corrupt record later stops the reading there
/// (report.stopped names file, offset and packet, with the results up to it); a truncated
/// input is a warning.
core::result<analyze_report> analyze(const analyze_options& options, connection_sink* extra,
                                     const progress_fn& progress);

/// When a live run ends, and how often it reports.
struct live_options {
  uint64_t count = 0;                 ///< stop after this many frames (0: no limit)
  int64_t duration_ns = 0;            ///< stop after this long (0: until interrupted)
  int64_t interval_ns = 1'000'000'000;  ///< the intervals' length, in the packets' time
  /// Checked after every dispatch: set (from a signal handler) to end the run.
  const std::atomic<bool>* interrupted = nullptr;
};

/// One interval of a live run: the handshake events seen in it.
struct interval_report {
  int64_t time_unix_ns = 0;  ///< where the interval starts, in the packets' time (a whole second by default)
  uint64_t syns = 0;         ///< SYN without ACK
  uint64_t synacks = 0;
  uint64_t completed = 0;    ///< handshakes whose third packet came in the interval
  uint64_t resets = 0;
  uint64_t refused = 0;      ///< RSTs from a server answering a SYN
  uint64_t half_open = 0;    ///< SYNs still waiting for a SYN-ACK (at the interval's end)
  core::histogram rtt;       ///< initial RTT of the handshakes completed in the interval
  wire::source_stats source;
};
using interval_fn = std::function<void(const interval_report&)>;

/// The same pipeline over a live source until count, duration or *interrupted; `on_interval`
/// (optional) is called for every interval_ns of the packets' time, quiet ones included, once
/// the wall clock has passed it by a quarter second or a later packet has come, and once more at
/// the end for a partial interval that saw handshake events. options.inputs and options.threads are not used (a live
/// source is read on the calling thread); options.filter, when set, applies after the source's
/// own. A source error ends the run with that error.
core::result<analyze_report> analyze_live(wire::live_source& source, const analyze_options& options,
                                          const live_options& live, const interval_fn& on_interval);

}  // namespace synscope::tcp
