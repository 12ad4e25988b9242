#include "kernel/counters.h"

#include <fnmatch.h>

#include <charconv>

#include <fmt/format.h>

#include "core/file.h"

namespace synscope::kernel {
namespace {

// Fields that are settings or levels rather than counters; nstat leaves out the same ones.
bool is_gauge(std::string_view name) {
  for (std::string_view g : {"IpForwarding", "IpDefaultTTL", "TcpRtoAlgorithm", "TcpRtoMin", "TcpRtoMax", "TcpMaxConn",
                             "TcpCurrEstab"}) {
    if (name == g) return true;
  }
  return false;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

bool parse_value(std::string_view text, int64_t& out) {
  // Counters are unsigned 64-bit in the kernel; the few signed ones (MaxConn) are small.
  uint64_t u = 0;
  if (!text.empty() && text[0] == '-') {
    int64_t s = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), s);
    if (ec != std::errc() || p != text.data() + text.size()) return false;
    out = s;
    return true;
  }
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), u);
  if (ec != std::errc() || p != text.data() + text.size()) return false;
  out = static_cast<int64_t>(u);  // values above 2^63 wrap, as they would in any signed reader
  return true;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

core::error bad(std::string_view source, size_t line, const std::string& what) {
  return core::error{core::exit_code::bad_data, fmt::format("{}: line {}: {}", source, line, what)};
}

}  // namespace

core::result<void> parse_snmp_pairs(std::string_view text, std::string_view source, std::vector<counter>& out) {
  auto lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); i += 2) {
    if (i + 1 >= lines.size()) return bad(source, i + 1, "a header line with no value line after it");
    auto names = split_words(lines[i]);
    auto values = split_words(lines[i + 1]);
    if (names.empty() || names[0].size() < 2 || names[0].back() != ':') {
      return bad(source, i + 1, "expected 'Prefix: names...'");
    }
    if (values.empty() || values[0] != names[0]) {
      return bad(source, i + 2, fmt::format("expected the values of '{}'", core::printable(names[0])));
    }
    if (names.size() != values.size()) {
      return bad(source, i + 2, fmt::format("{} names but {} values", names.size() - 1, values.size() - 1));
    }
    std::string_view prefix = names[0].substr(0, names[0].size() - 1);
    for (size_t k = 1; k < names.size(); ++k) {
      counter c;
      c.table = std::string(prefix);
      c.field = std::string(names[k]);
      c.name = c.table + c.field;
      if (!parse_value(values[k], c.value)) {
        return bad(source, i + 2, fmt::format("'{}' is not a number ({})", core::printable(values[k]), c.name));
      }
      c.gauge = is_gauge(c.name);
      out.push_back(std::move(c));
    }
  }
  return {};
}

core::result<void> parse_snmp6(std::string_view text, std::string_view source, std::vector<counter>& out) {
  auto lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto words = split_words(lines[i]);
    if (words.empty()) continue;
    if (words.size() != 2) return bad(source, i + 1, "expected 'Name value'");
    counter c;
    c.name = std::string(words[0]);
    // node_exporter's split of snmp6 names: up to and including the first '6' is the
    // protocol ("Icmp6", "UdpLite6"), the rest the field.
    if (size_t six = c.name.find('6'); six != std::string::npos) {
      c.table = c.name.substr(0, six + 1);
      c.field = c.name.substr(six + 1);
    }
    if (!parse_value(words[1], c.value)) {
      return bad(source, i + 1, fmt::format("'{}' is not a number ({})", core::printable(words[1]), c.name));
    }
    out.push_back(std::move(c));
  }
  return {};
}

core::result<sockstat_tcp> parse_sockstat_tcp(std::string_view text, std::string_view source) {
  auto lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    auto words = split_words(lines[i]);
    if (words.empty() || words[0] != "TCP:") continue;
    if (words.size() % 2 == 0) return bad(source, i + 1, "expected 'TCP: key value ...' pairs");
    sockstat_tcp tcp;
    bool has_tw = false;
    for (size_t k = 1; k < words.size(); k += 2) {
      uint64_t value = 0;
      auto [p, ec] = std::from_chars(words[k + 1].data(), words[k + 1].data() + words[k + 1].size(), value);
      if (ec != std::errc() || p != words[k + 1].data() + words[k + 1].size()) {
        return bad(source, i + 1,
                   fmt::format("'{}' is not a number (TCP {})", core::printable(words[k + 1]), core::printable(words[k])));
      }
      if (words[k] == "inuse") tcp.inuse = value;
      if (words[k] == "orphan") tcp.orphan = value;
      if (words[k] == "alloc") tcp.alloc = value;
      if (words[k] == "mem") tcp.mem = value;
      if (words[k] == "tw") {
        tcp.tw = value;
        has_tw = true;
      }
    }
    if (!has_tw) return bad(source, i + 1, "the TCP line has no 'tw' count");
    return tcp;
  }
  return core::error{core::exit_code::bad_data, fmt::format("{}: no 'TCP:' line", source)};
}

