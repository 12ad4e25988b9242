#include "render/connection.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

#include <fmt/format.h>

#include "render/format.h"
#include "render/table.h"

namespace synscope::render {
namespace {


// The options both sides offered, at most five names.
struct negotiated_names {
  std::array<std::string_view, 5> names;
  size_t count = 0;
  [[nodiscard]] std::span<const std::string_view> view() const { return {names.data(), count}; }
};

negotiated_names negotiated(const tcp::connection& c) {
  negotiated_names out;
  const auto& a = c.client_options;
  const auto& b = c.server_options;
  if (!a.seen || !b.seen) return out;
  auto both = [&](bool x, bool y, std::string_view name) {
    if (x && y) out.names[out.count++] = name;
  };
  both(a.sack_permitted, b.sack_permitted, "sack");
  both(a.timestamps, b.timestamps, "timestamps");
  both(a.wscale, b.wscale, "wscale");
  both(a.fastopen, b.fastopen, "fastopen");
  both(a.mptcp, b.mptcp, "mptcp");
  return out;
}

void options_json(json_object& j, const tcp::offered_options& o) {
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

void append_csv_cell(std::string& out, std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) {
    out += s;
    return;
  }
  out += '"';
  for (char ch : s) {
    out += ch;
    if (ch == '"') out += '"';
  }
  out += '"';
}

// The CSV row's cells, in csv_columns' order, appended to a line.
class csv_writer {
 public:
  explicit csv_writer(std::string& out) : out_(out) {}
  csv_writer& cell(std::string_view v) {
    if (!first_) out_ += ',';
    first_ = false;
    append_csv_cell(out_, v);
    return *this;
  }
  template <std::integral T>
  csv_writer& number(T v) {
    char text[24];
    auto end = std::to_chars(text, text + sizeof text, v).ptr;
    return cell(std::string_view(text, static_cast<size_t>(end - text)));
  }
  csv_writer& flag(bool v) { return cell(v ? "1" : "0"); }
  /// Microseconds with three decimals; empty when not measured (negative).
  csv_writer& micros(int64_t ns) {
    if (ns < 0) return cell("");
    // What "%.3f" writes of ns / 1e3, from the integer: the three decimals are exact.
    char text[40];
    char* end = std::to_chars(text, text + sizeof text, ns / 1000).ptr;
    int64_t frac = ns % 1000;
    *end++ = '.';
    *end++ = static_cast<char>('0' + frac / 100);
    *end++ = static_cast<char>('0' + frac / 10 % 10);
    *end++ = static_cast<char>('0' + frac % 10);
    return cell(std::string_view(text, static_cast<size_t>(end - text)));
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void write_connection(json_object& j, const tcp::connection& c) {
  std::array<char, 3 * 6> vlan_text{};
  std::array<std::string_view, 3> vlan;
  size_t vlans = 0;
  for (int i = 0; i < c.vlan_count && i < 3; ++i) {
    char* at = vlan_text.data() + 6 * i;
    auto n = fmt::format_to_n(at, 6, "{}", c.vlan[static_cast<size_t>(i)]).size;
    vlan[vlans++] = std::string_view(at, std::min<size_t>(n, 6));
  }
  char client[core::max_endpoint_text];
  char server[core::max_endpoint_text];
  j.field("type", "connection")
      .field("id", c.id)
      .field("client", std::string_view(client, core::write_endpoint(client, c.client)))
      .field("server", std::string_view(server, core::write_endpoint(server, c.server)))
      .field("vlan", std::span<const std::string_view>(vlan.data(), vlans))
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
      .field("history", std::string_view(c.history.data(), c.history_len))
      .field("ended", tcp::end_reason_name(c.ended))
      .field("client_tcp_state", tcp::tcp_state_name(c.client_tcp))
      .field("server_tcp_state", tcp::tcp_state_name(c.server_tcp))
      .field("packets_to_server", c.to_server.packets)
      .field("bytes_to_server", c.to_server.payload_bytes)
      .field("packets_to_client", c.to_client.packets)
      .field("bytes_to_client", c.to_client.payload_bytes)
      .object("client_options", [&](json_object& o) { options_json(o, c.client_options); })
      .object("server_options", [&](json_object& o) { options_json(o, c.server_options); })
      .field("negotiated", negotiated(c).view())
      .object("tfo", [&](json_object& t) {
        t.field("cookie_requested", c.tfo_cookie_requested)
            .field("cookie_sent", c.tfo_cookie_sent)
            .field("cookie_granted", c.tfo_cookie_granted)
            .field("syn_data_bytes", c.syn_data_bytes)
            .field("syn_data_acked", c.syn_data_acked);
      })
      .field("anomalies", tcp::anomaly_list(c.anomalies));
}

}  // namespace

json_object connection_json(const tcp::connection& c) {
  json_object j;
  write_connection(j, c);
  return j;
}

void append_connection_json(std::string& out, const tcp::connection& c) {
  json_object j(out);
  write_connection(j, c);
  j.close();
}

std::string csv_header() {
  std::string line;
  for (size_t i = 0; i < csv_columns.size(); ++i) line += (i ? "," : "") + csv_columns[i];
  return line;
}

void append_csv_line(std::string& out, const tcp::connection& c) {
  std::string vlan;
  for (int i = 0; i < c.vlan_count && i < 3; ++i) {
    vlan += (i ? "." : "") + std::to_string(c.vlan[static_cast<size_t>(i)]);
  }
  csv_writer w(out);
  char client[core::max_endpoint_text];
  char server[core::max_endpoint_text];
  w.number(c.id)
      .cell(std::string_view(client, core::write_endpoint(client, c.client)))
      .cell(std::string_view(server, core::write_endpoint(server, c.server)))
      .cell(vlan)
      .number(c.first_ns);
  w.number(c.syn_count).number(c.synack_count).flag(c.handshake_complete);
  w.micros(c.initial_rtt_ns).micros(c.server_rtt_ns).micros(c.client_rtt_ns).flag(c.refused);
  w.cell(tcp::conn_state_name(c.state())).cell(std::string_view(c.history.data(), c.history_len)).cell(tcp::end_reason_name(c.ended));
  w.number(c.to_server.packets).number(c.to_server.payload_bytes).number(c.to_client.packets).number(c.to_client.payload_bytes);
  w.number(c.syn_data_bytes).cell(tcp::anomaly_names(c.anomalies)).micros(c.connect_time_ns());
  if (c.handshake_complete && c.handshake_ack_ns >= 0) {
    w.number(c.handshake_ack_ns);
  } else {
    w.cell("");
  }
}

std::string csv_line(const tcp::connection& c) {
  std::string line;
  append_csv_line(line, c);
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
