#pragma once
// Endpoints: the one value type for an address and port (core::ip_endpoint, as packets and the
// kernel's socket dumps carry them), parsing what people type ("db1:5432", "[::1]:80",
// "10.0.0.1:https") and resolving it to socket addresses for the sockets API.
//
//   auto spec = core::parse_endpoint("localhost:8080", {});
//   auto addrs = core::resolve(*spec, core::address_family::any);   // 127.0.0.1:8080, [::1]:8080
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::core {

/// An IP address as packets and the kernel carry it.
struct ip_address {
  uint8_t version = 0;              ///< 4 or 6
  std::array<uint8_t, 16> bytes{};  ///< IPv4 in the first four bytes, the rest zero
  /// 0.0.0.0 or :: (a listener bound to every address).
  [[nodiscard]] bool is_unspecified() const;
  friend bool operator==(const ip_address&, const ip_address&) = default;
};

/// An address and a port: a connection's end in a capture or in the kernel's socket table.
struct ip_endpoint {
  ip_address address;
  uint16_t port = 0;
  friend bool operator==(const ip_endpoint&, const ip_endpoint&) = default;
};

/// "127.0.0.1", "::1".
std::string to_string(const ip_address& a);
/// "127.0.0.1:80", "[::1]:80": the one way synscope writes an endpoint.
std::string to_string(const ip_endpoint& e);
/// The longest text to_string(ip_endpoint) writes ("[" INET6_ADDRSTRLEN-1 "]:65535").
inline constexpr size_t max_endpoint_text = 1 + 45 + 2 + 5;
/// The same text written into `out` (max_endpoint_text bytes), its length returned: for output
/// that writes millions of endpoints (analyze --json and --csv) without a string each.
size_t write_endpoint(char* out, const ip_endpoint& e);
/// "127.0.0.1:80" or "[fe80::1%eth0]:80" from a host as text: what to_string(ip_endpoint) and
/// socket_address::to_string() both write.
std::string host_port(std::string_view host, bool ipv6, uint16_t port);

/// A parsed, unresolved endpoint.
struct endpoint_spec {
  std::string host;   ///< a name, an IPv4 literal or an IPv6 literal (without brackets)
  uint16_t port = 0;  ///< 0 only when parse_options::allow_port_zero allowed it
};

struct parse_options {
  std::optional<uint16_t> default_port;  ///< used when the text names no port
  bool allow_port_zero = false;          ///< for local bind addresses ("any port")
};

/// Parses "host:port", "[v6]:port", "[v6]", "v6" (more than one colon, no brackets: an IPv6
/// literal with no port) or "host" (needs a default port). The port is a number 1-65535 or a
/// service name from /etc/services. Errors are usage errors naming the text and the problem.
result<endpoint_spec> parse_endpoint(std::string_view text, const parse_options& options);

/// Parses a port number or service name; `what` names the argument in the error.
result<uint16_t> parse_port(std::string_view text, std::string_view what, bool allow_zero);

enum class address_family { any, ipv4, ipv6 };

/// A socket address (IPv4 or IPv6) with value semantics.
class socket_address {
 public:
  socket_address() = default;
  /// Copies `len` bytes of `addr`; `len` must not exceed sizeof(sockaddr_storage).
  socket_address(const sockaddr* addr, socklen_t len);

  [[nodiscard]] int family() const { return storage_.ss_family; }
  [[nodiscard]] const sockaddr* data() const { return reinterpret_cast<const sockaddr*>(&storage_); }  // NOLINT
  [[nodiscard]] socklen_t size() const { return len_; }
  [[nodiscard]] uint16_t port() const;
  void set_port(uint16_t port);
  /// "127.0.0.1:80", "[::1]:80", "[fe80::1%eth0]:80".
  [[nodiscard]] std::string to_string() const;
  /// The address alone: "127.0.0.1", "::1".
  [[nodiscard]] std::string host_string() const;
  [[nodiscard]] bool is_loopback() const;
  /// The address and port (an IPv6 scope id is not kept).
  [[nodiscard]] ip_endpoint endpoint() const;
  /// The socket address of an endpoint.
  static socket_address of(const ip_endpoint& e);

  friend bool operator==(const socket_address& a, const socket_address& b);

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

/// 127.0.0.1:port (ipv4, or any) or [::1]:port (ipv6).
socket_address loopback_address(address_family family, uint16_t port = 0);

/// Resolves with getaddrinfo. Duplicates are removed, getaddrinfo's order is kept.
/// An unknown name or one with no address of the asked family is a usage error.
result<std::vector<socket_address>> resolve(const endpoint_spec& spec, address_family family);

/// Parses a numeric local address "ADDR", "ADDR:PORT" or "[v6]:PORT" (port 0 or absent: any).
result<socket_address> parse_local_address(std::string_view text, std::string_view what);

/// A local address to listen on: a numeric one as parse_local_address takes it, or a name
/// ("localhost:8095") resolved to each of its addresses, as nginx's `listen` does.
result<std::vector<socket_address>> resolve_local_address(std::string_view text, std::string_view what);

}  // namespace synscope::core
