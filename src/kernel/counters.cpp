#include "kernel/counters.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <sstream>

#include <fmt/format.h>

#include "core/file.h"
#include "core/unique_fd.h"

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

std::vector<std::pair<std::string, int64_t>> counter_deltas(const std::vector<counter>& before,
                                                            const std::vector<counter>& after,
                                                            std::initializer_list<const char*> names) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const char* name : names) {
    auto a = find_counter(before, name);
    auto b = find_counter(after, name);
    out.emplace_back(name, a && b ? *b - *a : 0);
  }
  return out;
}

bool glob_match(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// What each counter counts, checked against the source of the kernel this was written on
// (Linux 6.18), with the function that bumps it: the counters are the kernel's, not RFC 1213's
// prose (PassiveOpens counts completed handshakes, not SYNs; TW counts sockets entering
// TIME-WAIT, not leaving it).
const std::vector<counter_group>& handshake_groups() {
  static const std::vector<counter_group> groups = {
      {"opens", "Connection opens",
       {{"TcpActiveOpens", "connect()s that sent a SYN (tcp_connect)"},
        {"TcpPassiveOpens", "handshakes completed on a listener: the ACK made the child socket (tcp_create_openreq_child)"},
        {"TcpAttemptFails",
         "connect()s that failed in SYN-SENT: refused, reset, timed out (tcp_done); and a RST or SYN on a half-open "
         "request (tcp_check_req)"},
        {"TcpEstabResets", "ESTABLISHED or CLOSE-WAIT connections that went straight to CLOSED: a RST, or an abort (tcp_set_state)"}}},
      {"queues", "Listen queues",
       {{"TcpExtListenOverflows",
         "SYNs and completing ACKs dropped because the accept queue was full (tcp_conn_request, tcp_v4_syn_recv_sock)"},
        {"TcpExtListenDrops", "segments a listener dropped for any reason, overflows included (tcp_listendrop)"},
        {"TcpExtTCPReqQFullDrop", "SYNs dropped: the SYN queue was full and SYN cookies were off (tcp_syn_flood_action)"},
        {"TcpExtTCPReqQFullDoCookies", "SYNs answered with a cookie because the SYN queue was full (tcp_syn_flood_action)"}}},
      {"syncookies", "SYN cookies",
       {{"TcpExtSyncookiesSent", "SYN-ACKs sent with a cookie (cookie_init_sequence)"},
        {"TcpExtSyncookiesRecv", "ACKs whose cookie checked out: connections made from a cookie (cookie_v4_check)"},
        {"TcpExtSyncookiesFailed", "ACKs to a listener whose cookie did not check out (cookie_v4_check)"}}},
      {"retransmits", "Retransmissions",
       {{"TcpExtTCPSynRetrans", "SYN retransmissions (__tcp_retransmit_skb) and SYN-ACK retransmissions (tcp_rtx_synack)"},
        {"TcpExtTCPTimeouts", "retransmission timer expiries of full sockets, a connect()'s SYN included (tcp_retransmit_timer)"},
        {"TcpRetransSegs", "segments retransmitted, SYN-ACKs included (__tcp_retransmit_skb, tcp_rtx_synack)"}}},
      {"fastopen", "TCP Fast Open",
       {{"TcpExtTCPFastOpenActive", "SYNs sent with data and a cookie (tcp_send_syn_data)"},
        {"TcpExtTCPFastOpenActiveFail",
         "client TFO attempts that failed: the data not acknowledged in the SYN-ACK, or the SYN lost (tcp_rcv_fastopen_synack)"},
        {"TcpExtTCPFastOpenPassive", "SYNs with data and a valid cookie: a child socket made at once (tcp_try_fastopen)"},
        {"TcpExtTCPFastOpenPassiveFail", "SYNs with an invalid cookie: the data dropped, a normal handshake follows (tcp_try_fastopen)"},
        {"TcpExtTCPFastOpenListenOverflow",
         "TFO requests refused: more pending than the listener's TCP_FASTOPEN queue length (tcp_fastopen_queue_check)"},
        {"TcpExtTCPFastOpenCookieReqd", "SYNs that asked for a cookie (tcp_try_fastopen)"},
        {"TcpExtTCPFastOpenBlackhole", "times TFO was turned off after SYNs with data went unanswered (tcp_fastopen_active_should_disable)"}}},
      {"timewait", "TIME-WAIT",
       {{"TcpExtTW",
         "sockets entering TIME-WAIT (or an orphaned FIN-WAIT-2 handed to the timewait machinery) with a timer over 4 s: "
         "counted when they enter, not when they leave (__inet_twsk_schedule)"},
        {"TcpExtTWRecycled", "connect()s that took over a TIME-WAIT tuple by timestamps: tcp_tw_reuse (tcp_twsk_unique)"},
        {"TcpExtTWKilled",
         "the same with a timer of 4 s or less, such as a FIN-WAIT-2 with a short tcp_fin_timeout: counted when they enter "
         "(__inet_twsk_schedule)"},
        {"TcpExtTCPTimeWaitOverflow", "TIME-WAIT sockets not made: tcp_max_tw_buckets was reached, the socket closed at once (tcp_time_wait)"}}},
      {"resets", "Resets",
       {{"TcpOutRsts", "segments sent with RST (tcp_v4_send_reset, tcp_v6_send_reset, tcp_send_active_reset)"},
        {"TcpExtTCPAbortOnData",
         "RSTs sent for data after close(), and for close() with SO_LINGER set to 0 (tcp_rcv_state_process, __tcp_close)"},
        {"TcpExtTCPAbortOnClose", "RSTs sent by close() on a socket with unread data (__tcp_close)"},
        {"TcpExtTCPAbortOnTimeout", "connections ended after too many retransmissions, connect() timeouts included (tcp_write_err)"},
        {"TcpExtTCPAbortOnLinger", "orphaned FIN-WAIT-2 sockets reset at close() because TCP_LINGER2 is negative (__tcp_close)"},
        {"TcpExtTCPAbortOnMemory", "connections ended for lack of memory or too many orphans (__tcp_close, tcp_out_of_resources)"}}},
  };
  return groups;
}

namespace {

// The meaning and group of a counter the handshake groups describe, else "".
std::pair<const char*, const char*> described(const std::string& name) {
  for (const auto& g : handshake_groups()) {
    for (const auto& info : g.counters) {
      if (name == info.name) return {info.meaning, g.name};
    }
  }
  return {"", ""};
}

}  // namespace

std::vector<counter_row> select_counters(const std::vector<counter>& all, const std::vector<std::string>& patterns,
                                         bool every) {
  std::vector<counter_row> out;
  if (!patterns.empty() || every) {
    for (const auto& c : all) {
      bool match = patterns.empty();
      for (const auto& p : patterns) match = match || glob_match(p, c.name);
      if (!match) continue;
      auto [meaning, group] = described(c.name);
      out.push_back({c.name, c.value, std::nullopt, meaning, group, c.gauge});
    }
    return out;
  }
  for (const auto& g : handshake_groups()) {
    for (const auto& info : g.counters) {
      out.push_back({info.name, find_counter(all, info.name), std::nullopt, info.meaning, g.name, false});
    }
  }
  return out;
}

void drop_zero_rows(std::vector<counter_row>& rows) {
  std::erase_if(rows, [](const counter_row& r) { return r.change ? *r.change == 0 : r.value.value_or(0) == 0; });
}

const std::vector<std::string>& line_counter_names() {
  static const std::vector<std::string> names = {
      "TcpActiveOpens",        "TcpPassiveOpens",      "TcpAttemptFails",     "TcpEstabResets",  "TcpExtListenOverflows",
      "TcpExtListenDrops",     "TcpExtSyncookiesSent", "TcpExtTCPSynRetrans", "TcpRetransSegs"};
  return names;
}

std::vector<std::string> unmatched_patterns(const std::vector<counter>& all, const std::vector<std::string>& patterns) {
  std::vector<std::string> out;
  for (const auto& p : patterns) {
    if (std::none_of(all.begin(), all.end(), [&](const counter& c) { return glob_match(p, c.name); })) out.push_back(p);
  }
  return out;
}

void set_rates(std::vector<counter_row>& rows, const std::vector<counter>& before, double seconds) {
  for (auto& r : rows) {
    auto old = find_counter(before, r.name);
    if (r.value && old && !r.gauge && seconds > 0) r.change = static_cast<double>(*r.value - *old) / seconds;
  }
}

std::string default_history_path(const std::string& netns) {
  const char* dir = std::getenv("TMPDIR");
  std::string base = fmt::format("{}/.synscope-counters.u{}", dir != nullptr && *dir != '\0' ? dir : "/tmp", getuid());
  return netns.empty() ? base : base + "." + netns;
}

std::optional<counter_history> parse_history(std::string_view text) {
  std::istringstream in{std::string(text)};
  counter_history h;
  std::string head;
  if (!(in >> head >> h.wall_ns) || head != "#synscope-counters") return std::nullopt;
  std::string name;
  int64_t v = 0;
  while (in >> name >> v) h.values[name] = v;
  return h;
}

core::result<std::optional<counter_history>> load_history(const std::string& path) {
  core::unique_fd fd(open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<counter_history>{};
    if (errno == ELOOP) {
      return core::error{core::exit_code::environment, fmt::format("{}: a symbolic link, not a history file", path)};
    }
    return core::system_error(path, "open", errno);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return core::system_error(path, "fstat", errno);
  std::string why;
  if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if (st.st_uid != geteuid()) {
    why = fmt::format("owned by uid {}, not by this user (uid {})", st.st_uid, geteuid());
  } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    why = fmt::format("writable by others (mode {:04o})", st.st_mode & 07777);
  } else if (static_cast<uint64_t>(st.st_size) > history_limit) {
    why = fmt::format("{} bytes, over the {} a history file may have", st.st_size, history_limit);
  }
  if (!why.empty()) return core::error{core::exit_code::environment, fmt::format("{}: {}", path, why)};
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = core::retry_on_eintr([&] { return ::read(fd.get(), text.data() + got, text.size() - got); });
    if (n < 0) return core::system_error(path, "read", errno);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  return parse_history(text);
}

core::result<void> save_history(const std::string& path, const std::vector<counter>& all, int64_t wall_ns) {
  std::string text = fmt::format("#synscope-counters {}\n", wall_ns);
  for (const auto& c : all) text += fmt::format("{} {}\n", c.name, c.value);
  return core::write_file_atomically(path, text);
}

void set_deltas(std::vector<counter_row>& rows, const counter_history& previous) {
  for (auto& r : rows) {
    auto it = previous.values.find(r.name);
    if (r.value && it != previous.values.end() && !r.gauge) r.change = static_cast<double>(*r.value - it->second);
  }
}

}  // namespace synscope::kernel