core::result<std::vector<counter>> read_counters(const std::string& proc_root) {
  std::vector<counter> all;
  for (const char* file : {"snmp", "netstat"}) {
    std::string path = proc_root + "/net/" + file;
    auto text = core::read_file(path);
    if (!text) return text.error();
    if (auto r = parse_snmp_pairs(*text, path, all); !r) return r.error();
  }
  std::string path6 = proc_root + "/net/snmp6";
  if (auto text = core::read_file(path6)) {
    if (auto r = parse_snmp6(*text, path6, all); !r) return r.error();
  }
  return all;
}

std::optional<int64_t> find_counter(const std::vector<counter>& all, std::string_view name) {
  for (const auto& c : all) {
    if (c.name == name) return c.value;
  }
  return std::nullopt;
}

bool glob_match(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

const std::vector<counter_group>& handshake_groups() {
  static const std::vector<counter_group> groups = {
      {"opens", "Connection opens",
       {{"TcpActiveOpens", "connect() calls that sent a SYN (CLOSED -> SYN-SENT)"},
        {"TcpPassiveOpens", "connections accepted from a SYN (LISTEN -> SYN-RECV)"},
        {"TcpAttemptFails", "handshakes that failed: SYN-SENT/SYN-RECV -> CLOSED, or SYN-RECV -> LISTEN"},
        {"TcpEstabResets", "ESTABLISHED or CLOSE-WAIT connections ended by a RST"}}},
      {"queues", "Listen queues",
       {{"TcpExtListenOverflows", "completed handshakes dropped: the accept queue was full"},
        {"TcpExtListenDrops", "SYNs or ACKs a listener dropped for any reason (overflows included)"},
        {"TcpExtTCPReqQFullDrop", "SYNs dropped: the SYN queue was full and SYN cookies were off"},
        {"TcpExtTCPReqQFullDoCookies", "SYNs answered with a cookie because the SYN queue was full"}}},
      {"syncookies", "SYN cookies",
       {{"TcpExtSyncookiesSent", "SYN-ACKs sent with a cookie (the SYN queue overflowed: a flood or a burst)"},
        {"TcpExtSyncookiesRecv", "ACKs that carried a valid cookie back"},
        {"TcpExtSyncookiesFailed", "ACKs whose cookie did not check out"}}},
      {"retransmits", "Retransmissions",
       {{"TcpExtTCPSynRetrans", "SYN and SYN-ACK retransmissions (lost handshakes)"},
        {"TcpExtTCPTimeouts", "retransmission timer expiries (RTO), handshakes included"},
        {"TcpRetransSegs", "segments retransmitted, all of them"}}},
      {"fastopen", "TCP Fast Open",
       {{"TcpExtTCPFastOpenActive", "SYNs sent with data and a cookie"},
        {"TcpExtTCPFastOpenActiveFail", "client TFO attempts whose data was not acknowledged in the SYN-ACK"},
        {"TcpExtTCPFastOpenPassive", "SYNs with data accepted by a server"},
        {"TcpExtTCPFastOpenPassiveFail", "SYNs with an invalid cookie: data dropped, a normal handshake follows"},
        {"TcpExtTCPFastOpenListenOverflow", "TFO requests refused: more pending than the fastopen queue length"},
        {"TcpExtTCPFastOpenCookieReqd", "SYNs that asked for a cookie"},
        {"TcpExtTCPFastOpenBlackhole", "times TFO was turned off after SYNs with data went unanswered"}}},
      {"timewait", "TIME-WAIT",
       {{"TcpExtTW", "connections that finished TIME-WAIT through the timer"},
        {"TcpExtTWRecycled", "TIME-WAIT sockets reused for a new connection by timestamp (tcp_tw_reuse)"},
        {"TcpExtTWKilled", "TIME-WAIT sockets ended early"},
        {"TcpExtTCPTimeWaitOverflow", "TIME-WAIT sockets not created: tcp_max_tw_buckets was reached"}}},
      {"resets", "Resets",
       {{"TcpOutRsts", "segments sent with RST"},
        {"TcpExtTCPAbortOnData", "RSTs sent because data arrived after close"},
        {"TcpExtTCPAbortOnClose", "RSTs sent on close() with unread data"},
        {"TcpExtTCPAbortOnTimeout", "connections ended after too many retransmissions"},
        {"TcpExtTCPAbortOnLinger", "RSTs sent by SO_LINGER with a zero timeout"},
        {"TcpExtTCPAbortOnMemory", "connections ended for lack of memory"}}},
  };
  return groups;
}

}  // namespace synscope::kernel
