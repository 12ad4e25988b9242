#pragma once
// Kernel settings under a /proc-like root: the ones synscope may change (an explicit allow-list
// with each key's type, range and scope), reading, validating and writing them, and the order
// in which a set of them is written back.
//
//   tune::sysctl_tree t("/proc");
//   auto v = t.read("net.ipv4.tcp_syncookies");          // "1"
//   auto err = tune::validate("net.core.somaxconn", "70000");
//   auto refused = tune::validate("kernel.core_pattern", "|/tmp/x");   // not a key synscope tunes
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::tune {

/// Where a setting lives: in each network namespace, or once for the whole host (a write from
/// inside a namespace would change the host's).
enum class scope { per_netns, host };

struct key_info {
  const char* key;
  int64_t min;
  int64_t max;
  int values;              ///< numbers in the value (ip_local_port_range: 2)
  scope where;
  const char* obsolete;    ///< non-null: why the key is gone (never written)
};

/// The allow-list: every key a profile may set, in docs/tune.md's order.
const std::vector<key_info>& tunable_keys();

/// What synscope knows about a key it may change, or nullptr (a key it never writes).
const key_info* find_key(std::string_view key);

/// The value normalised ("1024   65535" -> "1024 65535") when `key` is on the allow-list and
/// may take it, else a usage error naming the key: a key off the list ("kernel.core_pattern:
/// not a setting synscope changes"), with the nearest allowed key when one is close; a value of
/// the wrong type or out of range; an obsolete key.
core::result<std::string> validate(std::string_view key, std::string_view value);

/// Whether synscope may write `key` in this network namespace: a host-wide key is refused
/// outside the initial namespace (it would change the host's value). `initial_netns` comes from
/// kernel::in_initial_netns().
core::result<void> check_scope(std::string_view key, bool initial_netns);

/// The closest of `candidates` to `key` (edit distance), for "did you mean".
std::string nearest(std::string_view key, const std::vector<std::string>& candidates);

/// The order a backup's keys are written back in, so that no later write undoes an earlier one:
/// net.ipv4.ip_forward (which sets every interface's forwarding) first, then each `conf` and
/// `neigh` tree's `all`, then its `default`, then each interface; everything else by name.
bool restore_before(const std::string& a, const std::string& b);

/// A sysctl key as `sysctl` names it from a path below /proc/sys: '/' between components, and a
/// '.' inside one (an interface "eth0.100") written as '/' ("net.ipv4.conf.eth0/100.forwarding").
std::string key_from_path(std::string_view relative_path);

class sysctl_tree {
 public:
  explicit sysctl_tree(std::string proc_root = "/proc") : root_(std::move(proc_root)) {}
  /// The path of a key: ROOT/sys/net/ipv4/tcp_syncookies; "conf.eth0/100.x" -> ".../conf/eth0.100/x".
  [[nodiscard]] std::string path(std::string_view key) const;
  [[nodiscard]] bool exists(std::string_view key) const;
  /// The value with whitespace collapsed to single spaces.
  [[nodiscard]] core::result<std::string> read(std::string_view key) const;
  /// Writes the value (as `sysctl -w` does). Errors name the key and the reason
  /// (not permitted: exit 77; read-only file system: 3).
  core::result<void> write(std::string_view key, std::string_view value) const;
  /// Every net.* key with its value, sorted. Write-only keys (route.flush) are left out, and so
  /// is an IPv6 stable_secret that was never set (reading it fails with EIO); any other key
  /// that cannot be read is an error naming it: a backup must not leave a key out quietly.
  [[nodiscard]] core::result<std::map<std::string, std::string>> all_net() const;
  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace synscope::tune
