#include "core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"

namespace synscope::core {
namespace {

// A write to a pipe whose reader has gone: EPIPE here, not SIGPIPE for the whole process. The
// signal is blocked in this thread only, and a pending one taken back before unblocking.
ssize_t write_without_sigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only;
  sigset_t old;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old);
  ssize_t n = write(fd, data, size);
  int err = errno;
  if (n < 0 && err == EPIPE) {
    timespec zero{0, 0};
    sigtimedwait(&pipe_only, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return n;
}

}  // namespace

program_result run_capture(const std::vector<std::string>& argv, const std::string& input) {
  program_result r;
  if (argv.empty()) return r;
  int in[2];
  int out[2];
  int errpipe[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    r.err = std::strerror(errno);
    return r;
  }
  unique_fd in_read(in[0]);
  unique_fd in_write(in[1]);
  if (pipe2(out, O_CLOEXEC) != 0) {
    r.err = std::strerror(errno);
    return r;
  }
  unique_fd out_read(out[0]);
  unique_fd out_write(out[1]);
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    r.err = std::strerror(errno);
    return r;
  }
  unique_fd err_read(errpipe[0]);
  unique_fd err_write(errpipe[1]);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execvp's signature
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in_read.get(), 0);
    dup2(out_write.get(), 1);
    dup2(err_write.get(), 2);
    execvp(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  in_read.reset();
  out_write.reset();
  err_write.reset();
  if (pid < 0) {
    r.err = std::strerror(errno);
    return r;
  }
  // Feed stdin and drain stdout and stderr together.
  fcntl(in_write.get(), F_SETFL, O_NONBLOCK);
  size_t fed = 0;
  if (input.empty()) in_write.reset();
  std::string err_text;
  while (out_read || err_read) {
    pollfd p[3] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}, {in_write.get(), POLLOUT, 0}};
    if (retry_on_eintr([&] { return poll(p, 3, -1); }) < 0) break;
    char buf[16384];
    for (int i = 0; i < 2; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      unique_fd& fd = i == 0 ? out_read : err_read;
      ssize_t n = core::retry_on_eintr([&] { return read(fd.get(), buf, sizeof buf); });
      if (n <= 0) {
        fd.reset();
        continue;
      }
      (i == 0 ? r.out : err_text).append(buf, static_cast<size_t>(n));
    }
    if (in_write && (p[2].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      ssize_t n = write_without_sigpipe(in_write.get(), input.data() + fed, input.size() - fed);
      if (n > 0) fed += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || fed == input.size()) in_write.reset();  // done, or it ended early
    }
  }
  in_write.reset();
  int status = 0;
  retry_on_eintr([&] { return waitpid(pid, &status, 0); });
  r.err = err_text.substr(0, err_text.find('\n'));
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  return r;
}

bool run_program(const std::vector<std::string>& argv, const std::string& input, std::string* err) {
  program_result r = run_capture(argv, input);
  if (err != nullptr) *err = r.err;
  return r.ok;
}

}  // namespace synscope::core
