#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/unique_fd.h"

namespace synscope::core {

result<std::string> read_file(const std::string& path) {
  unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return system_error(path, "open", errno);
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return system_error(path, "read", errno);
    if (n == 0) return text;
    text.append(buf, static_cast<size_t>(n));
  }
}

result<void> write_file_atomically(const std::string& path, const std::string& text) {
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
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write");
    done += static_cast<size_t>(n);
  }
  if (fchmod(fd.get(), 0644) != 0 || fsync(fd.get()) != 0) return fail("fsync");
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) return fail("rename");
  unique_fd d(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (d) fsync(d.get());  // the rename itself reaches the disk
  return {};
}

}  // namespace synscope::core
