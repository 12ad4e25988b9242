#include "active/connector.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "core/clock.h"

namespace synscope::active {

const char* tfo_use_name(tfo_use t) {
  switch (t) {
    case tfo_use::off: return "off";
    case tfo_use::cookie_requested: return "cookie_requested";
    case tfo_use::data_in_syn: return "data_in_syn";
    case tfo_use::client_disabled: return "client_disabled";
  }
  return "off";
}

bool handshake::end(int err, int64_t now_ns) {
  error_ = err;
  end_ns_ = now_ns;
  done_ = true;
  return true;
}

bool handshake::start(const core::socket_address& target, const connect_options& o) {
  *this = handshake();
  fd_.reset(socket(target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!fd_) {
    start_ns_ = core::monotonic_ns();
    return end(errno, start_ns_);
  }
  if (auto r = apply_client_options(fd_.get(), target.family(), o.socket); !r) {
    // Options were validated before the run; a failure here is the system's (EPERM, ...).
    start_ns_ = core::monotonic_ns();
    return end(errno != 0 ? errno : EINVAL, start_ns_);
  }
  if (o.source != nullptr) {
    int one = 1;
    setsockopt(fd_.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd_.get(), o.source->data(), o.source->size()) != 0) {
      start_ns_ = core::monotonic_ns();
      return end(errno, start_ns_);
    }
  }
  start_ns_ = core::monotonic_ns();
  bool pending = false;
  if (o.fastopen) {
    // With a cached cookie the data rides on the SYN and sendto() returns its length; without
    // one the SYN carries a cookie request and sendto() fails with EINPROGRESS.
    ssize_t n = sendto(fd_.get(), o.data.data(), o.data.size(), MSG_FASTOPEN | MSG_NOSIGNAL, target.data(), target.size());
    if (n >= 0) {
      tfo_ = tfo_use::data_in_syn;
      syn_data_bytes_ = static_cast<size_t>(n);
      pending = true;
    } else if (errno == EINPROGRESS) {
      tfo_ = tfo_use::cookie_requested;
      pending = true;
    } else if (errno != EOPNOTSUPP) {
      return end(errno, core::monotonic_ns());
    } else {
      tfo_ = tfo_use::client_disabled;  // then a plain connect, timed from here
      start_ns_ = core::monotonic_ns();
    }
  }
  if (!pending) {
    if (connect(fd_.get(), target.data(), target.size()) == 0) return end(0, core::monotonic_ns());
    if (errno != EINPROGRESS) return end(errno, core::monotonic_ns());
  }
  // Loopback and very near peers often finish the handshake inside connect(): one zero-timeout
  // poll then ends it without a round trip through the caller's loop.
  pollfd p{fd_.get(), POLLOUT, 0};
  if (poll(&p, 1, 0) == 1) {
    complete(core::monotonic_ns());
    return true;
  }
  return false;
}

void handshake::complete(int64_t now_ns) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  end(err, now_ns);
}

void handshake::fail(int err, int64_t now_ns) { end(err, now_ns); }

kernel::tcp_info_view handshake::kernel_view() const {
  return fd_ ? kernel::read_tcp_info(fd_.get()) : kernel::tcp_info_view{};
}

}  // namespace synscope::active
