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

core::json_object histogram_json_us(const core::histogram& h) {
  core::json_object o;
  o.field("count", h.count());
  if (h.count() == 0) {
    for (const char* k : {"min", "avg", "p50", "p90", "p99", "max", "stddev"}) o.null_field(k);
    return o;
  }
  o.micros("min", h.min())
      .micros("avg", h.mean())
      .micros("p50", h.percentile(50))
      .micros("p90", h.percentile(90))
      .micros("p99", h.percentile(99))
      .micros("max", h.max())
      .micros("stddev", h.stddev());
  return o;
}

}  // namespace synscope::cli
