#pragma once
// Kernel settings under a /proc-like root, read and written as `sysctl` does. The one owner of
// sysctl access: tune (which keys synscope may change) and the doctor, the exporter, the lab and
// `sockets` (which read them) all go through here.
//
//   kernel::sysctl_tree t("/proc");                     // or a --proc-root copy
//   auto v = t.read("net.ipv4.tcp_syncookies");          // "1"
//   auto n = t.read_int("net.core.somaxconn");           // 4096
//   auto r = t.read_ints("net.ipv4.ip_local_port_range"); // {32768, 60999}
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::kernel {

/// The whitespace-separated words of a value ("1024\t65535\n" -> "1024", "65535"), as views into it.
std::vector<std::string_view> sysctl_words(std::string_view value);

/// A sysctl key as `sysctl` names it from a path below /proc/sys: '/' between components, and a
/// '.' inside one (an interface "eth0.100") written as '/' ("net.ipv4.conf.eth0/100.forwarding").
std::string sysctl_key_from_path(std::string_view relative_path);

class sysctl_tree {
 public:
  explicit sysctl_tree(std::string proc_root = "/proc") : root_(std::move(proc_root)) {}
  /// The path of a key: ROOT/sys/net/ipv4/tcp_syncookies; "conf.eth0/100.x" -> ".../conf/eth0.100/x".
  [[nodiscard]] std::string path(std::string_view key) const;
  [[nodiscard]] bool exists(std::string_view key) const;
  /// The value with whitespace collapsed to single spaces.
  [[nodiscard]] core::result<std::string> read(std::string_view key) const;
  /// The value as one integer, or a bad_data error naming the key when it is not one.
  [[nodiscard]] core::result<int64_t> read_int(std::string_view key) const;
  /// The value as integers (ip_local_port_range: two), each checked.
  [[nodiscard]] core::result<std::vector<int64_t>> read_ints(std::string_view key) const;
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

}  // namespace synscope::kernel
