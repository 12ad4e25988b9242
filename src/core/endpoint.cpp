#include "core/endpoint.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace synscope::core {
namespace {

error usage_error(std::string message) { return error{exit_code::usage, std::move(message)}; }

bool is_printable_host(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && c != '[' && c != ']' && c != '/';
  });
}

// An IPv6 literal, optionally with a zone ("fe80::1%eth0"), as getaddrinfo would take it.
bool is_ipv6_literal(std::string_view text) {
  std::string_view addr = text.substr(0, text.find('%'));
  if (addr.size() >= INET6_ADDRSTRLEN || !is_printable_host(addr)) {
    return false;
  }
  std::array<char, INET6_ADDRSTRLEN> buf{};
  std::copy(addr.begin(), addr.end(), buf.begin());
  in6_addr out{};
  if (inet_pton(AF_INET6, buf.data(), &out) != 1) {
    return false;
  }
  if (addr.size() == text.size()) {
    return true;
  }
  std::string_view zone = text.substr(addr.size() + 1);
  return !zone.empty() && zone.size() < IF_NAMESIZE && is_printable_host(zone);
}

}  // namespace

result<uint16_t> parse_port(std::string_view text, std::string_view what, bool allow_zero) {
  if (text.empty()) {
    return usage_error(fmt::format("{}: empty port", what));
  }
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    unsigned value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size() || value > 65535) {
      return usage_error(fmt::format("{}: port '{}' is out of range (1-65535)", what, printable(text)));
    }
    if (value == 0 && !allow_zero) {
      return usage_error(fmt::format("{}: port 0 cannot be connected to (use 1-65535)", what));
    }
    return static_cast<uint16_t>(value);
  }
  // A service name ("https"), looked up in /etc/services like nc and getaddrinfo do.
  if (text.size() > 64 || !is_printable_host(text)) {
    return usage_error(fmt::format("{}: '{}' is not a port number or service name", what, printable(text)));
  }
  std::string name(text);
  servent entry{};
  servent* found = nullptr;
  std::array<char, 1024> buf{};
  if (getservbyname_r(name.c_str(), "tcp", &entry, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return usage_error(fmt::format("{}: unknown service '{}' (not in /etc/services)", what, printable(text)));
  }
  return ntohs(static_cast<uint16_t>(found->s_port));
}

result<endpoint_spec> parse_endpoint(std::string_view text, const parse_options& options) {
  auto with_port = [&](std::string_view host, std::optional<std::string_view> port_text) -> result<endpoint_spec> {
    endpoint_spec spec{std::string(host), 0};
    if (port_text) {
      auto port = parse_port(*port_text, fmt::format("target '{}'", printable(text)), options.allow_port_zero);
      if (!port) {
        return port.error();
      }
      spec.port = *port;
    } else if (options.default_port) {
      spec.port = *options.default_port;
    } else {
      return usage_error(fmt::format("target '{}': no port (write host:port or [ipv6]:port)", printable(text)));
    }
    return spec;
  };

  if (text.empty()) {
    return usage_error("empty target (write host:port or [ipv6]:port)");
  }
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return usage_error(fmt::format("target '{}': missing ']' after the IPv6 address", printable(text)));
    }
    std::string_view host = text.substr(1, close - 1);
    if (!is_ipv6_literal(host)) {
      return usage_error(fmt::format("target '{}': '{}' is not a valid IPv6 address", printable(text), printable(host)));
    }
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) {
      return with_port(host, std::nullopt);
    }
    if (rest.front() != ':') {
      return usage_error(fmt::format("target '{}': expected ':port' after ']'", printable(text)));
    }
    return with_port(host, rest.substr(1));
  }
  size_t colons = static_cast<size_t>(std::count(text.begin(), text.end(), ':'));
  if (colons > 1) {
    // Several colons without brackets: the whole text must be an IPv6 address.
    if (!is_ipv6_literal(text)) {
      return usage_error(fmt::format("target '{}': not a valid IPv6 address (with a port, write [address]:port)", printable(text)));
    }
    return with_port(text, std::nullopt);
  }
  std::string_view host = text;
  std::optional<std::string_view> port;
  if (colons == 1) {
    size_t colon = text.find(':');
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    return usage_error(fmt::format("target '{}': empty host", printable(text)));
  }
  if (host.size() > 253 || !is_printable_host(host)) {
    return usage_error(fmt::format("target '{}': '{}' is not a valid host name or address", printable(text), printable(host)));
  }
  return with_port(host, port);
}

