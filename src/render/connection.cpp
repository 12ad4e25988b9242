#include "render/connection.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <utility>
#include <span>

#include <fmt/format.h>

#include "core/community_id.h"
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
    "connect_time_us", "handshake_done_unix_ns", "community_id"};

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

void write_connection(json_object& j, const tcp::connection& c, uint16_t seed) {
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
  char id[core::community_id_size];
  j.field("community_id", std::string_view(id, core::write_community_id(id, c.client, c.server, 6, seed)));
}

}  // namespace

json_object connection_json(const tcp::connection& c, uint16_t seed) {
  json_object j;
  write_connection(j, c, seed);
  return j;
}

void append_connection_json(std::string& out, const tcp::connection& c, uint16_t seed) {
  json_object j(out);
  write_connection(j, c, seed);
  j.close();
}

std::string csv_header() {
  std::string line;
  for (size_t i = 0; i < csv_columns.size(); ++i) line += (i ? "," : "") + csv_columns[i];
  return line;
}

void append_csv_line(std::string& out, const tcp::connection& c, uint16_t seed) {
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
  char id[core::community_id_size];
  w.cell(std::string_view(id, core::write_community_id(id, c.client, c.server, 6, seed)));
}

std::string csv_line(const tcp::connection& c, uint16_t seed) {
  std::string line;
  append_csv_line(line, c, seed);
  return line;
}

