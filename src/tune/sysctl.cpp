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

constexpr key_info keys[] = {
    {"net.core.somaxconn", 1, int_max, 1, nullptr},
    {"net.core.netdev_max_backlog", 1, int_max, 1, nullptr},
    {"net.ipv4.tcp_max_syn_backlog", 1, int_max, 1, nullptr},
    {"net.ipv4.tcp_syncookies", 0, 2, 1, nullptr},
    {"net.ipv4.tcp_syn_retries", 1, 127, 1, nullptr},
    {"net.ipv4.tcp_synack_retries", 0, 255, 1, nullptr},
    {"net.ipv4.tcp_fin_timeout", 1, int_max, 1, nullptr},
    {"net.ipv4.tcp_tw_reuse", 0, 2, 1, nullptr},
    {"net.ipv4.tcp_timestamps", 0, 2, 1, nullptr},
    {"net.ipv4.tcp_max_tw_buckets", 0, int_max, 1, nullptr},
    {"net.ipv4.tcp_fastopen", 0, 0x7ff, 1, nullptr},
    {"net.ipv4.tcp_abort_on_overflow", 0, 1, 1, nullptr},
    {"net.ipv4.ip_local_port_range", 1, 65535, 2, nullptr},
    {"net.ipv4.tcp_tw_recycle", 0, 1, 1,
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

}  // namespace

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
  if (info != nullptr && info->obsolete != nullptr) return bad(std::string("obsolete, never written: ") + info->obsolete);
  auto w = words(value);
  if (w.empty()) return bad("empty");
  std::string normal;
  std::vector<int64_t> numbers;
  for (auto word : w) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), n);
    if (ec != std::errc() || p != word.data() + word.size()) {
      if (info != nullptr) return bad("not an integer");
      numbers.clear();  // an unknown key with text: written as given
      normal.clear();
      for (auto x : w) normal += (normal.empty() ? "" : " ") + std::string(x);
      return normal;
    }
    numbers.push_back(n);
    normal += (normal.empty() ? "" : " ") + std::string(word);
  }
  if (info == nullptr) return normal;
  if (static_cast<int>(numbers.size()) != info->values) {
    return bad(fmt::format("expected {} number{}", info->values, info->values == 1 ? "" : "s"));
  }
  for (int64_t n : numbers) {
    if (n < info->min || n > info->max) return bad(fmt::format("out of range {}..{}", info->min, info->max));
  }
  if (info->values == 2 && numbers[0] > numbers[1]) return bad("the first port must not be above the second");
  return normal;
}

std::string nearest(std::string_view key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    // Levenshtein distance, two rows.
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= key.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (key[i - 1] == c[j - 1] ? 0 : 1)});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  return best;
}

std::string sysctl_tree::path(std::string_view key) const {
  std::string p = root_ + "/sys/";
  for (char c : key) p += c == '.' ? '/' : c;
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
  for (auto it = std::filesystem::recursive_directory_iterator(base, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto perms = it->status(ec).permissions();
    if ((perms & std::filesystem::perms::owner_read) == std::filesystem::perms::none) continue;  // write-only
    std::string rel = it->path().string().substr(root_.size() + 5);  // after "/sys/"
    std::string key;
    for (char c : rel) key += c == '/' ? '.' : c;
    auto v = read(key);
    if (v) out[key] = *v;
  }
  if (ec) return core::system_error(base, "readdir", ec.value());
  return out;
}

}  // namespace synscope::tune
