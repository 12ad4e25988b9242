#include "render/connection.h"

#include <algorithm>

#include <fmt/format.h>

#include "render/format.h"
#include "render/table.h"

namespace synscope::render {
namespace {

std::string us(int64_t ns) { return ns < 0 ? "" : fmt::format("{:.3f}", static_cast<double>(ns) / 1e3); }

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

json_object options_json(const tcp::offered_options& o) {
  json_object j;
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

void optional_us(json_object& j, const char* key, int64_t ns) {
  if (ns < 0) {
    j.null_field(key);
  } else {
    j.micros(key, ns);
  }
}


const std::vector<std::string> csv_columns = {
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

std::vector<std::string> csv_row(const tcp::connection& c) {
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

}  // namespace

json_object connection_json(const tcp::connection& c) {
  json_object j;
  std::vector<std::string> vlan;
  for (int i = 0; i < c.vlan_count && i < 3; ++i) vlan.push_back(std::to_string(c.vlan[static_cast<size_t>(i)]));
  json_object tfo;
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

std::string csv_header() {
  std::string line;
  for (size_t i = 0; i < csv_columns.size(); ++i) line += (i ? "," : "") + csv_columns[i];
  return line;
}

std::string csv_line(const tcp::connection& c) {
  auto row = csv_row(c);
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) line += (i ? "," : "") + csv_cell(row[i]);
  return line;
}

std::string connection_table(std::vector<tcp::connection>& all) {
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  using col = table::column;
  constexpr auto right = table::align::right;
  table t({col{"id", right}, col{"client"}, col{"server"}, col{"state"}, col{"history"}, col{"syn", right},
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

}  // namespace synscope::render
