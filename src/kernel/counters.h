#pragma once
// The kernel's network counters: /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6 of the
// current network namespace, named the way `nstat` names them (TcpExtListenOverflows).
//
//   auto all = kernel::read_counters();
//   for (const auto& c : *all) fmt::print("{} {}\n", c.name, c.value);
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::kernel {

struct counter {
  std::string name;   ///< nstat's name: table prefix + field ("TcpActiveOpens")
  std::string table;  ///< "Tcp", "TcpExt", "Ip6" (node_exporter: node_netstat_<table>_<field>)
  std::string field;  ///< "ActiveOpens"
  int64_t value = 0;  ///< TcpMaxConn is -1 ("no limit")
  bool gauge = false; ///< not a counter: a setting or a current level (nstat leaves these out)
};

/// Parses the "Prefix: names..." / "Prefix: values..." line pairs of /proc/net/snmp and
/// /proc/net/netstat, appending to `out`. `source` names the file in errors.
core::result<void> parse_snmp_pairs(std::string_view text, std::string_view source, std::vector<counter>& out);
/// Parses /proc/net/snmp6's "Name value" lines.
core::result<void> parse_snmp6(std::string_view text, std::string_view source, std::vector<counter>& out);

/// The TCP line of /proc/net/sockstat: "TCP: inuse 1 orphan 0 tw 8 alloc 1 mem 0".
struct sockstat_tcp {
  uint64_t inuse = 0;   ///< sockets in a state other than TIME-WAIT and CLOSE (listeners included)
  uint64_t orphan = 0;  ///< closed by their process, not yet by TCP
  uint64_t tw = 0;      ///< TIME-WAIT sockets plus FIN-WAIT-2 mini-sockets
  uint64_t alloc = 0;   ///< allocated sockets, of any state
  uint64_t mem = 0;     ///< pages of buffer memory
};
/// Parses /proc/net/sockstat, keeping its TCP line; other lines, and keys this version does not
/// know, are skipped. No TCP line, or one without `tw`, is an error naming `source`.
core::result<sockstat_tcp> parse_sockstat_tcp(std::string_view text, std::string_view source);

/// Every counter of the namespace the calling thread is in, from `proc_root`/net/{snmp,netstat,snmp6}.
/// snmp6 is optional (IPv6 may be disabled); snmp and netstat are not.
core::result<std::vector<counter>> read_counters(const std::string& proc_root = "/proc");

/// The value of `name` in `all`, if present.
std::optional<int64_t> find_counter(const std::vector<counter>& all, std::string_view name);

/// True when `name` matches the shell glob `pattern` (*, ? and [...] as fnmatch does).
bool glob_match(const std::string& pattern, const std::string& name);

/// The handshake view: counters grouped by what they tell about connection establishment.
struct counter_info {
  const char* name;
  const char* meaning;  ///< one line
};
struct counter_group {
  const char* name;   ///< "opens", "queues", ...
  const char* title;  ///< "Connection opens"
  std::vector<counter_info> counters;
};
const std::vector<counter_group>& handshake_groups();

}  // namespace synscope::kernel
