#include "render/connection.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <ctime>
#include <utility>
#include <span>

#include <fmt/format.h>

#include "core/community_id.h"
#include "render/format.h"
#include "render/table.h"
#include "render/text_cursor.h"

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

// {"seen":true,"mss":1460,...}: what one side offered.
void options_json(text_cursor& at, const tcp::offered_options& o) {
  at.lit("{\"seen\":").boolean(o.seen).lit(",\"mss\":");
  if (o.mss) {
    at.number(o.mss_value);
  } else {
    at.lit("null");
  }
  at.lit(",\"wscale\":");
  if (o.wscale) {
    at.number(o.wscale_value);
  } else {
    at.lit("null");
  }
  at.lit(",\"sack_permitted\":").boolean(o.sack_permitted).lit(",\"timestamps\":").boolean(o.timestamps);
  at.lit(",\"fastopen\":").boolean(o.fastopen).lit(",\"mptcp\":").boolean(o.mptcp).put('}');
}

// A duration in microseconds, or null when not measured (negative).
void optional_us(text_cursor& at, int64_t ns) {
  if (ns < 0) {
    at.lit("null");
  } else {
    at.micros_trimmed(ns);
  }
}

// ["a","b"]: names that need no escape.
template <typename Names>
void name_array(text_cursor& at, const Names& names) {
  at.put('[');
  bool first = true;
  for (std::string_view name : names) {
    if (!first) at.put(',');
    first = false;
    at.put('"').str(name).put('"');
  }
  at.put(']');
}

// The anomaly names set in `bits`, joined by commas.
void anomaly_names_joined(text_cursor& at, uint32_t bits) {
  bool first = true;
  for (size_t i = 0; i < tcp::anomaly_count; ++i) {
    if ((bits & (1u << i)) == 0) continue;
    if (!first) at.put(',');
    first = false;
    at.str(tcp::anomaly_name(i));
  }
}

const std::vector<std::string> csv_columns = {
    "id", "client", "server", "vlan", "first_unix_ns", "syn_count", "synack_count", "handshake_complete",
    "initial_rtt_us", "server_rtt_us", "client_rtt_us", "refused", "conn_state", "history", "ended",
    "packets_to_server", "bytes_to_server", "packets_to_client", "bytes_to_client", "syn_data_bytes", "anomalies",
    "connect_time_us", "handshake_done_unix_ns", "community_id"};

}  // namespace

// Every value written here is a number, a literal or a name that needs no escape (endpoints,
// state names, history letters, base64): the line is copied out piece by piece with no check.
char* write_connection_json(char* out, const tcp::connection& c, uint16_t seed) {
  text_cursor at(out);
  at.lit("{\"type\":\"connection\",\"id\":").number(c.id);
  at.lit(",\"client\":\"").advance(core::write_endpoint(at.here(), c.client));
  at.lit("\",\"server\":\"").advance(core::write_endpoint(at.here(), c.server));
  at.lit("\",\"vlan\":[");
  for (int i = 0; i < c.vlan_count && i < 3; ++i) {
    if (i > 0) at.put(',');
    at.put('"').number(c.vlan[static_cast<size_t>(i)]).put('"');
  }
  at.lit("],\"first_unix_ns\":").number(c.first_ns).lit(",\"last_unix_ns\":").number(c.last_ns);
  at.lit(",\"syn_count\":").number(c.syn_count).lit(",\"synack_count\":").number(c.synack_count);
  at.lit(",\"client_isn\":");
  if (c.have_client_isn) {
    at.number(c.client_isn);
  } else {
    at.lit("null");
  }
  at.lit(",\"server_isn\":");
  if (c.have_server_isn) {
    at.number(c.server_isn);
  } else {
    at.lit("null");
  }
  at.lit(",\"handshake_complete\":").boolean(c.handshake_complete);
  at.lit(",\"initial_rtt_us\":");
  optional_us(at, c.initial_rtt_ns);
  at.lit(",\"connect_time_us\":");
  optional_us(at, c.connect_time_ns());
  at.lit(",\"handshake_done_unix_ns\":");
  if (c.handshake_complete && c.handshake_ack_ns >= 0) {
    at.number(c.handshake_ack_ns);
  } else {
    at.lit("null");
  }
  at.lit(",\"server_rtt_us\":");
  optional_us(at, c.server_rtt_ns);
  at.lit(",\"client_rtt_us\":");
  optional_us(at, c.client_rtt_ns);
  at.lit(",\"refused\":").boolean(c.refused);
  at.lit(",\"conn_state\":\"").str(tcp::conn_state_name(c.state()));
  at.lit("\",\"history\":\"").str(std::string_view(c.history.data(), c.history_len));
  at.lit("\",\"ended\":\"").str(tcp::end_reason_name(c.ended));
  at.lit("\",\"client_tcp_state\":\"").str(tcp::tcp_state_name(c.client_tcp));
  at.lit("\",\"server_tcp_state\":\"").str(tcp::tcp_state_name(c.server_tcp));
  at.lit("\",\"packets_to_server\":").number(c.to_server.packets);
  at.lit(",\"bytes_to_server\":").number(c.to_server.payload_bytes);
  at.lit(",\"packets_to_client\":").number(c.to_client.packets);
  at.lit(",\"bytes_to_client\":").number(c.to_client.payload_bytes);
  at.lit(",\"client_options\":");
  options_json(at, c.client_options);
  at.lit(",\"server_options\":");
  options_json(at, c.server_options);
  at.lit(",\"negotiated\":");
  name_array(at, negotiated(c).view());
  at.lit(",\"tfo\":{\"cookie_requested\":").boolean(c.tfo_cookie_requested);
  at.lit(",\"cookie_sent\":").boolean(c.tfo_cookie_sent);
  at.lit(",\"cookie_granted\":").boolean(c.tfo_cookie_granted);
  at.lit(",\"syn_data_bytes\":").number(c.syn_data_bytes);
  at.lit(",\"syn_data_acked\":").boolean(c.syn_data_acked);
  at.lit("},\"anomalies\":[");
  if (c.anomalies != 0) {
    at.put('"');
    for (size_t i = 0, n = 0; i < tcp::anomaly_count; ++i) {
      if ((c.anomalies & (1u << i)) == 0) continue;
      if (n++ > 0) at.lit("\",\"");
      at.str(tcp::anomaly_name(i));
    }
    at.put('"');
  }
  at.lit("],\"community_id\":\"").advance(core::write_community_id(at.here(), c.client, c.server, 6, seed));
  at.lit("\"}");
  return at.here();
}

