#include "active/socket_options.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

namespace synscope::active {
namespace {

core::result<void> set_int(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0) {
    int err = errno;
    auto e = core::system_error(what, "setsockopt", err);
    if (err == EPERM) {
      e.message += " (needs CAP_NET_ADMIN: run as root)";
    }
    return e;
  }
  return {};
}

}  // namespace

core::result<void> reserve_descriptors(int concurrency) {
  rlimit files{};
  rlim_t wanted = static_cast<rlim_t>(concurrency) + 64;  // stdio, epoll, timers, /proc reads
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur >= wanted) return {};
  if (files.rlim_max < wanted) {
    return core::error{core::exit_code::environment,
                       fmt::format("--concurrency {} needs about {} open files, but this process may open only {} "
                                   "(raise the hard limit: ulimit -Hn, or LimitNOFILE= in a systemd unit)",
                                   concurrency, wanted, files.rlim_max)};
  }
  files.rlim_cur = wanted;
  if (setrlimit(RLIMIT_NOFILE, &files) != 0) return core::system_error("--concurrency", "setrlimit(RLIMIT_NOFILE)", errno);
  return {};
}

core::result<void> apply_client_options(int fd, int family, const client_socket_options& options) {
  if (options.nodelay) {
    if (auto r = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "--nodelay"); !r) return r;
  }
  if (options.quickack) {
    if (auto r = set_int(fd, IPPROTO_TCP, TCP_QUICKACK, 1, "--quickack"); !r) return r;
  }
  if (options.tos) {
    bool v6 = family == AF_INET6;
    if (auto r = set_int(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP, v6 ? IPV6_TCLASS : IP_TOS, *options.tos, "--tos"); !r) {
      return r;
    }
  }
  if (options.mark) {
    if (auto r = set_int(fd, SOL_SOCKET, SO_MARK, static_cast<int>(*options.mark), "--mark"); !r) return r;
  }
  if (options.bind) {
    if (options.bind->family() != family) {
      return core::error{core::exit_code::usage,
                         fmt::format("--bind {}: address family differs from the target's", options.bind->to_string())};
    }
    if (options.bind->port() == 0) {
      // Pick the port at connect() time, per 4-tuple, instead of reserving one at bind().
      (void)set_int(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1, "--bind");
    }
    if (bind(fd, options.bind->data(), options.bind->size()) != 0) {
      return core::system_error(fmt::format("--bind {}", options.bind->to_string()), "bind", errno);
    }
  }
  return {};
}

std::optional<uint32_t> read_client_isn(int fd, uint32_t bytes_written) noexcept {
  int on = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &on, sizeof on) != 0) return std::nullopt;
  int queue = TCP_SEND_QUEUE;
  uint32_t seq = 0;
  socklen_t len = sizeof seq;
  bool read = setsockopt(fd, IPPROTO_TCP, TCP_REPAIR_QUEUE, &queue, sizeof queue) == 0 &&
              getsockopt(fd, IPPROTO_TCP, TCP_QUEUE_SEQ, &seq, &len) == 0;
  // TCP_REPAIR_OFF_NO_WP (-1): leave repair mode without the window probe TCP_REPAIR_OFF sends.
  int off = -1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof off) != 0) {
    off = 0;  // kernels before 4.16 know only 0
    (void)setsockopt(fd, IPPROTO_TCP, TCP_REPAIR, &off, sizeof off);
  }
  if (!read) return std::nullopt;
  return seq - 1 - bytes_written;
}

void set_linger_zero(int fd) noexcept {
  linger lg{1, 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

}  // namespace synscope::active
