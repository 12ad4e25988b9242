#pragma once
// What the anchor benchmarks share: run a command (stdout to /dev/null) and report its wall
// time and peak memory, as wait4() gives them.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "core/clock.h"

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

}  // namespace synscope::bench
