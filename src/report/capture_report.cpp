#include "report/capture_report.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/text.h"
#include "report/ladder.h"
#include "report/plot.h"

namespace synscope::report {
namespace {

std::string ms_or_dash(const core::histogram& h, double p) {
  return h.count() == 0 ? "-" : fmt::format("{:.3f} ms", static_cast<double>(h.percentile(p)) / 1e6);
}

std::string us_or_null(int64_t ns) { return ns < 0 ? "null" : std::to_string((ns + 500) / 1000); }

// A JSON string safe inside the page's <script> element.
std::string js(const std::string& text) {
  std::string out;
  core::append_json_string(out, text, /*html_safe=*/true);
  return out;
}

std::string options_text(const wire::tcp_options& o, uint16_t flags) {
  if ((flags & wire::tcp_flag::syn) == 0) return "";
  std::vector<std::string> parts;
  if (o.has_mss) parts.push_back(fmt::format("mss {}", o.mss));
  if (o.sack_permitted) parts.emplace_back("sackOK");
  if (o.has_timestamps) parts.emplace_back("TS");
  if (o.has_wscale) parts.push_back(fmt::format("wscale {}", o.wscale));
  if (o.has_fastopen) parts.push_back(o.fastopen_cookie_len == 0 ? "TFO cookie request" : "TFO cookie");
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ",") + p;
  return out;
}

std::string data_json(const tcp::analyze_report& r, int64_t t0) {
  std::string rows = "[";
  std::string ladders = "{";
  bool first = true;
  for (const auto& l : r.ladders) {
    const tcp::connection& c = l.record;
    if (!first) {
      rows += ",";
      ladders += ",";
    }
    first = false;
    rows += fmt::format("[{},{},{},{},{},{},{},{},{},{},{},{},{:.6f},{},{},{}]", c.id, js(core::to_string(c.client)),
                        js(core::to_string(c.server)), js(tcp::conn_state_name(c.state())), js(c.history_string()),
                        c.syn_count, c.synack_count, us_or_null(c.initial_rtt_ns), us_or_null(c.server_rtt_ns),
                        us_or_null(c.client_rtt_ns), c.refused ? 1 : 0, js(tcp::anomaly_names(c.anomalies)),
                        static_cast<double>(c.first_ns - t0) / 1e9, us_or_null(c.connect_time_ns()), tcp::attention_rank(c),
                        js(tcp::attention_reasons(c)));
    std::string packets = "[";
    for (size_t i = 0; i < l.packets.size(); ++i) {
      const auto& p = l.packets[i];
      bool seq_known = p.from_client ? c.have_client_isn : c.have_server_isn;
      bool ack_known = p.from_client ? c.have_server_isn : c.have_client_isn;
      uint32_t seq = seq_known ? p.seq - (p.from_client ? c.client_isn : c.server_isn) : p.seq;
      bool has_ack = (p.flags & wire::tcp_flag::ack) != 0;
      uint32_t ack = ack_known ? p.ack - (p.from_client ? c.server_isn : c.client_isn) : p.ack;
      packets += fmt::format("{}[{},{},{},{},{},{},{},{},{},{}]", i == 0 ? "" : ",", (p.ts_ns - l.packets.front().ts_ns + 500) / 1000,
                             p.from_client ? 1 : 0, js(tcpdump_flags(p.flags)), seq,
                             has_ack ? std::to_string(ack) : std::string("null"), p.payload_len, p.window,
                             js(tcp::tcp_state_name(p.client_after)), js(tcp::tcp_state_name(p.server_after)),
                             js(options_text(p.options, p.flags)));
    }
    packets += "]";
    ladders += fmt::format("\"{}\":{{\"cut\":{},\"p\":{}}}", c.id, l.cut ? "true" : "false", packets);
  }
  rows += "]";
  ladders += "}";
  return fmt::format("{{\"total\":{},\"rows\":{},\"ladders\":{}}}", r.result.connections, rows, ladders);
}

const char* style = R"(<style>
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 1em 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 8px 14px; min-width: 110px; }
.card .v { font-size: 22px; font-weight: bold; } .card .k { color: #666; font-size: 12px; }
.bar { display: inline-block; height: 10px; background: #1f77b4; vertical-align: middle; }
#conns { font-size: 12px; } #conns th { cursor: pointer; user-select: none; background: #f6f6f6; }
#conns tbody tr { cursor: pointer; } #conns tbody tr:hover { background: #eef4ff; } #conns tr.sel { background: #dde8ff; }
#search { font-size: 14px; padding: 4px 8px; width: 24em; }
#ladder svg text { font: 11px ui-monospace, monospace; fill: #222; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
#ladder .state { fill: #888; } #conns td:nth-child(15) { text-align: left; white-space: nowrap; color: #b00; }
#conns tr.detail td { text-align: left; background: #fafafa; cursor: default; }
.note { color: #666; }
</style>
)";

// The table and the ladders, from the JSON in #data. Rows are built with DOM calls (text, never
// markup); the ladder SVG escapes what it prints.
const char* script = R"JS(<script>
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("data").textContent);
  const head = ["id", "client", "server", "state", "history", "SYN", "SYN-ACK", "iRTT ms", "server ms", "client ms", "refused", "anomalies", "start s", "connect ms", "attention"];
  const numeric = [true, false, false, false, false, true, true, true, true, true, true, false, true, true, true];
  const show = 500;
  // Columns 14 and 15: how much the connection needs a look (tcp::attention_rank) and why; the
  // rows come in that order, the slowest connect first within a rank.
  let sortCol = 14, asc = false, filter = "";
  const table = document.getElementById("conns");
  const tbody = table.querySelector("tbody");
  const count = document.getElementById("count");
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"}[c]));
  const cell = (r, i) => ((i >= 7 && i <= 9) || i === 13) ? (r[i] === null ? "-" : (r[i] / 1000).toFixed(3))
      : i === 10 ? (r[i] ? "yes" : "") : i === 12 ? r[i].toFixed(6) : i === 14 ? r[15] : r[i];
  const hr = table.querySelector("thead tr");
  head.forEach((h, i) => {
    const th = document.createElement("th");
    th.textContent = h;
    th.addEventListener("click", () => { if (sortCol === i) asc = !asc; else { sortCol = i; asc = true; } render(); });
    hr.appendChild(th);
  });
  function render() {
    const f = filter.toLowerCase();
    let rows = f ? D.rows.filter((r) => r.join(" ").toLowerCase().includes(f)) : D.rows.slice();
    rows.sort((a, b) => {
      // Attention: by rank, then the slowest connect (no connect time counts as slowest), then id.
      if (sortCol === 14 && a[14] !== b[14]) return asc ? a[14] - b[14] : b[14] - a[14];
      if (sortCol === 14) {
        const x = a[13] === null ? Infinity : a[13], y = b[13] === null ? Infinity : b[13];
        return x !== y ? (y > x ? 1 : -1) : a[0] - b[0];
      }
      let x = a[sortCol], y = b[sortCol];
      if (numeric[sortCol]) { x = x === null ? Infinity : x; y = y === null ? Infinity : y; return asc ? x - y : y - x; }
      return asc ? String(x).localeCompare(String(y)) : String(y).localeCompare(String(x));
    });
    const frag = document.createDocumentFragment();
    for (const r of rows.slice(0, show)) {
      const tr = document.createElement("tr");
      tr.dataset.id = r[0];
      for (let i = 0; i < head.length; i++) {
        const td = document.createElement("td");
        td.textContent = cell(r, i);
        tr.appendChild(td);
      }
      frag.appendChild(tr);
    }
    tbody.replaceChildren(frag);
    count.textContent = rows.length + " match" + (rows.length > show ? ", the first " + show + " shown" : "");
    Array.from(hr.children).forEach((th, i) => th.textContent = head[i] + (i === sortCol ? (asc ? " \u25b2" : " \u25bc") : ""));
  }
  function ladder(id) {
    const L = D.ladders[id];
    const box = document.getElementById("ladder");
    if (!L) { box.textContent = "No packets kept for connection " + id + "."; return; }
    const row = D.rows.find((r) => r[0] === Number(id));
    const W = 820, left = 190, right = 630, top = 50, step = 34;
    const H = top + step * L.p.length + 30;
    let s = '<svg xmlns="http://www.w3.org/2000/svg" width="' + W + '" height="' + H + '" data-connection="' + esc(id) + '">';
    s += '<defs><marker id="arrow" markerWidth="8" markerHeight="8" refX="7" refY="3" orient="auto"><path d="M0,0 L7,3 L0,6 z" fill="#333"/></marker></defs>';
    s += '<text x="' + left + '" y="20" text-anchor="middle">client ' + esc(row ? row[1] : "") + '</text>';
    s += '<text x="' + right + '" y="20" text-anchor="middle">server ' + esc(row ? row[2] : "") + '</text>';
    s += '<line x1="' + left + '" y1="28" x2="' + left + '" y2="' + (H - 10) + '" stroke="#999"/>';
    s += '<line x1="' + right + '" y1="28" x2="' + right + '" y2="' + (H - 10) + '" stroke="#999"/>';
    L.p.forEach((p, i) => {
      // The label above its arrow, which starts just below the label's baseline: never crossed by it.
      const y0 = top + i * step + 4, y1 = y0 + step * 0.55;
      const fromX = p[1] ? left : right, toX = p[1] ? right : left;
      const label = "[" + p[2] + "] seq " + p[3] + (p[4] === null ? "" : " ack " + p[4]) + " len " + p[5] + " win " + p[6] + (p[9] ? " <" + p[9] + ">" : "");
      s += '<line class="pkt" x1="' + fromX + '" y1="' + y0 + '" x2="' + toX + '" y2="' + y1 + '" stroke="#333" marker-end="url(#arrow)"/>';
      s += '<text x="' + ((left + right) / 2) + '" y="' + (y0 - 6) + '" text-anchor="middle">' + esc(label) + '</text>';
      s += '<text x="' + (left - 8) + '" y="' + (y0 + 4) + '" text-anchor="end">' + (p[0] / 1000).toFixed(3) + ' ms</text>';
      s += '<text class="state" x="' + (left - 8) + '" y="' + (y1 + 4) + '" text-anchor="end">' + esc(p[7]) + '</text>';
      s += '<text class="state" x="' + (right + 8) + '" y="' + (y1 + 4) + '">' + esc(p[8]) + '</text>';
    });
    s += "</svg>";
    box.innerHTML = "<h3>Connection " + esc(id) + (L.cut ? " (first " + L.p.length + " packets)" : "") + "</h3>" + s;
  }
  // The ladder opens in a row right under the one clicked, where the user is looking, and is
  // scrolled into view; a second click on the same row closes it.
  tbody.addEventListener("click", (e) => {
    const tr = e.target.closest("tr");
    if (!tr || !tr.dataset.id) return;
    const open = tbody.querySelector("tr.detail");
    const again = tr.classList.contains("sel");
    if (open) open.remove();
    tbody.querySelectorAll("tr.sel").forEach((x) => x.classList.remove("sel"));
    if (again) return;
    tr.classList.add("sel");
    const detail = document.createElement("tr");
    detail.className = "detail";
    const td = document.createElement("td");
    td.colSpan = head.length;
    const box = document.createElement("div");
    box.id = "ladder";
    td.appendChild(box);
    detail.appendChild(td);
    tr.after(detail);
    ladder(tr.dataset.id);
    tr.scrollIntoView({block: "start"});  // the row at the top, its ladder below it
  });
  document.getElementById("search").addEventListener("input", (e) => { filter = e.target.value; render(); });
  render();
})();
</script>
)JS";

}  // namespace

