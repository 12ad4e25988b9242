#include "kernel/socket_filter.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include <fmt/format.h>

namespace synscope::kernel {
namespace {

constexpr const char* state_words =
    "established, syn-sent, syn-recv, fin-wait-1, fin-wait-2, time-wait, closed, close-wait, last-ack, listening, "
    "closing) nor a group (all, connected, synchronized, bucket, big";

// The address of an endpoint without its port: "10.0.0.7", "[::1]", "*".
std::string address_only(const ip_endpoint& e) {
  std::string s = socket_text(e);
  s.resize(s.rfind(':'));
  return s;
}

}  // namespace

bool address_prefix::matches(const ip_endpoint& e) const {
  if (e.address.version != address.version) return false;
  const auto& addr = address.bytes;
  const auto& other = e.address.bytes;
  auto full = static_cast<size_t>(bits / 8);
  if (!std::equal(addr.begin(), addr.begin() + static_cast<std::ptrdiff_t>(full), other.begin())) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (other[full] & mask);
}

core::result<address_prefix> parse_prefix(std::string_view text, std::string_view option) {
  std::string a(text);
  int bits = -1;
  if (auto slash = text.find('/'); slash != std::string_view::npos) {
    a = std::string(text.substr(0, slash));
    std::string_view len = text.substr(slash + 1);
    bool digits = !len.empty() && len.size() <= 3 && std::all_of(len.begin(), len.end(), ::isdigit);
    bits = digits ? std::stoi(std::string(len)) : 999;
  }
  if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
  address_prefix p;
  if (inet_pton(AF_INET, a.c_str(), p.address.bytes.data()) == 1) {
    p.address.version = 4;
    p.bits = bits < 0 ? 32 : bits;
  } else if (inet_pton(AF_INET6, a.c_str(), p.address.bytes.data()) == 1) {
    p.address.version = 6;
    p.bits = bits < 0 ? 128 : bits;
  } else {
    return core::error{core::exit_code::usage,
                       fmt::format("{} '{}': not an IPv4 or IPv6 address or prefix", option, core::printable(text))};
  }
  if (p.bits > (p.address.version == 4 ? 32 : 128)) {
    return core::error{core::exit_code::usage, fmt::format("{} '{}': bad prefix length", option, core::printable(text))};
  }
  return p;
}

core::result<uint32_t> parse_state_list(const std::vector<std::string>& names, std::string_view option) {
  uint32_t mask = 0;
  for (const auto& name : names) {
    auto bits = parse_states(name);
    if (!bits) {
      return core::error{core::exit_code::usage,
                         fmt::format("{} '{}': not a state ({})", option, core::printable(name), state_words)};
    }
    mask |= *bits;
  }
  return mask;
}

core::result<void> parse_ss_words(const std::vector<std::string>& args, filter_spec& spec) {
  std::vector<std::string> words;
  for (const auto& a : args) {
    size_t at = 0;
    while ((at = a.find_first_not_of(" \t", at)) != std::string::npos) {
      size_t end = a.find_first_of(" \t", at);
      words.push_back(a.substr(at, end - at));
      at = end;
    }
  }
  auto bad = [](const std::string& what) {
    return core::error{core::exit_code::usage,
                       fmt::format("filter: {} (known: state S, exclude S, sport = :N, dport = :N, src ADDR, dst ADDR)", what)};
  };
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "and" || w == "&&") continue;
    auto value = [&]() -> std::optional<std::string> {
      if (i + 1 >= words.size()) return std::nullopt;
      return words[++i];
    };
    if (w == "state" || w == "exclude") {
      auto v = value();
      if (!v) return bad(fmt::format("'{}' needs a state", w));
      if (!parse_states(*v)) return parse_state_list({*v}, w).error();
      (w == "state" ? spec.states : spec.excluded).push_back(*v);
    } else if (w == "sport" || w == "dport") {
      auto v = value();
      if (v && (*v == "=" || *v == "==" || *v == "eq")) v = value();
      if (!v) return bad(fmt::format("'{}' needs a port (:443)", w));
      std::string port = v->front() == ':' ? v->substr(1) : *v;
      int n = -1;
      if (!port.empty() && port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit)) {
        n = std::stoi(port);
      } else if (const servent* se = port.empty() ? nullptr : getservbyname(port.c_str(), "tcp")) {
        n = ntohs(static_cast<uint16_t>(se->s_port));
      }
      if (n < 0 || n > 65535) return bad(fmt::format("{} '{}': not a port number or a TCP service name", w, core::printable(*v)));
      (w == "sport" ? spec.sport : spec.dport) = n;
    } else if (w == "src" || w == "dst") {
      auto v = value();
      if (!v) return bad(fmt::format("'{}' needs an address or prefix", w));
      if (auto p = parse_prefix(*v, w); !p) return p.error();
      (w == "src" ? spec.src : spec.dst) = *v;
    } else {
      return bad(fmt::format("'{}' is not understood", core::printable(w)));
    }
  }
  return {};
}