socket_address::socket_address(const sockaddr* addr, socklen_t len) : len_(len) {
  std::memcpy(&storage_, addr, std::min<size_t>(len, sizeof storage_));
}

uint16_t socket_address::port() const {
  if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage_, sizeof sin6);
    return ntohs(sin6.sin6_port);
  }
  sockaddr_in sin{};
  std::memcpy(&sin, &storage_, sizeof sin);
  return ntohs(sin.sin_port);
}

void socket_address::set_port(uint16_t port) {
  if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage_, sizeof sin6);
    sin6.sin6_port = htons(port);
    std::memcpy(&storage_, &sin6, sizeof sin6);
  } else {
    sockaddr_in sin{};
    std::memcpy(&sin, &storage_, sizeof sin);
    sin.sin_port = htons(port);
    std::memcpy(&storage_, &sin, sizeof sin);
  }
}

std::string socket_address::host_string() const {
  std::array<char, NI_MAXHOST> host{};
  if (getnameinfo(data(), len_, host.data(), host.size(), nullptr, 0, NI_NUMERICHOST) != 0) {
    return "?";
  }
  return host.data();
}

std::string socket_address::to_string() const { return host_port(host_string(), family() == AF_INET6, port()); }

ip_endpoint socket_address::endpoint() const {
  ip_endpoint e;
  e.port = port();
  if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage_, sizeof sin6);
    e.address.version = 6;
    std::memcpy(e.address.bytes.data(), &sin6.sin6_addr, 16);
  } else if (family() == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, &storage_, sizeof sin);
    e.address.version = 4;
    std::memcpy(e.address.bytes.data(), &sin.sin_addr, 4);
  }
  return e;
}

socket_address socket_address::of(const ip_endpoint& e) {
  if (e.address.version == 6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    std::memcpy(&sin6.sin6_addr, e.address.bytes.data(), 16);
    sin6.sin6_port = htons(e.port);
    return {reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6};  // NOLINT: the sockets API
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr, e.address.bytes.data(), 4);
  sin.sin_port = htons(e.port);
  return {reinterpret_cast<const sockaddr*>(&sin), sizeof sin};  // NOLINT
}

bool ip_address::is_unspecified() const {
  size_t n = version == 4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

std::string to_string(const ip_address& a) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(a.version == 6 ? AF_INET6 : AF_INET, a.bytes.data(), text, sizeof text);
  return text;
}

size_t write_endpoint(char* out, const ip_endpoint& e) {
  char* at = out;
  if (e.address.version == 6) {
    *at++ = '[';
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, e.address.bytes.data(), text, sizeof text);
    size_t n = std::strlen(text);
    std::memcpy(at, text, n);
    at += n;
    *at++ = ']';
  } else {
    // Four decimal bytes by hand: inet_ntop writes them with sprintf.
    for (size_t i = 0; i < 4; ++i) {
      if (i > 0) *at++ = '.';
      unsigned b = e.address.bytes[i];
      if (b >= 100) *at++ = static_cast<char>('0' + b / 100);
      if (b >= 10) *at++ = static_cast<char>('0' + b / 10 % 10);
      *at++ = static_cast<char>('0' + b % 10);
    }
  }
  *at++ = ':';
  at = std::to_chars(at, out + max_endpoint_text, e.port).ptr;
  return static_cast<size_t>(at - out);
}

std::string to_string(const ip_endpoint& e) {
  char text[max_endpoint_text];
  return std::string(text, write_endpoint(text, e));
}

