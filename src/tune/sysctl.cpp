#include "tune/sysctl.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "kernel/sysctl.h"

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
  auto w = kernel::sysctl_words(value);
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

}  // namespace synscope::tune