core::result<socket_filter> socket_filter::parse(const filter_spec& spec) {
  socket_filter f;
  if (!spec.states.empty()) {
    auto mask = parse_state_list(spec.states, "--state");
    if (!mask) return mask.error();
    f.states = *mask;
  }
  if (!spec.excluded.empty()) {
    auto mask = parse_state_list(spec.excluded, "exclude");
    if (!mask) return mask.error();
    f.states &= ~*mask;
  }
  if (spec.listening) f.states = state_bit(tcp_state::listen);
  f.ipv4 = spec.ipv4;
  f.ipv6 = spec.ipv6;
  f.sport = spec.sport;
  f.dport = spec.dport;
  if (!spec.src.empty()) {
    auto p = parse_prefix(spec.src, "--src");
    if (!p) return p.error();
    f.src = *p;
  }
  if (!spec.dst.empty()) {
    auto p = parse_prefix(spec.dst, "--dst");
    if (!p) return p.error();
    f.dst = *p;
  }
  return f;
}

socket_query socket_filter::query(bool tcp_info) const {
  socket_query q;
  q.states = states;
  q.ipv4 = ipv4;
  q.ipv6 = ipv6;
  q.tcp_info = tcp_info;
  return q;
}

bool socket_filter::matches(const tcp_socket& s) const {
  if (sport >= 0 && s.local.port != sport) return false;
  if (dport >= 0 && s.remote.port != dport) return false;
  if (src && !src->matches(s.local)) return false;
  if (dst && !dst->matches(s.remote)) return false;
  return true;
}

core::result<uint64_t> count_matching(const socket_filter& f) {
  uint64_t n = 0;
  auto r = dump_tcp(f.query(), [&](const tcp_socket& s) { n += f.matches(s) ? 1 : 0; });
  if (!r) return r.error();
  return n;
}

std::optional<group_key> parse_group_key(std::string_view word) {
  for (auto k : {group_key::local_port, group_key::local_address, group_key::remote_address, group_key::process}) {
    if (word == group_key_name(k)) return k;
  }
  return std::nullopt;
}

const char* group_key_name(group_key k) {
  switch (k) {
    case group_key::local_port: return "port";
    case group_key::local_address: return "local";
    case group_key::remote_address: return "remote";
    case group_key::process: return "process";
  }
  return "?";
}

std::unordered_map<uint64_t, std::string> socket_owner_names(const std::string& proc_root) {
  std::unordered_map<uint64_t, std::string> names;
  for (auto& [inode, o] : socket_owners(proc_root)) {
    auto& text = names[inode];
    if (!text.empty()) text += ',';
    text += fmt::format("{}/{}", o.pid, o.comm);
  }
  return names;
}

core::result<std::vector<socket_group>> group_sockets(const socket_filter& f, group_key key, size_t top,
                                                      const std::unordered_map<uint64_t, std::string>& owners,
                                                      std::optional<std::pair<int, int>> ephemeral) {
  bool by_port = key == group_key::local_port;
  if (!by_port) ephemeral.reset();
  std::vector<bool> listening(ephemeral ? 65536 : 0);
  if (ephemeral) {
    socket_query q = f.query();
    q.states = state_bit(tcp_state::listen);
    auto r = dump_tcp(q, [&](const tcp_socket& s) { listening[s.local.port] = true; });
    if (!r) return r.error();
  }
  const std::string range = ephemeral ? fmt::format("{}-{}", ephemeral->first, ephemeral->second) : "";
  std::map<std::string, socket_group> groups;
  auto r = dump_tcp(f.query(), [&](const tcp_socket& s) {
    if (!f.matches(s)) return;
    std::string k;
    switch (key) {
      case group_key::local_port: {
        int p = s.local.port;
        bool client_side = ephemeral && p >= ephemeral->first && p <= ephemeral->second && !listening[p];
        k = client_side ? range : std::to_string(p);
        break;
      }
      case group_key::local_address: k = address_only(s.local); break;
      case group_key::remote_address: k = address_only(s.remote); break;
      case group_key::process: {
        auto it = owners.find(s.inode);
        k = it == owners.end() || it->second.empty() ? "-" : it->second;
        break;
      }
    }
    auto& g = groups[k];
    ++g.sockets;
    ++g.by_state[static_cast<size_t>(s.state)];
  });
  if (!r) return r.error();
  std::vector<socket_group> out;
  out.reserve(groups.size());
  for (auto& [k, g] : groups) {
    g.key = k;
    out.push_back(std::move(g));
  }
  if (by_port) {  // 22, 443, 8080, then the ephemeral range: as numbers, not as text
    std::stable_sort(out.begin(), out.end(), [&](const socket_group& a, const socket_group& b) {
      return std::make_pair(a.key == range, std::atoi(a.key.c_str())) < std::make_pair(b.key == range, std::atoi(b.key.c_str()));
    });
  }
  if (top > 0) {
    std::stable_sort(out.begin(), out.end(), [](const socket_group& a, const socket_group& b) { return a.sockets > b.sockets; });
    if (out.size() > top) out.resize(top);
  }
  return out;
}

}  // namespace synscope::kernel
