#include "kernel/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "core/unique_fd.h"

namespace synscope::kernel {

core::result<void> enter_netns(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return core::error{core::exit_code::usage,
                       fmt::format("--netns '{}': not a namespace name (see 'ip netns list')", core::printable(name))};
  }
  std::string path = "/run/netns/" + name;
  core::unique_fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return core::error{core::exit_code::usage,
                         fmt::format("--netns '{}': no such network namespace (see 'ip netns list')", core::printable(name))};
    }
    return core::system_error(fmt::format("--netns '{}'", core::printable(name)), "open " + path, errno);
  }
  if (setns(fd.get(), CLONE_NEWNET) != 0) {
    int err = errno;
    auto e = core::system_error(fmt::format("--netns '{}'", core::printable(name)), "setns", err);
    if (err == EPERM) e.code = core::exit_code::no_permission;
    return e;
  }
  return {};
}

bool in_initial_netns() {
  constexpr ino_t init_net_inode = 0xEFFFFFF9U;  // PROC_NET_INIT_INO
  struct stat st {};
  if (stat("/proc/thread-self/ns/net", &st) == 0 && st.st_ino == init_net_inode) return true;
  return access("/proc/sys/net/core/netdev_max_backlog", F_OK) == 0;
}

}  // namespace synscope::kernel

namespace synscope::kernel {

uint32_t current_netns_inode() {
  struct stat st{};
  if (stat("/proc/thread-self/ns/net", &st) != 0) return 0;
  return static_cast<uint32_t>(st.st_ino);
}

}  // namespace synscope::kernel
