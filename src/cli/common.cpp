#include "cli/common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "core/clock.h"

namespace synscope::cli {

int fail(const core::error& e) {
  fmt::print(stderr, "synscope: {}\n", e.message);
  return e.exit();
}

void hold_standard_streams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      (void)open("/dev/null", O_RDONLY | O_CLOEXEC);  // the lowest free descriptor: this one
    }
  }
}

namespace {
int output_line(int err) {
  fmt::print(stderr, "synscope: cannot write standard output: {} ({}): the output is incomplete\n", std::strerror(err),
             core::errno_name(err));
  return static_cast<int>(core::exit_code::environment);
}
}  // namespace

int finish_output(int rc) {
  errno = 0;
  bool failed = std::fflush(stdout) != 0 || std::ferror(stdout) != 0;
  if (!failed) return rc;
  (void)rc;  // whatever the command found, what it found did not reach its reader
  return output_line(errno != 0 ? errno : EIO);
}

int output_failed(const std::system_error& e) { return output_line(e.code().value()); }


}  // namespace synscope::cli
