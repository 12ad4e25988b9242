#pragma once
// Tuning profiles: sysctl.d-format files, a comment line (or lines) before each key giving the
// reason. Four ship built in; a user's own file works the same way.
//
//   auto p = tune::load_profile("synflood");          // built in
//   auto q = tune::load_profile("/etc/my-tcp.conf");  // a file
//   for (const auto& s : p->settings) ...             // key, value, reason, line
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace synscope::tune {

struct setting {
  std::string key;     ///< "net.ipv4.tcp_syncookies" (slashes accepted, turned into dots)
  std::string value;   ///< as written, whitespace collapsed ("1024 65535")
  std::string reason;  ///< the comment above it (or after it on the line)
  int line = 0;
};

struct profile {
  std::string name;  ///< "synflood", or the file's path
  std::string text;  ///< the file as read
  std::vector<setting> settings;
};

/// The names of the built-in profiles.
const std::vector<std::string>& builtin_profile_names();

/// Parses sysctl.d text; `source` names it in errors ("profile.conf: line 3: ...").
core::result<profile> parse_profile(std::string_view text, const std::string& source);

/// A built-in name, or a path to a file.
core::result<profile> load_profile(const std::string& name_or_path);

}  // namespace synscope::tune