namespace {

// Zeek's conn.log columns (base/protocols/conn/main.zeek), community_id, then synscope's.
constexpr std::pair<const char*, const char*> zeek_columns[] = {
    {"ts", "time"},
    {"uid", "string"},
    {"id.orig_h", "addr"},
    {"id.orig_p", "port"},
    {"id.resp_h", "addr"},
    {"id.resp_p", "port"},
    {"proto", "enum"},
    {"service", "string"},
    {"duration", "interval"},
    {"orig_bytes", "count"},
    {"resp_bytes", "count"},
    {"conn_state", "string"},
    {"local_orig", "bool"},
    {"local_resp", "bool"},
    {"missed_bytes", "count"},
    {"history", "string"},
    {"orig_pkts", "count"},
    {"orig_ip_bytes", "count"},
    {"resp_pkts", "count"},
    {"resp_ip_bytes", "count"},
    {"tunnel_parents", "set[string]"},
    {"community_id", "string"},
    {"vlan", "int"},
    {"inner_vlan", "int"},
    {"syn_count", "count"},
    {"synack_count", "count"},
    {"client_isn", "count"},
    {"server_isn", "count"},
    {"handshake_complete", "bool"},
    {"refused", "bool"},
    {"connect_time", "interval"},
    {"initial_rtt", "interval"},
    {"server_rtt", "interval"},
    {"client_rtt", "interval"},
    {"syn_data_bytes", "count"},
    {"anomalies", "set[string]"},
    {"ended", "string"},
};

// "%Y-%m-%d-%H-%M-%S" in UTC, as Zeek stamps #open and #close.
std::string zeek_stamp(int64_t ns) {
  time_t t = static_cast<time_t>(ns / 1'000'000'000);
  tm parts{};
  gmtime_r(&t, &parts);
  return fmt::format("{:04}-{:02}-{:02}-{:02}-{:02}-{:02}", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                     parts.tm_hour, parts.tm_min, parts.tm_sec);
}

// Seconds with six decimals, rounded to the nearest microsecond as Zeek's "%.6f" rounds a time
// or an interval; from the integer, so no binary fraction creeps in.
void append_seconds(std::string& out, int64_t ns) {
  if (ns < 0) {
    out += '-';
    ns = -ns;
  }
  int64_t all_us = ns / 1000 + (ns % 1000 >= 500 ? 1 : 0);
  char text[32];
  char* end = std::to_chars(text, text + sizeof text, all_us / 1'000'000).ptr;
  int64_t us = all_us % 1'000'000;
  *end++ = '.';
  for (int64_t div = 100'000; div > 0; div /= 10) *end++ = static_cast<char>('0' + us / div % 10);
  out.append(text, static_cast<size_t>(end - text));
}

template <std::integral T>
void append_number(std::string& out, T v) {
  char text[24];
  out.append(text, static_cast<size_t>(std::to_chars(text, text + sizeof text, v).ptr - text));
}

// A Zeek uid: 'C' and base62 of a 64-bit mix of the connection's first packet time, id and
// ends: the same capture gives the same uids, and two connections of it never share one.
void append_uid(std::string& out, const tcp::connection& c) {
  auto mix = [](uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  };
  uint64_t h = mix(static_cast<uint64_t>(c.first_ns) ^ mix(c.id));
  static constexpr char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  out += 'C';
  char text[12];
  size_t n = 0;
  do {
    text[n++] = digits[h % 62];
    h /= 62;
  } while (h > 0);
  while (n > 0) out += text[--n];
}

}  // namespace

std::string zeek_header(int64_t open_ns) {
  std::string h = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n";
  h += "#open\t" + zeek_stamp(open_ns) + "\n#fields";
  for (const auto& [name, type] : zeek_columns) h += std::string("\t") + name;
  h += "\n#types";
  for (const auto& [name, type] : zeek_columns) h += std::string("\t") + type;
  return h;
}

std::string zeek_footer(int64_t close_ns) { return "#close\t" + zeek_stamp(close_ns); }

void append_zeek_line(std::string& out, const tcp::connection& c, uint16_t seed) {
  auto tab = [&] { out += '\t'; };
  auto unset = [&] { out += "\t-"; };
  auto interval = [&](int64_t ns) {
    tab();
    if (ns < 0) {
      out += '-';
    } else {
      append_seconds(out, ns);
    }
  };
  auto count = [&](uint64_t v) {
    tab();
    append_number(out, v);
  };
  auto boolean = [&](bool v) { out += v ? "\tT" : "\tF"; };
  append_seconds(out, c.first_ns);
  tab();
  append_uid(out, c);
  tab();
  out += core::to_string(c.client.address);
  count(c.client.port);
  tab();
  out += core::to_string(c.server.address);
  count(c.server.port);
  out += "\ttcp";
  unset();  // service: synscope does not identify protocols
  if (c.last_ns > c.first_ns) {
    interval(c.last_ns - c.first_ns);  // as Zeek, only when above zero
  } else {
    unset();
  }
  count(c.to_server.payload_bytes);
  count(c.to_client.payload_bytes);
  tab();
  out += tcp::conn_state_name(c.state());
  unset();  // local_orig, local_resp: no Site::local_nets here
  unset();
  unset();  // missed_bytes: gaps in sequence space are not tracked
  tab();
  if (c.history_len == 0) {
    out += "(empty)";
  } else {
    out.append(c.history.data(), c.history_len);
  }
  count(c.to_server.packets);
  unset();  // orig_ip_bytes
  count(c.to_client.packets);
  unset();  // resp_ip_bytes
  unset();  // tunnel_parents
  tab();
  char id[core::community_id_size];
  out.append(id, core::write_community_id(id, c.client, c.server, 6, seed));
  // vlan and inner_vlan, as Zeek's vlan-logging policy: the outer tag and the next one.
  for (int i = 0; i < 2; ++i) {
    if (c.vlan_count > i) {
      count(c.vlan[static_cast<size_t>(i)]);
    } else {
      unset();
    }
  }
  count(c.syn_count);
  count(c.synack_count);
  if (c.have_client_isn) {
    count(c.client_isn);
  } else {
    unset();
  }
  if (c.have_server_isn) {
    count(c.server_isn);
  } else {
    unset();
  }
  boolean(c.handshake_complete);
  boolean(c.refused);
  interval(c.connect_time_ns());
  interval(c.initial_rtt_ns);
  interval(c.server_rtt_ns);
  interval(c.client_rtt_ns);
  count(c.syn_data_bytes);
  tab();
  if (c.anomalies == 0) {
    out += "(empty)";
  } else {
    out += tcp::anomaly_names(c.anomalies);  // comma-separated: Zeek's set separator
  }
  tab();
  out += tcp::end_reason_name(c.ended);
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