std::string connection_json(const tcp::connection& c, uint16_t seed) {
  char line[max_connection_line];
  return std::string(line, write_connection_json(line, c, seed));
}

std::string csv_header() {
  std::string line;
  for (size_t i = 0; i < csv_columns.size(); ++i) line += (i ? "," : "") + csv_columns[i];
  return line;
}

// No cell but the anomalies can hold a comma, a quote or a line break (numbers, endpoints,
// names, history letters, base64), and the anomalies only when there are two or more: so only
// that cell is ever quoted, as RFC 4180 asks.
char* write_csv_line(char* out, const tcp::connection& c, uint16_t seed) {
  text_cursor at(out);
  auto micros = [&](int64_t ns) {
    at.put(',');
    if (ns >= 0) at.micros_fixed(ns);
  };
  at.number(c.id).put(',').advance(core::write_endpoint(at.here(), c.client));
  at.put(',').advance(core::write_endpoint(at.here(), c.server)).put(',');
  for (int i = 0; i < c.vlan_count && i < 3; ++i) {
    if (i > 0) at.put('.');
    at.number(c.vlan[static_cast<size_t>(i)]);
  }
  at.put(',').number(c.first_ns).put(',').number(c.syn_count).put(',').number(c.synack_count);
  at.put(',').put(c.handshake_complete ? '1' : '0');
  micros(c.initial_rtt_ns);
  micros(c.server_rtt_ns);
  micros(c.client_rtt_ns);
  at.put(',').put(c.refused ? '1' : '0');
  at.put(',').str(tcp::conn_state_name(c.state()));
  at.put(',').str(std::string_view(c.history.data(), c.history_len));
  at.put(',').str(tcp::end_reason_name(c.ended));
  at.put(',').number(c.to_server.packets).put(',').number(c.to_server.payload_bytes);
  at.put(',').number(c.to_client.packets).put(',').number(c.to_client.payload_bytes);
  at.put(',').number(c.syn_data_bytes).put(',');
  bool quoted = std::popcount(c.anomalies & ((1u << tcp::anomaly_count) - 1)) > 1;
  if (quoted) at.put('"');
  anomaly_names_joined(at, c.anomalies);
  if (quoted) at.put('"');
  micros(c.connect_time_ns());
  at.put(',');
  if (c.handshake_complete && c.handshake_ack_ns >= 0) at.number(c.handshake_ack_ns);
  at.put(',').advance(core::write_community_id(at.here(), c.client, c.server, 6, seed));
  return at.here();
}

std::string csv_line(const tcp::connection& c, uint16_t seed) {
  char line[max_connection_line];
  return std::string(line, write_csv_line(line, c, seed));
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