std::string host_port(std::string_view host, bool ipv6, uint16_t port) {
  return ipv6 ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

bool socket_address::is_loopback() const {
  if (family() == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, &storage_, sizeof sin6);
    if (IN6_IS_ADDR_LOOPBACK(&sin6.sin6_addr)) {
      return true;
    }
    if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
      return sin6.sin6_addr.s6_addr[12] == 127;
    }
    return false;
  }
  sockaddr_in sin{};
  std::memcpy(&sin, &storage_, sizeof sin);
  return (ntohl(sin.sin_addr.s_addr) >> 24) == 127;
}

bool operator==(const socket_address& a, const socket_address& b) {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

socket_address loopback_address(address_family family, uint16_t port) {
  if (family == address_family::ipv6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    sin6.sin6_port = htons(port);
    return {reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6};  // NOLINT: the sockets API
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = htons(port);
  return {reinterpret_cast<const sockaddr*>(&sin), sizeof sin};  // NOLINT: the sockets API
}

result<std::vector<socket_address>> resolve(const endpoint_spec& spec, address_family family) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_family = family == address_family::ipv4 ? AF_INET : family == address_family::ipv6 ? AF_INET6 : AF_UNSPEC;
  addrinfo* list = nullptr;
  int rc = getaddrinfo(spec.host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    if (rc == EAI_SYSTEM) {
      return system_error(fmt::format("resolving '{}'", printable(spec.host)), "getaddrinfo", errno);
    }
    const char* wanted = family == address_family::ipv4 ? " IPv4" : family == address_family::ipv6 ? " IPv6" : "";
    if (rc == EAI_ADDRFAMILY || (rc == EAI_NONAME && family != address_family::any)) {
      // The name may exist with the other family only: say so rather than "unknown".
      addrinfo any_hints = hints;
      any_hints.ai_family = AF_UNSPEC;
      addrinfo* any_list = nullptr;
      if (getaddrinfo(spec.host.c_str(), nullptr, &any_hints, &any_list) == 0) {
        freeaddrinfo(any_list);
        return usage_error(fmt::format("host '{}' has no{} address", printable(spec.host), wanted));
      }
    }
    return usage_error(fmt::format("cannot resolve host '{}': {}", printable(spec.host), gai_strerror(rc)));
  }
  std::vector<socket_address> out;
  for (addrinfo* ai = list; ai != nullptr; ai = ai->ai_next) {
    if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) || ai->ai_addrlen > sizeof(sockaddr_storage)) {
      continue;
    }
    socket_address addr(ai->ai_addr, ai->ai_addrlen);
    addr.set_port(spec.port);
    if (std::find(out.begin(), out.end(), addr) == out.end()) {
      out.push_back(addr);
    }
  }
  freeaddrinfo(list);
  if (out.empty()) {
    return usage_error(fmt::format("host '{}' has no IPv4 or IPv6 address", printable(spec.host)));
  }
  return out;
}

result<socket_address> parse_local_address(std::string_view text, std::string_view what) {
  auto spec = parse_endpoint(text, parse_options{.default_port = 0, .allow_port_zero = true});
  if (!spec) {
    return error{exit_code::usage, fmt::format("{}: {}", what, spec.error().message)};
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* list = nullptr;
  if (getaddrinfo(spec->host.c_str(), nullptr, &hints, &list) != 0 || list == nullptr) {
    return error{exit_code::usage, fmt::format("{}: '{}' is not a numeric IPv4 or IPv6 address", what, printable(spec->host))};
  }
  socket_address addr(list->ai_addr, list->ai_addrlen);
  freeaddrinfo(list);
  addr.set_port(spec->port);
  return addr;
}

result<std::vector<socket_address>> resolve_local_address(std::string_view text, std::string_view what) {
  if (auto numeric = parse_local_address(text, what)) return std::vector<socket_address>{*numeric};
  auto spec = parse_endpoint(text, parse_options{.default_port = 0, .allow_port_zero = true});
  if (!spec) return error{exit_code::usage, fmt::format("{}: {}", what, spec.error().message)};
  auto all = resolve(*spec, address_family::any);
  if (!all) return error{exit_code::usage, fmt::format("{}: {}", what, all.error().message)};
  return all;
}

}  // namespace synscope::core
