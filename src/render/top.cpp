#include "render/top.h"

#include <algorithm>

#include <fmt/format.h>

#include "render/json.h"

namespace synscope::render {
namespace {

using kernel::tcp_state;

struct state_row {
  const char* label;
  tcp_state state;
};
constexpr state_row state_rows[] = {
    {"established", tcp_state::established}, {"syn-sent", tcp_state::syn_sent},     {"syn-recv", tcp_state::syn_recv},
    {"fin-wait-1", tcp_state::fin_wait1},    {"fin-wait-2", tcp_state::fin_wait2},   {"time-wait", tcp_state::time_wait},
    {"close-wait", tcp_state::close_wait},   {"last-ack", tcp_state::last_ack},      {"closing", tcp_state::closing},
    {"listen", tcp_state::listen},
};

// What a non-zero rate means: nothing wrong, worth a look (yellow), or connections lost (red).
enum class concern { none, notable, bad };

struct rate_row {
  const char* label;
  const char* key;      // short name for the one-line and JSON forms
  const char* counter;  // nstat's name
  concern when_nonzero = concern::none;
};
constexpr rate_row rate_rows[] = {
    {"active opens", "active_opens", "TcpActiveOpens"},
    {"passive opens", "passive_opens", "TcpPassiveOpens"},
    {"attempt fails", "attempt_fails", "TcpAttemptFails", concern::notable},
    {"established resets", "estab_resets", "TcpEstabResets", concern::notable},
    {"SYN retransmits", "syn_retrans", "TcpExtTCPSynRetrans", concern::notable},
    {"listen overflows", "listen_overflows", "TcpExtListenOverflows", concern::bad},
    {"listen drops", "listen_drops", "TcpExtListenDrops", concern::bad},
    {"SYN cookies sent", "syncookies_sent", "TcpExtSyncookiesSent", concern::bad},
    {"resets sent", "resets_sent", "TcpOutRsts"},
};

// `text` (already padded) in the colour of `c`, when colour is on.
std::string tinted(std::string text, concern c, bool colour) {
  if (!colour || c == concern::none) return text;
  return (c == concern::bad ? "\033[1;31m" : "\033[33m") + text + "\033[0m";
}

concern of_listener(const kernel::listener_load& l) {
  if (l.backlog > 0 && l.fill() >= 0.8) return concern::bad;
  if (l.backlog > 0 && l.fill() >= 0.5) return concern::notable;
  return concern::none;
}
constexpr size_t figure_count = std::size(state_rows) + std::size(rate_rows);

}  // namespace

top_figures_t top_figures(const kernel::snapshot* before, const kernel::snapshot& now) {
  static_assert(figure_count == top_figure_count);
  top_figures_t v{};
  size_t i = 0;
  for (const auto& r : state_rows) v[i++] = static_cast<double>(now.sockets.in_state(r.state));
  for (const auto& r : rate_rows) v[i++] = before == nullptr ? 0.0 : kernel::rate(*before, now, r.counter);
  return v;
}

std::string top_screen(const top_heading& head, const kernel::snapshot* before, const kernel::snapshot& now,
                       const top_history& h, screen_size w, bool colour) {
  auto v = top_figures(before, now);
  const auto& listeners = now.sockets.listeners;
  auto rate_text = [&](size_t i) { return before == nullptr ? std::string("-") : fmt::format("{:.1f}", v[i]); };
  auto rate_concern = [&](size_t k, size_t i) {
    return before != nullptr && v[i] > 0 ? rate_rows[k].when_nonzero : concern::none;
  };
  std::vector<std::string> lines;
  lines.push_back(fmt::format("synscope top  {}  {}every {}  q quits", head.clock,
                              head.netns.empty() ? "" : "netns " + head.netns + "  ", head.interval));
  lines.emplace_back("");
  // One column of sockets, then one of rates, when the window is tall enough for both and three
  // listeners; else the two side by side (an 80x24 terminal), so that the listener queues, what
  // top is opened for in an incident, stay on screen.
  constexpr size_t states = std::size(state_rows);
  constexpr size_t rates = std::size(rate_rows);
  size_t tall = 2 + (1 + states) + 1 + (1 + rates) + 1 + 1 + std::max<size_t>(1, std::min<size_t>(listeners.size(), 3));
  if (w.rows >= tall || w.cols < 80) {
    size_t spark = w.cols > 40 ? std::min<size_t>(60, w.cols - 40) : 0;
    lines.push_back(fmt::format("{:<20} {:>10}  history", "SOCKETS", now.sockets.total));
    for (size_t i = 0; i < states; ++i) {
      lines.push_back(fmt::format("  {:<18} {:>10}  {}", state_rows[i].label, static_cast<uint64_t>(v[i]), h.sparkline(i, spark)));
    }
    lines.emplace_back("");
    lines.push_back(fmt::format("{:<20} {:>10}", "HANDSHAKES", "per s"));
    for (size_t k = 0; k < rates; ++k) {
      size_t i = states + k;
      lines.push_back(fmt::format("  {:<18} {}  {}", rate_rows[k].label,
                                  tinted(fmt::format("{:>10}", rate_text(i)), rate_concern(k, i), colour), h.sparkline(i, spark)));
    }
  } else {
    size_t half = w.cols / 2;
    size_t spark = half > 34 ? std::min<size_t>(30, half - 34) : 0;
    lines.push_back(fmt::format("{:<22} {:>8}{:{}}{:<22} {:>8}", "SOCKETS", now.sockets.total, "", half - 31, "HANDSHAKES", "per s"));
    for (size_t r = 0; r < states; ++r) {
      std::string left = fmt::format("  {:<20} {:>8} {}", state_rows[r].label, static_cast<uint64_t>(v[r]), h.sparkline(r, spark));
      std::string line = left + std::string(half > 32 + spark ? half - 32 - spark : 1, ' ');
      if (r < rates) {
        size_t i = states + r;
        line += fmt::format("  {:<20} {} {}", rate_rows[r].label, tinted(fmt::format("{:>8}", rate_text(i)), rate_concern(r, i), colour),
                            h.sparkline(i, spark));
      }
      lines.push_back(line);
    }
  }
  lines.emplace_back("");
  lines.push_back(fmt::format("{:<28} {:>8} {:>8} {:>6} {:>10}", "LISTENERS (fullest first)", "queue", "backlog", "fill",
                              "half-open"));
  size_t room = w.rows > lines.size() ? w.rows - lines.size() : 0;
  size_t shown = listeners.size() <= room ? listeners.size() : (room > 0 ? room - 1 : 0);
  for (size_t k = 0; k < shown; ++k) {
    const auto& l = listeners[k];
    lines.push_back(tinted(fmt::format("  {:<26} {:>8} {:>8} {:>5.0f}% {:>10}", kernel::socket_text(l.local), l.accept_queue,
                                       l.backlog, l.fill() * 100.0, l.half_open),
                           of_listener(l), colour));
  }
  if (shown < listeners.size()) {
    lines.push_back(fmt::format("  ... {} more (synscope sockets -s lists every listener)", listeners.size() - shown));
  }
  if (listeners.empty()) lines.emplace_back("  (none)");
  std::string out = "\033[H";
  for (size_t k = 0; k < lines.size() && k < w.rows; ++k) {
    out += lines[k] + "\033[K" + (k + 1 < w.rows ? "\r\n" : "");
  }
  out += "\033[J";
  return out;
}

std::string top_json(const top_heading& head, const kernel::snapshot* before, const kernel::snapshot& now) {
  auto v = top_figures(before, now);
  json_object states;
  json_object rates;
  size_t i = 0;
  for (const auto& r : state_rows) states.field(r.label, static_cast<uint64_t>(v[i++]));
  for (const auto& r : rate_rows) rates.field(r.key, v[i++]);
  json_array listeners;
  for (size_t k = 0; k < now.sockets.listeners.size() && k < 5; ++k) {
    const auto& l = now.sockets.listeners[k];
    listeners.add(json_object()
                      .field("local", kernel::socket_text(l.local))
                      .field("accept_queue", l.accept_queue)
                      .field("backlog", l.backlog)
                      .field("half_open", l.half_open));
  }
  return json_object()
      .field("time_unix_ns", head.unix_ns)
      .field("sockets", now.sockets.total)
      .field("states", states)
      .field("per_s", rates)
      .field("listeners", listeners)
      .str();
}

std::string top_line(const top_heading& head, const kernel::snapshot* before, const kernel::snapshot& now) {
  auto v = top_figures(before, now);
  std::string out = fmt::format("{} sockets={}", head.clock, now.sockets.total);
  size_t i = 0;
  for (const auto& r : state_rows) {
    if (r.state == tcp_state::listen || r.state == tcp_state::syn_sent || r.state == tcp_state::closing) {
      ++i;
      continue;
    }
    out += fmt::format(" {}={}", r.label, static_cast<uint64_t>(v[i++]));
  }
  for (const auto& r : rate_rows) {
    out += fmt::format(" {}/s={}", r.key, before == nullptr ? std::string("-") : fmt::format("{:.1f}", v[i]));
    ++i;
  }
  if (!now.sockets.listeners.empty()) {
    const auto& l = now.sockets.listeners.front();
    out += fmt::format(" fullest={} {}/{}", kernel::socket_text(l.local), l.accept_queue, l.backlog);
  }
  return out;
}


std::string top_history::sparkline(size_t figure, size_t width) const {
  static constexpr const char* bars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  size_t n = std::min(width, samples_.size());
  double top = 0;
  for (size_t i = samples_.size() - n; i < samples_.size(); ++i) top = std::max(top, samples_[i][figure]);
  std::string out;
  for (size_t i = samples_.size() - n; i < samples_.size(); ++i) {
    double v = samples_[i][figure];
    size_t level = top <= 0 ? 0 : std::min<size_t>(7, static_cast<size_t>(v / top * 7.0 + 0.5));
    out += bars[level];
  }
  return out;
}

void top_history::add(const top_figures_t& values) {
  samples_.push_back(values);
  if (samples_.size() > 120) samples_.pop_front();
}

}  // namespace synscope::render
