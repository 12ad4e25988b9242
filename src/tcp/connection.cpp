#include "tcp/connection.h"

#include <arpa/inet.h>

#include <fmt/format.h>

namespace synscope::tcp {

const char* conn_state_name(conn_state s) {
  switch (s) {
    case conn_state::s0: return "S0";
    case conn_state::s1: return "S1";
    case conn_state::sf: return "SF";
    case conn_state::rej: return "REJ";
    case conn_state::s2: return "S2";
    case conn_state::s3: return "S3";
    case conn_state::rsto: return "RSTO";
    case conn_state::rstr: return "RSTR";
    case conn_state::rstos0: return "RSTOS0";
    case conn_state::rstrh: return "RSTRH";
    case conn_state::sh: return "SH";
    case conn_state::shr: return "SHR";
    case conn_state::oth: return "OTH";
  }
  return "OTH";
}

const char* conn_state_meaning(conn_state s) {
  switch (s) {
    case conn_state::s0: return "SYN seen, no reply (half-open)";
    case conn_state::s1: return "established, not closed";
    case conn_state::sf: return "established and closed normally";
    case conn_state::rej: return "rejected (RST answered the SYN)";
    case conn_state::s2: return "established, client closed, no reply";
    case conn_state::s3: return "established, server closed, no reply";
    case conn_state::rsto: return "established, client reset";
    case conn_state::rstr: return "server reset";
    case conn_state::rstos0: return "client sent SYN then RST, no SYN-ACK";
    case conn_state::rstrh: return "server sent SYN-ACK then RST, no SYN seen";
    case conn_state::sh: return "client sent SYN then FIN, no SYN-ACK";
    case conn_state::shr: return "server sent SYN-ACK then FIN, no SYN seen";
    case conn_state::oth: return "no SYN seen: midstream traffic";
  }
  return "";
}

const char* end_reason_name(end_reason r) {
  switch (r) {
    case end_reason::open: return "open";
    case end_reason::fin: return "fin";
    case end_reason::reset: return "reset";
    case end_reason::idle: return "idle";
    case end_reason::capture_end: return "capture_end";
    case end_reason::superseded: return "superseded";
  }
  return "open";
}

namespace {
constexpr const char* anomaly_names_by_bit[] = {"synack_wrong_ack", "ack_not_isn_plus_1", "synack_without_syn",
                                                "syn_new_isn_live", "rst_answers_syn",   "synack_before_syn",
                                                "bad_options",      "syn_flag_combo",     "simultaneous_open",
                                                "syn_after_reset"};
static_assert(std::size(anomaly_names_by_bit) == anomaly_count);
}  // namespace

const char* anomaly_name(size_t i) { return i < anomaly_count ? anomaly_names_by_bit[i] : "unknown"; }

std::vector<std::string> anomaly_list(uint32_t bits) {
  std::vector<std::string> out;
  for (size_t i = 0; i < anomaly_count; ++i) {
    if (bits & (1u << i)) out.emplace_back(anomaly_names_by_bit[i]);
  }
  return out;
}

std::string anomaly_names(uint32_t bits) {
  std::string out;
  for (const auto& name : anomaly_list(bits)) out += (out.empty() ? "" : ",") + name;
  return out;
}

namespace {

// Zeek's RSTOS0 test: history matches /^\^?S[^HAFGIQ]*R/ (a SYN, then a RST, nothing between
// that shows the connection got further).
bool syn_then_reset(const std::string& h) {
  size_t i = !h.empty() && h[0] == '^' ? 1 : 0;
  if (i >= h.size() || h[i] != 'S') return false;
  for (++i; i < h.size(); ++i) {
    char c = h[i];
    if (c == 'R') return true;
    if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q') return false;
  }
  return false;
}

}  // namespace

conn_state connection::state() const {
  // base/protocols/conn/main.zeek, function conn_state(), with orig = client, resp = server.
  using z = zeek_endpoint;
  const z os = orig_state;
  const z rs = resp_state;
  const bool o_inactive = os == z::inactive || os == z::partial;
  const bool r_inactive = rs == z::inactive || rs == z::partial;
  if (rs == z::reset) {
    if (os == z::syn_sent || os == z::syn_ack_sent ||
        (os == z::reset && to_server.payload_bytes == 0 && to_client.payload_bytes == 0)) {
      return conn_state::rej;
    }
    return o_inactive ? conn_state::rstrh : conn_state::rstr;
  }
  if (os == z::reset) {
    if (r_inactive) {
      return syn_then_reset(history_string()) ? conn_state::rstos0 : conn_state::oth;
    }
    return conn_state::rsto;
  }
  if (rs == z::closed && os == z::closed) return conn_state::sf;
  if (os == z::closed) return r_inactive ? conn_state::sh : conn_state::s2;
  if (rs == z::closed) return o_inactive ? conn_state::shr : conn_state::s3;
  if (os == z::syn_sent && rs == z::inactive) return conn_state::s0;
  if (os == z::established && rs == z::established) return conn_state::s1;
  return conn_state::oth;
}

namespace {

bool failed(const connection& c) {
  switch (c.state()) {
    case conn_state::rej:
    case conn_state::s0:
    case conn_state::rsto:
    case conn_state::rstr:
    case conn_state::rstos0:
    case conn_state::rstrh:
    case conn_state::sh:
    case conn_state::shr: return true;
    default: return c.refused;
  }
}

}  // namespace

int attention_rank(const connection& c) {
  return (failed(c) ? 4 : 0) + (c.syn_count > 1 ? 2 : 0) + (c.anomalies != 0 ? 1 : 0);
}

std::string attention_reasons(const connection& c) {
  std::string out;
  auto add = [&](const char* why) { out += (out.empty() ? "" : ", ") + std::string(why); };
  if (failed(c)) add(c.refused ? "refused" : c.state() == conn_state::s0 ? "half-open" : "failed");
  if (c.syn_count > 1) add("SYN retransmitted");
  if (c.anomalies != 0) add("anomaly");
  return out;
}

}  // namespace synscope::tcp
