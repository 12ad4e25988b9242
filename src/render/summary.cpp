// Rendering a capture summary (tcp::analyze_report) as text and as JSON: shared by `analyze`
// and `capture`.
#include "render/summary.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.h"
#include "render/format.h"
#include "render/table.h"

namespace synscope::render {
namespace {

constexpr std::initializer_list<stat> rtt_stats = {stat::count, stat::min, stat::p50, stat::p90,
                                                   stat::p99,   stat::max, stat::mean};


constexpr const char* anomaly_labels[] = {"SYN-ACK acking the wrong number", "handshake ACK not acking ISN+1",
                                          "SYN-ACK with no SYN seen",       "SYN with a new ISN on a live tuple",
                                          "RST answering a SYN",            "SYN-ACK captured before its SYN",
                                          "malformed TCP option on a SYN",  "SYN with FIN or RST",
                                          "simultaneous open (both sides sent a SYN)", "the same SYN again after a RST"};
static_assert(std::size(anomaly_labels) == tcp::anomaly_count);


// Frames of `in` whose decode ended in `st`; for fragments, those not made whole again.
uint64_t not_decoded(const tcp::input_report& in, wire::decode_status st) {
  uint64_t n = in.decoded[static_cast<size_t>(st)];
  if (st == wire::decode_status::fragment) n -= std::min(n, in.reassembly.fragments - in.reassembly.datagrams);
  return n;
}

}  // namespace

std::string summary_text(const tcp::analyze_report& r, const std::string& source, double seconds) {
  const tcp::summary& s = r.result;
  using col = render::table::column;
  constexpr auto right = render::table::align::right;
  uint64_t tcp_frames = 0;
  for (const auto& in : r.inputs) tcp_frames += in.decoded[0];
  std::string out = fmt::format("{}, {} ({} TCP), {}, in {:.2f} s\n", source, counted(r.frames, "packet"), tcp_frames,
                                counted(s.connections, "connection"), seconds);
  // Frames that could hold TCP but were not read as TCP, by reason: never dropped without a word.
  std::string skipped;
  for (auto st : {wire::decode_status::fragment, wire::decode_status::truncated, wire::decode_status::malformed,
                  wire::decode_status::unsupported_link, wire::decode_status::vlan_depth, wire::decode_status::encrypted,
                  wire::decode_status::tunnel_depth}) {
    uint64_t n = 0;
    for (const auto& in : r.inputs) n += not_decoded(in, st);
    if (n > 0) {
      skipped += fmt::format("{}{} {}{}", skipped.empty() ? "" : ", ", n, wire::decode_status_meaning(st),
                             st == wire::decode_status::fragment ? " never made whole" : "");
    }
  }
  if (!skipped.empty()) out += "not decoded: " + skipped + "\n";
  uint64_t datagrams = 0;
  uint64_t fragments = 0;
  for (const auto& in : r.inputs) {
    datagrams += in.reassembly.datagrams;
    fragments += in.reassembly.fragments;
  }
  if (datagrams > 0) out += fmt::format("reassembled: {} IP datagrams from {} fragments\n", datagrams, fragments);
  out += "\n";
  out += fmt::format("handshakes: {} attempted, {} completed ({:.1f}%), {} refused, {} half-open (S0)\n\n", s.attempts,
                     s.completed, 100.0 * s.success_rate(), s.refused,
                     s.by_state[static_cast<size_t>(tcp::conn_state::s0)]);
  if (r.tracker.time_jumps_back > 0) {
    out += fmt::format("note: time went back {} time{} (by up to {:.1f} s): files joined or merged out of order? No "
                       "connection spans a jump back, and no reply pairs with a request after it\n\n",
                       r.tracker.time_jumps_back, r.tracker.time_jumps_back == 1 ? "" : "s",
                       static_cast<double>(r.tracker.largest_jump_back_ns) / 1e9);
  }
  if (r.tracker.evicted_full > 0) {
    out += fmt::format("note: {} connections were finished early, the least recently active first, because more than "
                       "--max-open were open at once\n\n",
                       r.tracker.evicted_full);
  }
  render::table states({col{"outcome"}, col{"connections", right}, col{"meaning"}});
  for (size_t i = 0; i < s.by_state.size(); ++i) {
    if (s.by_state[i] == 0) continue;
    auto st = static_cast<tcp::conn_state>(i);
    states.add_row({tcp::conn_state_name(st), std::to_string(s.by_state[i]), tcp::conn_state_meaning(st)});
  }
  out += states.render() + "\n";
  render::table rtt({col{"handshake time"}, col{"count", right}, col{"min_ms", right}, col{"p50_ms", right},
                   col{"p90_ms", right}, col{"p99_ms", right}, col{"max_ms", right}, col{"avg_ms", right}});
  rtt.add_row(histogram_row("connect (first SYN->ACK)", s.connect_time, rtt_stats));
  rtt.add_row(histogram_row("initial rtt (SYN->ACK)", s.initial_rtt, rtt_stats));
  rtt.add_row(histogram_row("server (SYN->SYN-ACK)", s.server_rtt, rtt_stats));
  rtt.add_row(histogram_row("client (SYN-ACK->ACK)", s.client_rtt, rtt_stats));
  out += rtt.render() + "\n";
  if (!s.syn_retransmits.empty()) {
    render::table retrans({col{"SYN retransmissions", right}, col{"connections", right}});
    for (const auto& [n, count] : s.syn_retransmits) retrans.add_row({std::to_string(n), std::to_string(count)});
    out += retrans.render() + "\n";
  }
  if (!s.top_half_open.empty()) {
    render::table h({col{"server"}, col{"half_open", right}, col{"attempts", right}, col{"per_s", right}, col{"flag"}});
    for (const auto& srv : s.top_half_open) {
      h.add_row({core::to_string(srv.server), std::to_string(srv.half_open), std::to_string(srv.attempts),
                 fmt::format("{:.1f}", srv.rate_per_s()), srv.syn_flood ? "SYN FLOOD" : ""});
    }
    out += "top servers by half-open connections:\n" + h.render() + "\n";
  }
  if (!s.top_refused.empty()) {
    render::table p({col{"port", right}, col{"refused", right}});
    for (const auto& rp : s.top_refused) p.add_row({std::to_string(rp.port), std::to_string(rp.refused)});
    out += "top refused ports:\n" + p.render() + "\n";
  }
  if (!s.timeline.empty() && s.timeline.size() <= 3600) {
    render::table tl({col{"second"}, col{"syn", right}, col{"synack", right}, col{"completed", right},
                    col{"rst", right}});
    for (const auto& t : s.timeline) {
      tl.add_row({core::format_time(t.second * core::ns_per_s, "%Y-%m-%d %H:%M:%S", core::time_zone::utc),
                  std::to_string(t.syns), std::to_string(t.synacks), std::to_string(t.completed),
                  std::to_string(t.resets)});
    }
    out += "timeline (UTC, per second):\n" + tl.render();
  }
  bool any = false;
  for (size_t i = 0; i < s.anomalies.size(); ++i) {
    if (s.anomalies[i] == 0) continue;
    if (!any) out += "\nanomalies (connections):\n";
    any = true;
    out += fmt::format("  {:>6}  {}\n", s.anomalies[i], anomaly_labels[i]);
  }
  return out;
}

render::json_object summary_json(const tcp::analyze_report& r) {
  const tcp::summary& s = r.result;
  render::json_object states;
  for (size_t i = 0; i < s.by_state.size(); ++i) states.field(tcp::conn_state_name(static_cast<tcp::conn_state>(i)), s.by_state[i]);
  render::json_object retrans;
  for (const auto& [n, count] : s.syn_retransmits) retrans.field(std::to_string(n), count);
  render::json_array half_open;
  for (const auto& srv : s.top_half_open) {
    half_open.add(render::json_object()
                      .field("server", core::to_string(srv.server))
                      .field("half_open", srv.half_open)
                      .field("attempts", srv.attempts)
                      .field("per_s", srv.rate_per_s())
                      .field("syn_flood", srv.syn_flood));
  }
  render::json_object refused;
  for (const auto& rp : s.top_refused) refused.field(std::to_string(rp.port), rp.refused);
  render::json_object anomalies;
  auto names = tcp::anomaly_list((1u << tcp::anomaly_count) - 1);
  for (size_t i = 0; i < s.anomalies.size() && i < names.size(); ++i) anomalies.field(names[i], s.anomalies[i]);
  std::vector<std::string> warnings;
  for (const auto& in : r.inputs) {
    if (!in.truncation.empty()) warnings.push_back(in.truncation);
  }
  render::json_array timeline;
  for (const auto& t : s.timeline) {
    timeline.add(render::json_object()
                     .field("time_unix_ns", t.second * core::ns_per_s)
                     .field("syn", t.syns)
                     .field("synack", t.synacks)
                     .field("completed", t.completed)
                     .field("rst", t.resets));
  }
  render::json_object j;
  j.field("type", "summary")
      .field("files", r.inputs.size())
      .field("packets", r.frames)
      .field("connections", s.connections)
      .field("attempts", s.attempts)
      .field("completed", s.completed)
      .field("refused", s.refused)
      .field("success_rate", s.success_rate())
      .field("conn_state", states)
      .field("connect_time_us", histogram_json_us(s.connect_time))
      .field("initial_rtt_us", histogram_json_us(s.initial_rtt))
      .field("server_rtt_us", histogram_json_us(s.server_rtt))
      .field("client_rtt_us", histogram_json_us(s.client_rtt))
      .field("syn_retransmits", retrans)
      .field("refused_ports", refused)
      .field("anomalies", anomalies)
      .field("top_half_open", half_open)
      .field("timeline", timeline)
      .field("peak_open_connections", r.tracker.peak_open)
      .field("finished_early_full", r.tracker.evicted_full)
      .field("time_jumps_back", r.tracker.time_jumps_back)
      .field("largest_jump_back_s", static_cast<double>(r.tracker.largest_jump_back_ns) / 1e9)
      .field("warnings", warnings);
  // Every frame by what became of it; fragments that went into a whole datagram are not "not
  // decoded" (the one that completed it counts as tcp).
  render::json_object decoded;
  for (size_t i = 0; i < wire::decode_status_count; ++i) {
    uint64_t n = 0;
    for (const auto& in : r.inputs) n += not_decoded(in, static_cast<wire::decode_status>(i));
    decoded.field(wire::decode_status_name(static_cast<wire::decode_status>(i)), n);
  }
  uint64_t datagrams = 0;
  for (const auto& in : r.inputs) datagrams += in.reassembly.datagrams;
  decoded.field("reassembled_fragments", [&] {
    uint64_t n = 0;
    for (const auto& in : r.inputs) n += in.reassembly.fragments - in.reassembly.datagrams;
    return n;
  }());
  decoded.field("reassembled_datagrams", datagrams);
  j.field("decoded", decoded);
  if (r.stopped) {
    j.field("error", r.stopped->message);
  } else {
    j.null_field("error");
  }
  return j;
}


std::string interval_text(const tcp::interval_report& w) {
  bool any = w.rtt.count() > 0;
  return fmt::format("{}  syn/s {:>6}  synack/s {:>6}  completed/s {:>6}  rst/s {:>5}  refused {:>4}  half-open {:>5}  "
                     "rtt p50 {} p99 {}  drops {}",
                     core::format_time(w.time_unix_ns, "%H:%M:%S", core::time_zone::utc), w.syns, w.synacks,
                     w.completed, w.resets, w.refused, w.half_open, any ? ms(w.rtt.percentile(50)) + " ms" : "-",
                     any ? ms(w.rtt.percentile(99)) + " ms" : "-", w.source.dropped);
}

json_object interval_json(const tcp::interval_report& w) {
  json_object j;
  j.field("type", "interval")
      .field("time_unix_ns", w.time_unix_ns)
      .field("syn", w.syns)
      .field("synack", w.synacks)
      .field("completed", w.completed)
      .field("rst", w.resets)
      .field("refused", w.refused)
      .field("half_open", w.half_open);
  if (w.rtt.count() > 0) {
    j.micros("rtt_p50_us", w.rtt.percentile(50)).micros("rtt_p99_us", w.rtt.percentile(99));
  } else {
    j.null_field("rtt_p50_us").null_field("rtt_p99_us");
  }
  return j.field("kernel_drops", w.source.dropped);
}

}  // namespace synscope::render
