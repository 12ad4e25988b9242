#include "tune/sysctl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "core/file.h"
#include "core/unique_fd.h"

namespace synscope::tune {
namespace {

constexpr int64_t int_max = 2147483647;
constexpr scope ns = scope::per_netns;

// The allow-list: the handshake and what surrounds it (queues, retries, TIME-WAIT, FIN-WAIT-2,
// keepalive, Fast Open, the port range). Ranges are the kernel's own (net/ipv4/sysctl_net_ipv4.c,
// net/core/sysctl_net_core.c); a newer kernel that refuses a value makes the write fail, and apply
// rolls back. The scope is where net/ipv4/sysctl_net_ipv4.c registers the key: ipv4_net_table
// (each namespace) or ipv4_table (init_net only).
const std::vector<key_info> keys = {
    {"net.core.somaxconn", 1, int_max, 1, ns, nullptr},
    {"net.core.netdev_max_backlog", 1, int_max, 1, scope::host, nullptr},
    {"net.ipv4.tcp_max_syn_backlog", 1, int_max, 1, ns, nullptr},
    {"net.ipv4.tcp_syncookies", 0, 2, 1, ns, nullptr},
    {"net.ipv4.tcp_syn_retries", 1, 127, 1, ns, nullptr},
    {"net.ipv4.tcp_synack_retries", 0, 255, 1, ns, nullptr},
    {"net.ipv4.tcp_syn_linear_timeouts", 0, 127, 1, ns, nullptr},
    {"net.ipv4.tcp_abort_on_overflow", 0, 1, 1, ns, nullptr},
    {"net.ipv4.tcp_migrate_req", 0, 1, 1, ns, nullptr},
    {"net.ipv4.tcp_fastopen", 0, 0x7ff, 1, ns, nullptr},
    {"net.ipv4.tcp_fastopen_blackhole_timeout_sec", 0, int_max, 1, ns, nullptr},
    {"net.ipv4.tcp_timestamps", 0, 2, 1, ns, nullptr},
    {"net.ipv4.tcp_window_scaling", 0, 1, 1, ns, nullptr},
    {"net.ipv4.tcp_sack", 0, 1, 1, ns, nullptr},
    {"net.ipv4.tcp_ecn", 0, 5, 1, ns, nullptr},
    {"net.ipv4.tcp_tw_reuse", 0, 2, 1, ns, nullptr},
    {"net.ipv4.tcp_tw_reuse_delay", 1, 60000, 1, ns, nullptr},
    {"net.ipv4.tcp_max_tw_buckets", 0, int_max, 1, ns, nullptr},
    {"net.ipv4.tcp_fin_timeout", 1, int_max, 1, ns, nullptr},
    {"net.ipv4.tcp_rfc1337", 0, 1, 1, ns, nullptr},
    {"net.ipv4.tcp_max_orphans", 0, int_max, 1, scope::host, nullptr},
    {"net.ipv4.tcp_orphan_retries", 0, 255, 1, ns, nullptr},
    {"net.ipv4.tcp_retries2", 0, 255, 1, ns, nullptr},
    {"net.ipv4.tcp_keepalive_time", 1, int_max, 1, ns, nullptr},
    {"net.ipv4.tcp_keepalive_intvl", 1, int_max, 1, ns, nullptr},
    {"net.ipv4.tcp_keepalive_probes", 1, 127, 1, ns, nullptr},
    {"net.ipv4.ip_local_port_range", 1, 65535, 2, ns, nullptr},
    {"net.ipv4.tcp_tw_recycle", 0, 1, 1, ns,
     "removed in Linux 4.12: it broke clients behind NAT (timestamps from many hosts on one address)"},
};

std::vector<std::string_view> words(std::string_view v) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < v.size()) {
    while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
    size_t s = i;
    while (i < v.size() && !std::isspace(static_cast<unsigned char>(v[i]))) ++i;
    if (i > s) out.push_back(v.substr(s, i - s));
  }
  return out;
}

// Levenshtein distance, two rows.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// The rank of a key in restore order (see restore_before).
int restore_rank(std::string_view key) {
  if (key == "net.ipv4.ip_forward") return 0;
  for (std::string_view tree : {".conf.", ".neigh."}) {
    size_t at = key.find(tree);
    if (at == std::string_view::npos) continue;
    std::string_view rest = key.substr(at + tree.size());
    if (rest.rfind("all.", 0) == 0) return 2;
    if (rest.rfind("default.", 0) == 0) return 3;
    return 4;
  }
  return 1;
}

}  // namespace

const std::vector<key_info>& tunable_keys() { return keys; }

const key_info* find_key(std::string_view key) {
  for (const auto& k : keys) {
    if (key == k.key) return &k;
  }
  return nullptr;
}

