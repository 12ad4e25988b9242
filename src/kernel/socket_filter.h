#pragma once
// Which sockets a view wants, as data (the idea of ss's `struct ssfilter`): states and families,
// which travel to the kernel in the sock_diag request, and ports and address prefixes, which are
// matched here on each socket of the reply. `sockets`, `top` and the doctor build one; nothing
// else decides what a filter means.
//
//   auto f = kernel::socket_filter::parse({.states = {"time-wait"}, .dst = "10.0.0.0/8"});
//   auto n = kernel::count_matching(*f);
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "kernel/sockets.h"

namespace synscope::kernel {

/// An address or a prefix of one: "10.0.0.0/8", "::1", "[fd00::]/8".
struct address_prefix {
  core::ip_address address;
  int bits = 0;
  [[nodiscard]] bool matches(const ip_endpoint& e) const;
};

/// The prefix, or a usage error naming `option` and the text.
core::result<address_prefix> parse_prefix(std::string_view text, std::string_view option);

/// State names and groups as ss has them, or a usage error naming `option` and listing them.
core::result<uint32_t> parse_state_list(const std::vector<std::string>& names, std::string_view option);

/// What the command line gave, before it is checked.
struct filter_spec {
  std::vector<std::string> states;  ///< empty: every state
  std::vector<std::string> excluded;  ///< states taken out of `states` (ss's "exclude")
  bool listening = false;           ///< -l: listeners only
  bool ipv4 = true;
  bool ipv6 = true;
  int sport = -1;                   ///< -1: any
  int dport = -1;
  std::string src;                  ///< local address or prefix; empty: any
  std::string dst;                  ///< remote address or prefix
};

/// ss's filter words after the options, added to `spec`: "state S" and "exclude S" (states or
/// groups, repeatable), "sport = :N", "dport = :N" (also "==", "eq", or no operator; N a number
/// or a service name), "src ADDR[/LEN]", "dst ADDR[/LEN]", joined by "and" or nothing. One
/// argument may hold several words ('dport = :443'). Anything else (ss's "or", "not",
/// parentheses, ranges) is a usage error naming the word.
///
///   parse_ss_words({"state", "TIME-WAIT", "dport", "=", ":443"}, spec);
core::result<void> parse_ss_words(const std::vector<std::string>& words, filter_spec& spec);

struct socket_filter {
  uint32_t states = all_states;
  bool ipv4 = true;
  bool ipv6 = true;
  int sport = -1;
  int dport = -1;
  std::optional<address_prefix> src;
  std::optional<address_prefix> dst;

  /// A checked filter, or a usage error naming the option that is wrong.
  static core::result<socket_filter> parse(const filter_spec& spec);
  /// The part the kernel applies (states, families), for dump_tcp().
  [[nodiscard]] socket_query query(bool tcp_info = false) const;
  /// The part matched here (ports, prefixes); the kernel applied the rest.
  [[nodiscard]] bool matches(const tcp_socket& s) const;
};

/// Sockets that pass the filter, counted without building a string.
core::result<uint64_t> count_matching(const socket_filter& f);

/// What a grouping counts sockets by.
enum class group_key { local_port, local_address, remote_address, process };

/// "port", "local", "remote", "process" (--top's words), or nullopt.
std::optional<group_key> parse_group_key(std::string_view word);
const char* group_key_name(group_key k);

struct socket_group {
  std::string key;                                  ///< "443", "10.0.0.7", "1234/nginx" or "-"
  uint64_t sockets = 0;
  std::array<uint64_t, tcp_state_max + 1> by_state{};  ///< indexed by tcp_state
};

/// Each socket's holders as "pid/comm[,pid/comm...]" by inode, from /proc/<pid>/fd.
std::unordered_map<uint64_t, std::string> socket_owner_names(const std::string& proc_root = "/proc");

/// The matching sockets counted by `key`, per state. `top` > 0: the `top` largest groups,
/// largest first (ties in key order); 0: every group, in key order. `owners` is used for
/// group_key::process ("-" for a socket no process holds, such as TIME-WAIT).
///
/// With `ephemeral` (ip_local_port_range) and group_key::local_port, the ports in that range on
/// which nothing listens are one group named by the range ("32768-60999"): the client side of
/// outgoing connections, which would otherwise be a row each. Ports come in numeric order.
core::result<std::vector<socket_group>> group_sockets(const socket_filter& f, group_key key, size_t top,
                                                      const std::unordered_map<uint64_t, std::string>& owners,
                                                      std::optional<std::pair<int, int>> ephemeral = std::nullopt);

}  // namespace synscope::kernel
