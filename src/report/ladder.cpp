#include "report/ladder.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/clock.h"

namespace synscope::report {
namespace {

using namespace wire::tcp_flag;

constexpr size_t arrow_width = 58;

std::string options_text(const wire::tcp_options& o) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : ",") + s; };
  if (o.has_mss) add(fmt::format("mss {}", o.mss));
  if (o.sack_permitted) add("sackOK");
  if (o.has_timestamps) add("TS");
  if (o.has_wscale) add(fmt::format("wscale {}", o.wscale));
  if (o.has_fastopen) add(o.fastopen_cookie_len == 0 ? "tfo cookie-req" : fmt::format("tfo cookie {}B", o.fastopen_cookie_len));
  if (o.mptcp) add("mptcp");
  return out;
}

std::string pad_arrow(const std::string& label, bool to_server) {
  // |--- label ----->|   or   |<---- label ---|
  std::string body = " " + label + " ";
  size_t dashes = body.size() + 6 < arrow_width ? arrow_width - body.size() - 6 : 2;
  if (to_server) {
    return "|---" + body + std::string(dashes, '-') + "->|";
  }
  return "|<-" + std::string(dashes, '-') + body + "---|";
}

}  // namespace

std::string tcpdump_flags(uint16_t f) {
  std::string s;
  if (f & syn) s += 'S';
  if (f & fin) s += 'F';
  if (f & rst) s += 'R';
  if (f & psh) s += 'P';
  if (f & urg) s += 'U';
  if (f & ece) s += 'E';
  if (f & cwr) s += 'W';
  if (f & ae) s += 'e';
  if (f & ack) s += '.';
  return s.empty() ? "none" : s;
}

std::string render_ladder(const tcp::ladder& l, const std::vector<annotation>& server_side) {
  const tcp::connection& c = l.record;
  std::string out = fmt::format("connection {}: {} -> {}  {}", c.id, core::to_string(c.client),
                                core::to_string(c.server), tcp::conn_state_name(c.state()));
  if (c.history_len > 0) out += "  history " + c.history_string();
  out += "\n";
  if (c.initial_rtt_ns >= 0) {
    out += fmt::format("initial rtt {:.3f} ms (server {:.3f} ms, client {:.3f} ms)\n",
                       static_cast<double>(c.initial_rtt_ns) / 1e6, static_cast<double>(c.server_rtt_ns) / 1e6,
                       static_cast<double>(c.client_rtt_ns) / 1e6);
  }
  int64_t t0 = l.packets.front().ts_ns;
  out += fmt::format("time 0 = {}.{:09} UTC\n\n", core::format_time(t0, "%Y-%m-%d %H:%M:%S", core::time_zone::utc),
                     t0 % core::ns_per_s);
  std::string client_label = "client " + core::to_string(c.client);
  std::string server_label = "server " + core::to_string(c.server);
  out += fmt::format("{:>12}  {:<{}}{}\n", "+ms", client_label, arrow_width - server_label.size(), server_label);
  tcp::tcp_state client_state = tcp::tcp_state::closed;
  tcp::tcp_state server_state = tcp::tcp_state::listen;
  out += fmt::format("{:>12}  {:<{}}{}\n", "", tcp::tcp_state_name(client_state),
                     arrow_width - std::string(tcp::tcp_state_name(server_state)).size(),
                     tcp::tcp_state_name(server_state));
  std::vector<annotation> notes = server_side;
  std::stable_sort(notes.begin(), notes.end(), [](const annotation& a, const annotation& b) { return a.unix_ns < b.unix_ns; });
  size_t next_note = 0;
  // A server-side moment is drawn before the first packet that is later than it.
  auto notes_until = [&](int64_t ts) {
    for (; next_note < notes.size() && notes[next_note].unix_ns <= ts; ++next_note) {
      out += fmt::format("{:>12.3f}  {:>{}}  [kernel] {}\n", static_cast<double>(notes[next_note].unix_ns - t0) / 1e6, "|",
                         arrow_width - 1, notes[next_note].text);
    }
  };
  for (const auto& p : l.packets) {
    notes_until(p.ts_ns - 1);
    bool seq_known = p.from_client ? c.have_client_isn : c.have_server_isn;
    bool ack_known = p.from_client ? c.have_server_isn : c.have_client_isn;
    uint32_t seq_base = p.from_client ? c.client_isn : c.server_isn;
    uint32_t ack_base = p.from_client ? c.server_isn : c.client_isn;
    std::string label = fmt::format("[{}] seq={}", tcpdump_flags(p.flags),
                                    seq_known ? fmt::format("{}", p.seq - seq_base) : fmt::format("{}", p.seq));
    if (p.flags & ack) {
      label += fmt::format(" ack={}", ack_known ? fmt::format("{}", p.ack - ack_base) : fmt::format("{}", p.ack));
    }
    if (p.payload_len > 0) label += fmt::format(" len={}", p.payload_len);
    std::string extra = fmt::format("(seq {}{})", p.seq, (p.flags & ack) ? fmt::format(" ack {}", p.ack) : "");
    if (p.flags & syn) {
      std::string opts = options_text(p.options);
      if (!opts.empty()) extra += " " + opts;
    }
    extra += fmt::format(" win {}", p.window);
    out += fmt::format("{:>12.3f}  {}  {}\n", static_cast<double>(p.ts_ns - t0) / 1e6, pad_arrow(label, p.from_client),
                       extra);
    if (p.client_after != client_state || p.server_after != server_state) {
      std::string left = p.client_after != client_state ? tcp::tcp_state_name(p.client_after) : "";
      std::string right = p.server_after != server_state ? tcp::tcp_state_name(p.server_after) : "";
      std::string row = fmt::format("{:>12}  {:<{}}{}", "", left, arrow_width - right.size(), right);
      row.erase(row.find_last_not_of(' ') + 1);
      out += row + "\n";
      client_state = p.client_after;
      server_state = p.server_after;
    }
  }
  notes_until(INT64_MAX);
  if (l.cut) out += fmt::format("... (only the first {} packets are drawn)\n", tcp::ladder_packet_limit);
  // No line ends in spaces (the columns pad to the right).
  std::string trimmed;
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    std::string line = out.substr(start, end - start);
    line.erase(line.find_last_not_of(' ') + 1);
    trimmed += line + "\n";
    start = end + 1;
  }
  return trimmed;
}

}  // namespace synscope::report
