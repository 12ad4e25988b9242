#include "core/process.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace synscope::core {

bool run_program(const std::vector<std::string>& argv, const std::string& input, std::string* err) {
  if (argv.empty()) return false;
  int in[2];
  int errpipe[2];
  if (pipe2(in, O_CLOEXEC) != 0) {
    if (err != nullptr) *err = std::strerror(errno);
    return false;
  }
  if (pipe2(errpipe, O_CLOEXEC) != 0) {
    if (err != nullptr) *err = std::strerror(errno);
    close(in[0]);
    close(in[1]);
    return false;
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execvp's signature
  args.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(errpipe[1], 2);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, 1);
    execvp(args[0], args.data());
    dprintf(2, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(errpipe[1]);
  if (pid < 0) {
    if (err != nullptr) *err = std::strerror(errno);
    close(in[1]);
    close(errpipe[0]);
    return false;
  }
  if (!input.empty()) {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = write(in[1], input.data() + done, input.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // it ended early: its status says why
      done += static_cast<size_t>(n);
    }
  }
  close(in[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = read(errpipe[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);) {
    if (n > 0) text.append(buf, static_cast<size_t>(n));
  }
  close(errpipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (err != nullptr) *err = text.substr(0, text.find('\n'));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace synscope::core
