#pragma once
// What the anchor benchmarks share: run a command (stdout to /dev/null) and report its wall
// time and peak memory, as wait4() gives them.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/unique_fd.h"

extern char** environ;

namespace synscope::bench {

struct run_result {
  int status = -1;          ///< exit code, or -1 if it could not start / did not exit normally
  double seconds = 0;
  long max_rss_kib = 0;     ///< peak resident memory of the process
};

inline run_result run(const std::vector<std::string>& args, const char* stdout_to = "/dev/null") {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));  // NOLINT: posix_spawn's signature
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_to, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  run_result r;
  int64_t begin = core::monotonic_ns();
  pid_t pid = -1;
  if (posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return r;
  }
  int status = 0;
  rusage usage{};
  wait4(pid, &status, 0, &usage);
  r.seconds = static_cast<double>(core::monotonic_ns() - begin) / 1e9;
  r.max_rss_kib = usage.ru_maxrss;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  posix_spawn_file_actions_destroy(&actions);
  return r;
}

/// The shortest wall time of `runs` runs of `cmd`; a failing run ends the benchmark (exit 1),
/// naming `who` and the command.
inline double best_of(int runs, const std::vector<std::string>& cmd, const char* who) {
  double best = 1e300;
  for (int i = 0; i < runs; ++i) {
    auto r = run(cmd);
    if (r.status != 0) {
      std::fprintf(stderr, "%s: '%s' failed\n", who, cmd.front().c_str());
      std::exit(1);
    }
    best = std::min(best, r.seconds);
  }
  return best;
}

/// A background process of the benchmark's, ended by its PID (SIGTERM, then waited for).
struct child {
  pid_t pid = -1;
  child(const child&) = delete;
  child& operator=(const child&) = delete;
  explicit child(const std::vector<std::string>& argv, const std::string& log) {
    pid = fork();
    if (pid == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));  // NOLINT: execvp's signature
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~child() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      int status = 0;
      waitpid(pid, &status, 0);
    }
  }
};

inline sockaddr_in loopback_v4(uint32_t host, uint16_t port);

/// True once 127.0.0.1:`port` accepts a connection (in the calling thread's namespace), within
/// 5 s; otherwise says so on stderr.
inline bool wait_for_port(uint16_t port) {
  int err = 0;
  for (int i = 0; i < 100; ++i) {
    core::unique_fd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a = loopback_v4(INADDR_LOOPBACK, port);
    if (connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return true;  // NOLINT
    err = errno;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::fprintf(stderr, "bench: nothing listens on port %u after 5 s (%s)\n", port, std::strerror(err));
  return false;
}

inline sockaddr_in loopback_v4(uint32_t host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(host);
  return a;
}

/// `count` loopback connections that each leave the client side in TIME-WAIT, in the calling
/// thread's network namespace: a listener on 127.0.0.1:`port`, clients bound to
/// 127.0.0.2-127.0.0.51 (so no source port runs short), the client closing first.
inline bool make_time_wait(uint64_t count, uint16_t port) {
  core::unique_fd listener(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  setsockopt(listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in server = loopback_v4(0x7f000001, port);
  if (bind(listener.get(), reinterpret_cast<sockaddr*>(&server), sizeof server) != 0 ||  // NOLINT
      listen(listener.get(), 128) != 0) {
    return false;
  }
  for (uint64_t i = 0; i < count; ++i) {
    core::unique_fd client(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in local = loopback_v4(0x7f000002 + static_cast<uint32_t>(i % 50), 0);
    if (bind(client.get(), reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||         // NOLINT
        connect(client.get(), reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {  // NOLINT
      return false;
    }
    core::unique_fd accepted(accept(listener.get(), nullptr, nullptr));
    client.reset();  // the client closes first: it is the one left in TIME-WAIT
    accepted.reset();
  }
  return true;
}

}  // namespace synscope::bench
