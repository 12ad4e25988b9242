#include "kernel/sysctl.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "core/file.h"
#include "core/unique_fd.h"

namespace synscope::kernel {
namespace {

std::string joined(std::string_view text) {
  std::string out;
  for (auto w : sysctl_words(text)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

}  // namespace

std::vector<std::string_view> sysctl_words(std::string_view value) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < value.size()) {
    while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) ++i;
    size_t s = i;
    while (i < value.size() && !std::isspace(static_cast<unsigned char>(value[i]))) ++i;
    if (i > s) out.push_back(value.substr(s, i - s));
  }
  return out;
}

std::string sysctl_key_from_path(std::string_view relative_path) {
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
  auto text = core::read_file(path(key));
  if (!text) return core::error{text.error().code, fmt::format("{}: {}", key, text.error().message)};
  return joined(*text);
}

core::result<std::vector<int64_t>> sysctl_tree::read_ints(std::string_view key) const {
  auto text = read(key);
  if (!text) return text.error();
  std::vector<int64_t> out;
  for (auto w : sysctl_words(*text)) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), n);
    if (ec != std::errc() || end != w.data() + w.size()) {
      return core::error{core::exit_code::bad_data, fmt::format("{} = {}: not a number", key, core::printable(*text))};
    }
    out.push_back(n);
  }
  if (out.empty()) return core::error{core::exit_code::bad_data, fmt::format("{}: empty", key)};
  return out;
}

core::result<int64_t> sysctl_tree::read_int(std::string_view key) const {
  auto v = read_ints(key);
  if (!v) return v.error();
  if (v->size() != 1) return core::error{core::exit_code::bad_data, fmt::format("{}: not one number", key)};
  return v->front();
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
  ssize_t n = core::retry_on_eintr([&] { return ::write(fd.get(), text.data(), text.size()); });
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
    std::string key = sysctl_key_from_path(std::string_view(it->path().string()).substr(root_.size() + 5));  // after "/sys/"
    auto text = core::read_file(it->path().string());
    if (!text) {
      // An IPv6 stable_secret reads as EIO until one is set: there is nothing to keep.
      if (key.ends_with(".stable_secret") && text.error().message.find("(EIO)") != std::string::npos) continue;
      return core::error{text.error().code, fmt::format("{}: cannot be read, so it cannot be kept: {}", key,
                                                        text.error().message)};
    }
    out[key] = joined(*text);
  }
  if (ec) return core::system_error(base, "readdir", ec.value());
  return out;
}

}  // namespace synscope::kernel
