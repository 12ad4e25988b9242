#include "core/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "core/unique_fd.h"

namespace synscope::core {
namespace {

result<std::string> read_all(int fd, const std::string& shown) {
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = core::retry_on_eintr([&] { return ::read(fd, buf, sizeof buf); });
    if (n < 0) return system_error(shown, "read", errno);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = core::retry_on_eintr([&] { return ::write(fd, text.data() + done, text.size() - done); });
    if (n < 0) return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

result<std::string> read_fd(int fd, const std::string& shown) { return read_all(fd, shown); }

result<std::string> read_file(const std::string& path) {
  unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error(path, "open", errno);
  return read_all(fd.get(), path);
}

result<void> write_file_atomically(const std::string& path, const std::string& text, mode_t mode) {
  std::filesystem::path target(path);
  std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  std::string tmp = path + ".tmp-XXXXXX";
  unique_fd fd(mkstemp(tmp.data()));
  if (!fd) return system_error(path, "mkstemp", errno);
  auto fail = [&](const char* call) {
    int err = errno;
    unlink(tmp.c_str());
    return system_error(path, call, err);
  };
  if (!write_all(fd.get(), text)) return fail("write");
  if (fchmod(fd.get(), mode) != 0) return fail("fchmod");
  if (fsync(fd.get()) != 0) return fail("fsync");
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  unique_fd d(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) fsync(d.get());  // the rename itself reaches the disk
  return {};
}

result<void> write_new_file_at(int dirfd, const std::string& name, const std::string& text, mode_t mode,
                               const std::string& shown) {
  unique_fd fd(openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (!fd) return system_error(shown, "open", errno);
  auto fail = [&](const char* call) {
    int err = errno;
    unlinkat(dirfd, name.c_str(), 0);
    return system_error(shown, call, err);
  };
  if (!write_all(fd.get(), text)) return fail("write");
  if (fchmod(fd.get(), mode) != 0) return fail("fchmod");  // whatever the umask said
  if (fsync(fd.get()) != 0) return fail("fsync");
  return {};
}

result<std::string> read_file_at(int dirfd, const std::string& name, const std::string& shown, struct stat* st) {
  unique_fd fd(openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return system_error(shown, "open", errno);
  struct stat own {};
  if (fstat(fd.get(), &own) != 0) return system_error(shown, "fstat", errno);
  if (!S_ISREG(own.st_mode)) return system_error(shown, "open", EINVAL);
  if (st != nullptr) *st = own;
  return read_all(fd.get(), shown);
}

result<void> remove_tree_at(int dirfd, const std::string& name) {
  if (unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return system_error(name, "unlink", errno);
  // A folder: opened without following a link, emptied through its own descriptor.
  unique_fd sub(openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return system_error(name, "open", errno);
  DIR* d = fdopendir(dup(sub.get()));
  if (d == nullptr) return system_error(name, "fdopendir", errno);
  rewinddir(d);
  std::vector<std::string> entries;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") entries.push_back(n);
  }
  closedir(d);
  for (const auto& n : entries) {
    if (auto r = remove_tree_at(sub.get(), n); !r) return r;
  }
  if (unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return system_error(name, "rmdir", errno);
  return {};
}

result<void> check_output_path(const std::string& path, const std::string& what) {
  std::filesystem::path target(path);
  std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
  struct stat st {};
  if (path.empty()) return error{exit_code::usage, fmt::format("{}: an empty path", what)};
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return error{exit_code::usage, fmt::format("{} {}: no such folder {}", what, path, dir)};
  }
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return error{exit_code::usage, fmt::format("{} {}: a folder, not a file", what, path)};
  }
  if (access(dir.c_str(), W_OK) != 0) return system_error(fmt::format("{} {}", what, path), "access " + dir, errno);
  return {};
}

result<void> check_owned_safely(const struct stat& st, const std::string& shown) {
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return error{exit_code::bad_data, fmt::format("{}: refused: owned by uid {}, not root", shown, st.st_uid)};
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return error{exit_code::bad_data,
                 fmt::format("{}: refused: writable by group or others (mode {:04o})", shown, st.st_mode & 07777)};
  }
  return {};
}

}  // namespace synscope::core
