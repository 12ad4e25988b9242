#pragma once
// The kernel settings synscope may change: an explicit allow-list with each key's type, range and
// scope, validating values against it, and the order in which a set of them is written back.
// Reading and writing them is kernel::sysctl_tree's (kernel/sysctl.h).
//
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

}  // namespace synscope::tune