core::result<std::string> validate(std::string_view key, std::string_view value) {
  auto bad = [&](const std::string& why) {
    return core::error{core::exit_code::usage,
                       fmt::format("{} = {}: {}", core::printable(key), core::printable(value), why)};
  };
  const key_info* info = find_key(key);
  if (info == nullptr) {
    std::vector<std::string> names;
    for (const auto& k : keys) names.emplace_back(k.key);
    std::string close = nearest(key, names);
    // A suggestion only for what looks like a typo (a few edits), not for kernel.core_pattern.
    size_t distance = edit_distance(key, close);
    return core::error{core::exit_code::usage,
                       fmt::format("{}: not a setting synscope changes{} (the allow-list is in docs/tune.md)",
                                   core::printable(key), distance <= 3 ? " (did you mean " + close + "?)" : "")};
  }
  if (info->obsolete != nullptr) return bad(std::string("obsolete, never written: ") + info->obsolete);
  auto w = words(value);
  if (w.empty()) return bad("empty");
  std::string normal;
  std::vector<int64_t> numbers;
  for (auto word : w) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (ec != std::errc() || p != word.data() + word.size()) return bad("not an integer");
    numbers.push_back(n);
    normal += (normal.empty() ? "" : " ") + std::string(word);
  }
  if (static_cast<int>(numbers.size()) != info->values) {
    return bad(fmt::format("expected {} number{}", info->values, info->values == 1 ? "" : "s"));
  }
  for (int64_t n : numbers) {
    if (n < info->min || n > info->max) return bad(fmt::format("out of range {}..{}", info->min, info->max));
  }
  if (info->values == 2 && numbers[0] > numbers[1]) return bad("the first port must not be above the second");
  return normal;
}

core::result<void> check_scope(std::string_view key, bool initial_netns) {
  const key_info* info = find_key(key);
  if (info != nullptr && info->where == scope::host && !initial_netns) {
    return core::error{core::exit_code::usage,
                       fmt::format("{}: one value for the whole host, not per network namespace: not changed from "
                                   "inside one (run it in the host's own namespace)",
                                   key)};
  }
  return {};
}

std::string nearest(std::string_view key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = edit_distance(key, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

bool restore_before(const std::string& a, const std::string& b) {
  int ra = restore_rank(a);
  int rb = restore_rank(b);
  return ra != rb ? ra < rb : a < b;
}

std::string key_from_path(std::string_view relative_path) {
  std::string key;
  key.reserve(relative_path.size());
  for (char c : relative_path) key += c == '/' ? '.' : c == '.' ? '/' : c;
  return key;
}

std::string sysctl_tree::path(std::string_view key) const {
  std::string p = root_ + "/sys/";
  for (char c : key) p += c == '.' ? '/' : c == '/' ? '.' : c;
  return p;
}

bool sysctl_tree::exists(std::string_view key) const {
  struct stat st {};
  return stat(path(key).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

core::result<std::string> sysctl_tree::read(std::string_view key) const {
  std::string p = path(key);
  auto text = core::read_file(p);  // kept: words() returns views into it
  if (!text) return core::error{text.error().code, fmt::format("{}: {}", key, text.error().message)};
  std::string out;
  for (auto w : words(*text)) out += (out.empty() ? "" : " ") + std::string(w);
  return out;
}

core::result<void> sysctl_tree::write(std::string_view key, std::string_view value) const {
  std::string p = path(key);
  // /proc/sys files take a value at offset 0; a plain file (a --proc-root copy) must be
  // truncated, or a shorter value would leave the tail of a longer one.
  bool proc = root_ == "/proc" || root_.rfind("/proc/", 0) == 0;
  core::unique_fd fd(open(p.c_str(), O_WRONLY | O_CLOEXEC | (proc ? 0 : O_TRUNC)));
  auto fail = [&](const char* call, int err) {
    auto e = core::system_error(fmt::format("cannot set {}", key), call, err);
    if (err == EPERM || err == EACCES) e.code = core::exit_code::no_permission;
    return e;
  };
  if (!fd) return fail(("open " + p).c_str(), errno);
  std::string text = std::string(value) + "\n";
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n < 0) return fail("write", errno);
  if (static_cast<size_t>(n) != text.size()) return fail("write", EIO);
  return {};
}

core::result<std::map<std::string, std::string>> sysctl_tree::all_net() const {
  std::map<std::string, std::string> out;
  std::string base = root_ + "/sys/net";
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(base, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto perms = it->status(ec).permissions();
    if ((perms & std::filesystem::perms::owner_read) == std::filesystem::perms::none) continue;  // write-only
    std::string key = key_from_path(std::string_view(it->path().string()).substr(root_.size() + 5));  // after "/sys/"
    auto text = core::read_file(it->path().string());
    if (!text) {
      // An IPv6 stable_secret reads as EIO until one is set: there is nothing to keep.
      if (key.ends_with(".stable_secret") && text.error().message.find("(EIO)") != std::string::npos) continue;
      return core::error{text.error().code, fmt::format("{}: cannot be read, so it cannot be kept: {}", key,
                                                        text.error().message)};
    }
    std::string v;
    for (auto w : words(*text)) v += (v.empty() ? "" : " ") + std::string(w);
    out[key] = v;
  }
  if (ec) return core::system_error(base, "readdir", ec.value());
  return out;
}

}  // namespace synscope::tune
