#pragma once
// Kernel settings under a /proc-like root: knowing them (type, range, obsolete ones), reading,
// validating and writing them.
//
//   tune::sysctl_tree t("/proc");
//   auto v = t.read("net.ipv4.tcp_syncookies");          // "1"
//   auto err = tune::validate("net.core.somaxconn", "70000");
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::tune {

struct key_info {
  const char* key;
  int64_t min;
  int64_t max;
  int values;              ///< numbers in the value (ip_local_port_range: 2)
  const char* obsolete;    ///< non-null: why the key is gone (never written)
};

/// What synscope knows about a key, or nullptr.
const key_info* find_key(std::string_view key);

/// The value normalised ("1024   65535" -> "1024 65535") when `key` may take it, else a usage
/// error naming the key, the value and the allowed range. Keys synscope does not describe get a
/// syntax check only (integers separated by spaces).
core::result<std::string> validate(std::string_view key, std::string_view value);

/// The closest of `candidates` to `key` (edit distance), for "did you mean".
std::string nearest(std::string_view key, const std::vector<std::string>& candidates);

class sysctl_tree {
 public:
  explicit sysctl_tree(std::string proc_root = "/proc") : root_(std::move(proc_root)) {}
  /// The path of a key: ROOT/sys/net/ipv4/tcp_syncookies.
  [[nodiscard]] std::string path(std::string_view key) const;
  [[nodiscard]] bool exists(std::string_view key) const;
  /// The value with whitespace collapsed to single spaces.
  [[nodiscard]] core::result<std::string> read(std::string_view key) const;
  /// Writes the value (as `sysctl -w` does). Errors name the key and the reason
  /// (not permitted: exit 77; read-only file system: 3).
  core::result<void> write(std::string_view key, std::string_view value) const;
  /// Every net.* key with its value, sorted (write-only and unreadable ones left out).
  [[nodiscard]] core::result<std::map<std::string, std::string>> all_net() const;
  [[nodiscard]] const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace synscope::tune
