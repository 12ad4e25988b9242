#include "active/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>

#include <fmt/format.h>

namespace synscope::active {

core::result<core::unique_fd> make_listener(const core::socket_address& addr, const listen_options& o,
                                            std::string_view who) {
  int type = SOCK_STREAM | SOCK_CLOEXEC | (o.nonblocking ? SOCK_NONBLOCK : 0);
  core::unique_fd fd(socket(addr.family(), type, 0));
  if (!fd) return core::system_error(std::string(who), "socket", errno);
  int one = 1;
  setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (o.reuseport && setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return core::system_error(std::string(who), "setsockopt(SO_REUSEPORT)", errno);
  }
  if (addr.family() == AF_INET6) setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd.get(), addr.data(), addr.size()) != 0) {
    int err = errno;
    auto e = core::system_error(fmt::format("cannot listen on {}", addr.to_string()), "bind", err);
    if (err == EACCES) e.code = core::exit_code::no_permission;
    return e;
  }
  if (o.defer_accept_s > 0 &&
      setsockopt(fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &o.defer_accept_s, sizeof o.defer_accept_s) != 0) {
    return core::system_error(std::string(who), "setsockopt(TCP_DEFER_ACCEPT)", errno);
  }
  if (o.fastopen_qlen > 0 &&
      setsockopt(fd.get(), IPPROTO_TCP, TCP_FASTOPEN, &o.fastopen_qlen, sizeof o.fastopen_qlen) != 0) {
    return core::system_error(std::string(who), "setsockopt(TCP_FASTOPEN)", errno);
  }
  if (listen(fd.get(), o.backlog) != 0) {
    return core::system_error(fmt::format("{}: listen on {}", who, addr.to_string()), "listen", errno);
  }
  return fd;
}

core::result<core::socket_address> bound_address(int fd, std::string_view who) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);  // NOLINT: the sockets API takes sockaddr*
  if (getsockname(fd, sa, &len) != 0) return core::system_error(std::string(who), "getsockname", errno);
  return core::socket_address(sa, len);
}

}  // namespace synscope::active
