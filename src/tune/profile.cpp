#include "tune/profile.h"

#include <cerrno>
#include <cstring>
#include <sstream>

#include <fmt/format.h>

#include "core/file.h"

namespace synscope::tune {
namespace {

struct builtin {
  const char* name;
  const char* text;
};

// The seed's /etc/sysctl.d/99-tcp-tuning.conf, without its obsolete tcp_tw_recycle line.
constexpr const char* baseline = R"(# synscope profile: baseline (queues for bursts, SYN cookies, shorter SYN and FIN timers)
# Half-open (SYN-RECV) queue per listener: room for bursts of new connections.
net.ipv4.tcp_max_syn_backlog = 8192
# The largest accept queue listen() may ask for (the kernel silently caps larger backlogs).
net.core.somaxconn = 4096
# Client SYN retries: 3 gives up after about 15 s instead of 127 s.
net.ipv4.tcp_syn_retries = 3
# Server SYN-ACK retries: 2 frees half-open slots after about 7 s.
net.ipv4.tcp_synack_retries = 2
# Answer with SYN cookies when the SYN queue overflows (SYN floods).
net.ipv4.tcp_syncookies = 1
# Let outgoing connections reuse TIME-WAIT ports when timestamps make it safe.
net.ipv4.tcp_tw_reuse = 1
# Timestamps: needed by tcp_tw_reuse (and PAWS).
net.ipv4.tcp_timestamps = 1
# Orphaned FIN-WAIT-2 sockets go after 30 s instead of 60 s.
net.ipv4.tcp_fin_timeout = 30
# TCP Fast Open for clients (1) and servers (2).
net.ipv4.tcp_fastopen = 3
)";

constexpr const char* synflood = R"(# synscope profile: synflood (what helps a server under a SYN flood)
# SYN cookies answer when the SYN queue overflows: legitimate clients still get in.
net.ipv4.tcp_syncookies = 1
# A larger half-open queue before cookies are needed.
net.ipv4.tcp_max_syn_backlog = 16384
# One SYN-ACK retry: spoofed half-open entries are dropped after about 3 s.
net.ipv4.tcp_synack_retries = 1
# Accept queues to match.
net.core.somaxconn = 4096
)";

constexpr const char* high_rate_client = R"(# synscope profile: high-rate-client (many short outgoing connections: TIME-WAIT and ports)
# Reuse TIME-WAIT ports for new outgoing connections (safe with timestamps).
net.ipv4.tcp_tw_reuse = 1
# Timestamps: tcp_tw_reuse depends on them.
net.ipv4.tcp_timestamps = 1
# More source ports for outgoing connections.
net.ipv4.ip_local_port_range = 1024 65535
# Orphaned FIN-WAIT-2 sockets go after 15 s.
net.ipv4.tcp_fin_timeout = 15
)";

constexpr const char* low_latency = R"(# synscope profile: low-latency (TCP Fast Open)
# Fast Open for clients (1) and servers (2): data rides on the SYN after the first connection.
net.ipv4.tcp_fastopen = 3
# Timestamps on: precise RTT measurement.
net.ipv4.tcp_timestamps = 1
)";

constexpr builtin builtins[] = {
    {"baseline", baseline}, {"synflood", synflood}, {"high-rate-client", high_rate_client}, {"low-latency", low_latency}};

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

const std::vector<std::string>& builtin_profile_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& b : builtins) v.emplace_back(b.name);
    return v;
  }();
  return names;
}

core::result<profile> parse_profile(std::string_view text, const std::string& source) {
  profile p;
  p.name = source;
  p.text = std::string(text);
  std::string pending_reason;
  std::istringstream in{std::string(text)};
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    std::string s = trim(raw);
    if (s.empty()) {
      pending_reason.clear();
      continue;
    }
    if (s[0] == '#' || s[0] == ';') {
      std::string c = trim(std::string_view(s).substr(1));
      if (c.rfind("synscope profile:", 0) == 0) continue;  // the title line
      pending_reason += (pending_reason.empty() ? "" : " ") + c;
      continue;
    }
    if (s[0] == '-') s = trim(std::string_view(s).substr(1));  // sysctl.d: "-key = v" ignores errors; we do not
    size_t eq = s.find('=');
    if (eq == std::string::npos) {
      return core::error{core::exit_code::usage, fmt::format("{}: line {}: expected 'key = value'", source, line)};
    }
    setting st;
    st.key = trim(std::string_view(s).substr(0, eq));
    for (char& c : st.key) {
      if (c == '/') c = '.';
    }
    std::string value = std::string(std::string_view(s).substr(eq + 1));
    std::string inline_reason;
    if (size_t hash = value.find('#'); hash != std::string::npos) {
      inline_reason = trim(std::string_view(value).substr(hash + 1));
      value.resize(hash);
    }
    std::istringstream words(value);
    std::string w;
    while (words >> w) st.value += (st.value.empty() ? "" : " ") + w;
    if (st.key.empty() || st.value.empty()) {
      return core::error{core::exit_code::usage, fmt::format("{}: line {}: a key and a value are needed", source, line)};
    }
    st.reason = !inline_reason.empty() ? inline_reason : pending_reason;
    st.line = line;
    pending_reason.clear();
    p.settings.push_back(std::move(st));
  }
  return p;
}

core::result<profile> load_profile(const std::string& name_or_path) {
  for (const auto& b : builtins) {
    if (name_or_path == b.name) {
      auto p = parse_profile(b.text, b.name);
      return p;
    }
  }
  if (name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos) {
    return core::error{core::exit_code::usage,
                       fmt::format("--profile '{}': no such built-in profile (baseline, synflood, high-rate-client, "
                                   "low-latency) and not a file path",
                                   core::printable(name_or_path))};
  }
  auto text = core::read_file(name_or_path);
  if (!text) return core::error{core::exit_code::usage, "--profile: " + text.error().message};
  return parse_profile(*text, name_or_path);
}

}  // namespace synscope::tune
