#pragma once
// The kernel's network counters: /proc/net/snmp, /proc/net/netstat and /proc/net/snmp6 of the
// current network namespace, named the way `nstat` names them (TcpExtListenOverflows).
//
//   auto all = kernel::read_counters();
//   for (const auto& c : *all) fmt::print("{} {}\n", c.name, c.value);
#include <cstdint>
#include <map>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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

/// Each of `names` with how far it moved from `before` to `after` (0 where either lacks it), in
/// the order of `names`: what a command shows of the kernel during its run.
std::vector<std::pair<std::string, int64_t>> counter_deltas(const std::vector<counter>& before,
                                                            const std::vector<counter>& after,
                                                            std::initializer_list<const char*> names);

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

/// One counter as a view shows it: its value, how it moved, and what synscope knows of it.
struct counter_row {
  std::string name;
  std::optional<int64_t> value;  ///< nullopt: this kernel has no such counter
  std::optional<double> change;  ///< per second (set_rates) or since the history (set_deltas)
  const char* meaning = "";      ///< "" where no handshake group describes it
  const char* group = "";
  bool gauge = false;
};

/// The rows a view shows: with no patterns and not `every`, the handshake groups' counters in
/// their order (absent ones with no value); else every counter of `all` that matches one of the
/// globs (`every` with no patterns: all of them), in the kernel's order.
std::vector<counter_row> select_counters(const std::vector<counter>& all, const std::vector<std::string>& patterns,
                                         bool every);

/// Drops the rows whose shown number is zero: the change where one is set, else the value (an
/// absent counter counts as zero). nstat hides these unless -z.
void drop_zero_rows(std::vector<counter_row>& rows);

/// The counters of the one-line-per-interval view when no pattern names others: opens, failed
/// attempts, resets, listen-queue overflows and drops, SYN cookies, SYN and segment retransmits.
const std::vector<std::string>& line_counter_names();

/// The patterns that match no counter of `all` (as grep, a misspelt name is not a quiet zero).
std::vector<std::string> unmatched_patterns(const std::vector<counter>& all, const std::vector<std::string>& patterns);

/// change = per-second movement since `before`, for counters (not gauges) present in both.
void set_rates(std::vector<counter_row>& rows, const std::vector<counter>& before, double seconds);

/// nstat's history, synscope's own file: the values at the previous call, for --delta.
/// "#synscope-counters <wall clock ns>" then "name value" lines.
struct counter_history {
  int64_t wall_ns = 0;
  std::map<std::string, int64_t> values;
};

/// $TMPDIR/.synscope-counters.u<uid>[.<netns>] (TMPDIR unset or empty: /tmp), as nstat's
/// /tmp/.nstat.u<uid>.
std::string default_history_path(const std::string& netns);

/// The history in a history file's text; nullopt when it is not one. Pure (fuzzed).
std::optional<counter_history> parse_history(std::string_view text);

/// The largest history file read (a few hundred counters take about 10 KiB).
inline constexpr size_t history_limit = 1 << 20;

/// The history in `path`; nullopt when there is none or it is not one. In a shared /tmp anyone
/// could have put a file at the default path first, to feed --delta made-up numbers or a huge
/// file: a link, a file that is not regular, not owned by this user, writable by others, or over
/// history_limit is an error naming it (the caller counts from boot, and saving replaces it).
core::result<std::optional<counter_history>> load_history(const std::string& path);

/// Writes `all` as the history, atomically (a temporary file beside it, renamed over it: a
/// reader never sees half a file, and a link at `path` is replaced, not followed).
core::result<void> save_history(const std::string& path, const std::vector<counter>& all, int64_t wall_ns);

/// change = the movement since the history, for counters (not gauges) present in both.
void set_deltas(std::vector<counter_row>& rows, const counter_history& previous);

}  // namespace synscope::kernel