std::string capture_report_html(const tcp::analyze_report& r, const std::string& source, const std::string& generator) {
  const tcp::summary& s = r.result;
  // "start s" counts from the timeline's first second, the moment its x axis names, so a row
  // and the chart read on one clock (not from the earliest connection the table happens to hold).
  int64_t t0 = 0;
  if (!s.timeline.empty()) {
    t0 = s.timeline.front().second * 1'000'000'000;
  } else {
    for (const auto& l : r.ladders) {
      if (t0 == 0 || l.record.first_ns < t0) t0 = l.record.first_ns;
    }
  }
  std::string b = fmt::format("<h1>Handshakes in {}</h1>\n<p class=\"note\">{} packets, {} bytes read; made by {}.</p>\n",
                              html_escape(source), r.frames, r.bytes, html_escape(generator));
  auto card = [](const std::string& k, const std::string& v) {
    return fmt::format("<div class=\"card\"><div class=\"v\">{}</div><div class=\"k\">{}</div></div>", html_escape(v),
                       html_escape(k));
  };
  uint64_t half_open = s.by_state[static_cast<size_t>(tcp::conn_state::s0)];
  uint64_t retransmitted = 0;
  for (const auto& [n, conns] : s.syn_retransmits) {
    if (n > 0) retransmitted += conns;
  }
  b += "<div class=\"cards\">" + card("connections", std::to_string(s.connections)) +
       card("attempts (SYN seen)", std::to_string(s.attempts)) + card("handshakes completed", std::to_string(s.completed)) +
       card("success rate", s.attempts == 0 ? "-" : fmt::format("{:.2f} %", 100.0 * s.success_rate())) +
       card("initial RTT p50", ms_or_dash(s.initial_rtt, 50)) + card("initial RTT p99", ms_or_dash(s.initial_rtt, 99)) +
       card("connect time p99", ms_or_dash(s.connect_time, 99)) +
       card("refused", std::to_string(s.refused)) + card("half-open (S0)", std::to_string(half_open)) +
       card("with SYN retransmits", std::to_string(retransmitted)) + "</div>\n";

  b += "<h2>Outcomes</h2>\n<table id=\"outcomes\"><tr><th>state</th><th>connections</th><th>share</th><th>meaning</th></tr>\n";
  for (size_t i = 0; i < s.by_state.size(); ++i) {
    if (s.by_state[i] == 0) continue;
    auto st = static_cast<tcp::conn_state>(i);
    double share = s.connections == 0 ? 0 : 100.0 * static_cast<double>(s.by_state[i]) / static_cast<double>(s.connections);
    b += fmt::format("<tr><td>{}</td><td>{}</td><td><span class=\"bar\" style=\"width:{:.0f}px\"></span> {:.1f} %</td>"
                     "<td style=\"text-align:left\">{}</td></tr>\n",
                     tcp::conn_state_name(st), s.by_state[i], share * 2, share, html_escape(tcp::conn_state_meaning(st)));
  }
  b += "</table>\n<h2>Handshake round trips</h2>\n<p class=\"note\">connect time: the first SYN to the completing "
       "ACK, as the client waited (SYN retransmissions included); initial RTT: the last SYN to the completing ACK "
       "(tshark's tcp.analysis.initial_rtt); server: SYN to SYN-ACK; client: SYN-ACK to ACK.</p>\n";
  b += bars_svg({{"connect time", &s.connect_time},
                 {"initial RTT", &s.initial_rtt},
                 {"server (SYN to SYN-ACK)", &s.server_rtt},
                 {"client (SYN-ACK to ACK)", &s.client_rtt}},
                "How many handshakes took how long");
  b += cdf_svg({series_of("connect time", s.connect_time), series_of("initial RTT", s.initial_rtt),
                series_of("server (SYN to SYN-ACK)", s.server_rtt), series_of("client (SYN-ACK to ACK)", s.client_rtt)},
               "Cumulative share of handshakes");

  b += "<h2>Timeline</h2>\n";
  std::vector<int64_t> x;
  std::vector<double> syns, synacks, completed, resets;
  for (const auto& sec : s.timeline) {
    x.push_back(sec.second);
    syns.push_back(static_cast<double>(sec.syns));
    synacks.push_back(static_cast<double>(sec.synacks));
    completed.push_back(static_cast<double>(sec.completed));
    resets.push_back(static_cast<double>(sec.resets));
  }
  b += timeline_svg(x, {{"SYNs", syns}, {"SYN-ACKs", synacks}, {"handshakes completed", completed}, {"resets", resets}},
                    "Per second");

  b += "<h2>Top half-open servers (SYN flood suspects)</h2>\n";
  if (s.top_half_open.empty()) {
    b += "<p class=\"note\">None: every SYN got an answer.</p>\n";
  } else {
    b += "<table id=\"halfopen\"><tr><th>server</th><th>half-open</th><th>attempts</th><th>per second</th><th>SYN flood</th></tr>\n";
    for (const auto& h : s.top_half_open) {
      b += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td><td>{}</td></tr>\n",
                       html_escape(core::to_string(h.server)), h.half_open, h.attempts, h.rate_per_s(), h.syn_flood ? "yes" : "");
    }
    b += "</table>\n";
  }
  b += "<h2>Top refused ports</h2>\n";
  if (s.top_refused.empty()) {
    b += "<p class=\"note\">None refused.</p>\n";
  } else {
    b += "<table id=\"refused\"><tr><th>port</th><th>refused</th></tr>\n";
    for (const auto& p : s.top_refused) b += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", p.port, p.refused);
    b += "</table>\n";
  }

  b += "<h2>Connections</h2>\n";
  if (s.connections > r.ladders.size()) {
    b += fmt::format("<p class=\"note\" id=\"capnote\">The table holds the {} of {} connections that need a look most "
                     "(failed, half-open, SYN retransmitted, with anomalies, then the slowest); the {} others are in every "
                     "figure above, and <code>synscope analyze FILE --json</code> lists them all. Ladders show each "
                     "connection's first {} packets.</p>\n",
                     r.ladders.size(), s.connections, s.connections - r.ladders.size(), report_ladder_packets);
  }
  b += "<p><input id=\"search\" type=\"search\" placeholder=\"filter: address, port, state, history\"> <span id=\"count\" "
       "class=\"note\"></span></p>\n<p class=\"note\">The connections that need attention come first (failed, half-open, "
       "SYN retransmitted, with anomalies; the slowest first within each). Click a row for its ladder diagram, "
       "under it; click a heading to sort.</p>\n";
  b += "<table id=\"conns\"><thead><tr></tr></thead><tbody></tbody></table>\n";
  b += "<script type=\"application/json\" id=\"data\">" + data_json(r, t0) + "</script>\n";
  b += script;
  return html_page("synscope analyze: " + source, b, style);
}

}  // namespace synscope::report
